"""Tables of incident response: an incident about one app, and the notices owed to the people
it affected.

An incident keeps its lifecycle (``opened`` → ``notified`` → ``closed``), the tree head it was
computed at and the figures themselves (JSON), so its page shows what the investigator saw
when it was opened. A notice is unique per (incident, person): notifying twice adds nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from graphwarden.core.db import Base

_ID = BigInteger().with_variant(Integer, "sqlite")


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint("status IN ('opened', 'notified', 'closed')", name="known_status"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    #: the app's name when the incident was opened (kept if the app is deleted)
    app_name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="opened")
    opened_by: Mapped[str] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text, default="")
    #: the signed tree head the figures were computed at
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[str] = mapped_column(String(64))
    #: the blast radius (``BlastRadius.to_json``) and potential exposure, as JSON
    blast_radius: Mapped[str] = mapped_column(Text)
    potential: Mapped[str] = mapped_column(Text, default="{}")


class Notice(Base):
    """What one person is told about one incident, until they dismiss it."""

    __tablename__ = "notices"
    __table_args__ = (
        UniqueConstraint("incident_id", "person_id", name="uq_notices_incident_person"),
        Index("ix_notices_person_open", "person_id", "dismissed_at"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    app_id: Mapped[int] = mapped_column(_ID)
    app_name: Mapped[str] = mapped_column(String(200))
    #: the person's own fields that left, comma-separated
    fields: Mapped[str] = mapped_column(Text)
    first_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: whose authorization carried it: token owners' ids, comma-separated (theirs included
    #: when they used the app themselves)
    via: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    dismissed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


__all__ = ["Incident", "Notice"]
