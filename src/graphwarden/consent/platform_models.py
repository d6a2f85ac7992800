"""Tables of the platform controls: app roles, App Review requests and their decisions, the
admin action log, per-app deletion-callback signing keys and deletion-callback deliveries.

The admin action log keeps a copy of its target's label (an app's name, a person's name) and
no foreign key, so an entry outlives the thing it describes.
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
)
from sqlalchemy.orm import Mapped, mapped_column

from graphwarden.core.db import Base

_ID = BigInteger().with_variant(Integer, "sqlite")


class AppRole(Base):
    """A person's role on an app: ``admin``, ``developer`` or ``tester`` (one per person)."""

    __tablename__ = "app_roles"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'developer', 'tester')", name="known_role"),
    )

    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    granted_by: Mapped[str] = mapped_column(String(200), default="")
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReviewRequest(Base):
    """An app's request to be allowed permissions that need App Review, and its decision."""

    __tablename__ = "review_requests"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="known_status"),
        Index("ix_review_requests_status", "status", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    #: sorted, comma-separated permission names
    permissions: Mapped[str] = mapped_column(Text)
    #: what the app says it will do with the data
    stated_use: Mapped[str] = mapped_column(Text)
    submitted_by: Mapped[str] = mapped_column(String(200))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)


class AdminAction(Base):
    """One admin decision: who, what, on which target (label copied), why."""

    __tablename__ = "admin_actions"
    __table_args__ = (Index("ix_admin_actions_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    #: the admin's name (an operator, or a person's name with their id)
    admin: Mapped[str] = mapped_column(String(200))
    #: a tag with a grammar ``<object>:<verb>``, e.g. ``review:approve``, ``app:role:grant``
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(64))
    #: a copy of the target's label at the time, so the entry survives the target's deletion
    target_label: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(Text, default="")
    #: JSON object with the decision's particulars (permissions, old and new values)
    detail: Mapped[str] = mapped_column(Text, default="{}")


class AppSigningKey(Base):
    """The key an app's deletion callbacks are signed with (HMAC-SHA256).

    Stored encrypted (Fernet) under the platform's master key; shown to the developer with
    the app secret, and re-shown only by rotating it.
    """

    __tablename__ = "app_signing_keys"

    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), primary_key=True)
    key_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DeletionDelivery(Base):
    """A data-deletion callback owed to an app after a person removed it."""

    __tablename__ = "deletion_deliveries"
    __table_args__ = (
        CheckConstraint(
            "outcome IN ('pending', 'delivered', 'failed', 'no_callback')", name="known_outcome"
        ),
        Index("ix_deletion_deliveries_due", "outcome", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    #: the id the app knows the person by (app-scoped for v2.0+)
    user_id: Mapped[str] = mapped_column(String(64))
    callback_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: pending | delivered | failed (attempts exhausted) | no_callback (the app gave no URL)
    outcome: Mapped[str] = mapped_column(String(16), default="pending")
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: what the app answered: its confirmation code and status URL, when it sent them
    confirmation_code: Mapped[str | None] = mapped_column(String(200))
    status_url: Mapped[str | None] = mapped_column(String(500))


__all__ = [
    "AdminAction",
    "AppRole",
    "AppSigningKey",
    "DeletionDelivery",
    "ReviewRequest",
]
