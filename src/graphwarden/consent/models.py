"""Tables of the developer platform: apps, a person's authorization of an app, access tokens,
and app-scoped ids.

Permission sets are stored as sorted, comma-separated names: small, readable in the database,
and compared as sets in code.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from graphwarden.core.db import Base


class App(Base):
    __tablename__ = "apps"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: argon2 hash of the app secret; the secret itself is shown once
    secret_hash: Mapped[str] = mapped_column(String(200))
    #: HMAC key for app-scoped ids and signed requests' sibling uses (random, per app)
    scoping_key: Mapped[str] = mapped_column(String(64))
    api_version: Mapped[str] = mapped_column(String(8))
    #: development | live
    mode: Mapped[str] = mapped_column(String(16), default="live")
    #: active | suspended | deleted
    status: Mapped[str] = mapped_column(String(16), default="active")
    requested_permissions: Mapped[str] = mapped_column(Text, default="public_profile")
    #: permissions an admin approved in App Review
    approved_permissions: Mapped[str] = mapped_column(Text, default="")
    redirect_uris: Mapped[str] = mapped_column(Text, default="")  # newline-separated
    privacy_policy_url: Mapped[str | None] = mapped_column(String(500))
    deletion_callback_url: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Authorization(Base):
    """A person's standing consent to an app: what they granted and what they declined."""

    __tablename__ = "authorizations"

    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    granted: Mapped[str] = mapped_column(Text, default="public_profile")
    declined: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: last time the person used (engaged) the app; data access lapses 90 days after (v3.0)
    last_used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: set when the person removed the app; a removed authorization grants nothing
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AccessToken(Base):
    __tablename__ = "access_tokens"
    __table_args__ = (Index("ix_access_tokens_app_person", "app_id", "person_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    #: SHA-256 (hex) of the opaque token; the token itself is never stored
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    #: the scope the token was issued with (a subset of the authorization's grants)
    scope: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: who issued it: "oauth" or "cli:<operator>" for developer-issued test tokens
    issued_by: Mapped[str] = mapped_column(String(200))
    #: OAuth: the authorization code or refresh family this token came from (for revocation)
    family: Mapped[str | None] = mapped_column(String(64), index=True)


class AppScopedId(Base):
    """The id an app knows a person by (v2.0+). Created only when the app is given it."""

    __tablename__ = "app_scoped_ids"
    __table_args__ = (UniqueConstraint("app_id", "person_id", name="uq_app_scoped_person"),)

    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), primary_key=True)
    scoped_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))


__all__ = ["AccessToken", "App", "AppScopedId", "Authorization"]
