"""social graph and developer platform

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "apps",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("secret_hash", sa.String(length=200), nullable=False),
        sa.Column("scoping_key", sa.String(length=64), nullable=False),
        sa.Column("api_version", sa.String(length=8), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_permissions", sa.Text(), nullable=False),
        sa.Column("approved_permissions", sa.Text(), nullable=False),
        sa.Column("redirect_uris", sa.Text(), nullable=False),
        sa.Column("privacy_policy_url", sa.String(length=500), nullable=True),
        sa.Column("deletion_callback_url", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apps")),
    )
    op.create_table(
        "pages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pages")),
    )
    op.create_table(
        "people",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("gender", sa.String(length=20), nullable=False),
        sa.Column("birthday", sa.String(length=10), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("hometown", sa.String(length=200), nullable=True),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("relationship_status", sa.String(length=40), nullable=True),
        sa.Column("religion", sa.String(length=100), nullable=True),
        sa.Column("political", sa.String(length=100), nullable=True),
        sa.Column("education", sa.String(length=200), nullable=True),
        sa.Column("work", sa.String(length=200), nullable=True),
        sa.Column("platform_enabled", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_people_country"), ["country"], unique=False)

    op.create_table(
        "access_tokens",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("app_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("issued_by", sa.String(length=200), nullable=False),
        sa.Column("family", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name=op.f("fk_access_tokens_app_id_apps"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_access_tokens_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_access_tokens_token_hash")),
    )
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_access_tokens_app_person", ["app_id", "person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_tokens_family"), ["family"], unique=False)

    op.create_table(
        "app_scoped_ids",
        sa.Column("app_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("scoped_id", sa.String(length=32), nullable=False),
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name=op.f("fk_app_scoped_ids_app_id_apps"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_app_scoped_ids_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("app_id", "scoped_id", name=op.f("pk_app_scoped_ids")),
        sa.UniqueConstraint("app_id", "person_id", name="uq_app_scoped_person"),
    )
    op.create_table(
        "apps_others_use",
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("birthday", sa.Boolean(), nullable=False),
        sa.Column("hometown", sa.Boolean(), nullable=False),
        sa.Column("location", sa.Boolean(), nullable=False),
        sa.Column("relationships", sa.Boolean(), nullable=False),
        sa.Column("religion_politics", sa.Boolean(), nullable=False),
        sa.Column("education", sa.Boolean(), nullable=False),
        sa.Column("work", sa.Boolean(), nullable=False),
        sa.Column("likes", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_apps_others_use_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_apps_others_use")),
    )
    op.create_table(
        "authorizations",
        sa.Column("app_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("granted", sa.Text(), nullable=False),
        sa.Column("declined", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name=op.f("fk_authorizations_app_id_apps"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_authorizations_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("app_id", "person_id", name=op.f("pk_authorizations")),
    )
    with op.batch_alter_table("authorizations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_authorizations_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "field_audiences",
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.SmallInteger(), nullable=False),
        sa.Column("first_name", sa.SmallInteger(), nullable=False),
        sa.Column("last_name", sa.SmallInteger(), nullable=False),
        sa.Column("gender", sa.SmallInteger(), nullable=False),
        sa.Column("picture", sa.SmallInteger(), nullable=False),
        sa.Column("email", sa.SmallInteger(), nullable=False),
        sa.Column("phone", sa.SmallInteger(), nullable=False),
        sa.Column("birthday", sa.SmallInteger(), nullable=False),
        sa.Column("hometown", sa.SmallInteger(), nullable=False),
        sa.Column("location", sa.SmallInteger(), nullable=False),
        sa.Column("country", sa.SmallInteger(), nullable=False),
        sa.Column("relationship_status", sa.SmallInteger(), nullable=False),
        sa.Column("religion", sa.SmallInteger(), nullable=False),
        sa.Column("political", sa.SmallInteger(), nullable=False),
        sa.Column("education", sa.SmallInteger(), nullable=False),
        sa.Column("work", sa.SmallInteger(), nullable=False),
        sa.Column("likes", sa.SmallInteger(), nullable=False),
        sa.Column("friends", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_field_audiences_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_field_audiences")),
    )
    op.create_table(
        "friendships",
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "friend_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.CheckConstraint("person_id <> friend_id", name=op.f("ck_friendships_not_self")),
        sa.ForeignKeyConstraint(
            ["friend_id"],
            ["people.id"],
            name=op.f("fk_friendships_friend_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_friendships_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", "friend_id", name=op.f("pk_friendships")),
        # both directions are stored: the primary key serves every read, no friend_id index
        sqlite_with_rowid=False,
    )

    op.create_table(
        "likes",
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("page_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["page_id"], ["pages.id"], name=op.f("fk_likes_page_id_pages"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_likes_person_id_people"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("person_id", "page_id", name=op.f("pk_likes")),
    )
    with op.batch_alter_table("likes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_likes_page_id"), ["page_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("likes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_likes_page_id"))

    op.drop_table("likes")
    op.drop_table("friendships")
    op.drop_table("field_audiences")
    with op.batch_alter_table("authorizations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_authorizations_person_id"))

    op.drop_table("authorizations")
    op.drop_table("apps_others_use")
    op.drop_table("app_scoped_ids")
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_tokens_family"))
        batch_op.drop_index("ix_access_tokens_app_person")

    op.drop_table("access_tokens")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_country"))

    op.drop_table("people")
    op.drop_table("pages")
    op.drop_table("apps")
