"""Tables of the social graph.

A friendship is undirected and stored as two directed rows ``(person_id, friend_id)`` and
``(friend_id, person_id)`` so that "friends of X" is one range scan of the primary key; the
store writes both or neither. Because both directions are stored, ``friend_id`` needs no index
of its own (who lists X is the same set as X's friends). On SQLite the table is
``WITHOUT ROWID``: the primary key is the table, so rows cost one B-tree, not two.

Audiences and "apps others use" switches are one row per person, one column per field /
category, named after it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Table,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from graphwarden.core.db import Base
from graphwarden.graph.fields import AUDIENCE_FIELDS, FIELD_BY_NAME, AppsOthersUse


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    gender: Mapped[str] = mapped_column(String(20))
    birthday: Mapped[str | None] = mapped_column(String(10))  # ISO date, MM/DD/YYYY on the wire
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    hometown: Mapped[str | None] = mapped_column(String(200))
    location: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    relationship_status: Mapped[str | None] = mapped_column(String(40))
    religion: Mapped[str | None] = mapped_column(String(100))
    political: Mapped[str | None] = mapped_column(String(100))
    education: Mapped[str | None] = mapped_column(String(200))
    work: Mapped[str | None] = mapped_column(String(200))
    #: the person turned the platform (all apps) off
    platform_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Friendship(Base):
    __tablename__ = "friendships"
    __table_args__ = (
        CheckConstraint("person_id <> friend_id", name="not_self"),
        {"sqlite_with_rowid": False},
    )

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    friend_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )


class Page(Base):
    __tablename__ = "pages"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(100))


class Like(Base):
    __tablename__ = "likes"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    page_id: Mapped[int] = mapped_column(
        ForeignKey("pages.id", ondelete="CASCADE"), primary_key=True, index=True
    )


def _audience_columns() -> list[Column[int]]:
    return [
        Column(
            name,
            SmallInteger,
            nullable=False,
            default=int(FIELD_BY_NAME[name].default_audience),
        )
        for name in AUDIENCE_FIELDS
    ]


#: one row per person; column ``<field>`` holds the field's :class:`Audience`
field_audiences = Table(
    "field_audiences",
    Base.metadata,
    Column("person_id", ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    *_audience_columns(),
)

#: one row per person; column ``<category>`` is True when friends may bring it into apps
apps_others_use = Table(
    "apps_others_use",
    Base.metadata,
    Column("person_id", ForeignKey("people.id", ondelete="CASCADE"), primary_key=True),
    *[Column(c.label, Boolean, nullable=False, default=True) for c in AppsOthersUse],
)

__all__ = ["Friendship", "Like", "Page", "Person", "apps_others_use", "field_audiences"]
