"""disclosure ledger

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "disclosure_batches",
        sa.Column("id", _BIGINT, autoincrement=False, nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=False),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.Column("app_id", sa.BigInteger(), nullable=False),
        sa.Column("api_version", sa.String(length=8), nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure_batches")),
        sa.UniqueConstraint("first_seq", name=op.f("uq_disclosure_batches_first_seq")),
    )
    with op.batch_alter_table("disclosure_batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disclosure_batches_at_us"), ["at_us"], unique=False)
        batch_op.create_index(batch_op.f("ix_disclosure_batches_app_id"), ["app_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_disclosure_batches_owner_id"), ["owner_id"], unique=False
        )

    op.create_table(
        "disclosures",
        sa.Column("seq", _BIGINT, autoincrement=False, nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("rule_id", sa.String(length=128), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_disclosures")),
    )
    state = op.create_table(
        "ledger_state",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("next_seq", sa.BigInteger(), nullable=False),
        sa.Column("next_batch_id", sa.BigInteger(), nullable=False),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        sa.Column("last_head_size", sa.BigInteger(), nullable=False),
        sa.Column("last_head_at_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_state")),
    )
    op.create_table(
        "signed_tree_heads",
        sa.Column("tree_size", _BIGINT, autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("timestamp_us", sa.BigInteger(), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_signed_tree_heads")),
    )
    op.create_table(
        "ledger_subtrees",
        sa.Column("index", _BIGINT, autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("index", name=op.f("pk_ledger_subtrees")),
    )
    # the one state row every append locks; an empty tree with no head yet
    op.bulk_insert(
        state,
        [
            {
                "id": 1,
                "next_seq": 0,
                "next_batch_id": 1,
                "frontier": b"",
                "last_head_size": 0,
                "last_head_at_us": 0,
            }
        ],
    )


def downgrade() -> None:
    op.drop_table("ledger_subtrees")
    op.drop_table("signed_tree_heads")
    op.drop_table("ledger_state")
    op.drop_table("disclosures")
    with op.batch_alter_table("disclosure_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disclosure_batches_owner_id"))
        batch_op.drop_index(batch_op.f("ix_disclosure_batches_app_id"))
        batch_op.drop_index(batch_op.f("ix_disclosure_batches_at_us"))
    op.drop_table("disclosure_batches")
