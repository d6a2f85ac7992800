"""Tables of the OAuth 2.0 authorization server and of sign-in.

Codes and refresh tokens are stored only as SHA-256 hashes: a copy of the database does not
hand out working credentials. Every code starts a *family* (a random id); the access and
refresh tokens issued from it, and from each rotation of its refresh token, carry that family
so that a replayed code or refresh token can revoke everything descended from it
(RFC 6749 §4.1.2, RFC 9700 §4.14.2). Web sessions are signed cookies and are not stored.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from graphwarden.core.db import Base

_ID = BigInteger().with_variant(Integer, "sqlite")


class AuthorizationCode(Base):
    """An authorization code: one use, ten minutes, bound to app, redirect URI and PKCE."""

    __tablename__ = "oauth_codes"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    #: SHA-256 (hex) of the code
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(8))
    family: Mapped[str] = mapped_column(String(64), index=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: set on first redemption; a second redemption revokes the family
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RefreshToken(Base):
    """A refresh token. Rotated on use; reuse of a rotated one revokes its family."""

    __tablename__ = "oauth_refresh_tokens"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(Text)
    family: Mapped[str] = mapped_column(String(64), index=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: set when exchanged for a new pair; presenting it again is reuse
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PersonCredential(Base):
    """A person's password, as an argon2id hash."""

    __tablename__ = "person_credentials"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    password_hash: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PlatformAdmin(Base):
    """An operator of the platform who signs in to the admin pages (App Review, audits)."""

    __tablename__ = "platform_admins"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


__all__ = ["AuthorizationCode", "PersonCredential", "PlatformAdmin", "RefreshToken"]
