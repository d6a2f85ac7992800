"""Storage of authorization codes and refresh tokens (hash only), and family revocation.

A *family* is everything descended from one authorization code: the access and refresh
tokens it was exchanged for and every rotation of that refresh token. Replaying a used code
or a rotated refresh token is evidence of theft, so the whole family is revoked
(RFC 6749 §4.1.2 and §10.4, RFC 9700 §4.14.2).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from graphwarden.consent.models import AccessToken
from graphwarden.consent.oauth_models import AuthorizationCode, RefreshToken
from graphwarden.core.clock import Clock, as_utc
from graphwarden.core.db import transaction
from graphwarden.core.types import AppId, PersonId

#: RFC 6749 §4.1.2 recommends at most ten minutes
CODE_TTL = timedelta(minutes=10)
REFRESH_TTL = timedelta(days=60)


def token_hash(value: str) -> str:
    """SHA-256 (hex) of a code or token: what the database keeps instead of it."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def new_secret_token() -> str:
    """An opaque, unguessable token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def new_family() -> str:
    return secrets.token_hex(16)


@dataclass(frozen=True, slots=True)
class StoredCode:
    app_id: AppId
    person_id: PersonId
    redirect_uri: str
    scope: str
    code_challenge: str
    code_challenge_method: str
    family: str


@dataclass(frozen=True, slots=True)
class StoredRefresh:
    id: int
    app_id: AppId
    person_id: PersonId
    scope: str
    family: str
    issued_at: datetime
    expires_at: datetime
    rotated_at: datetime | None
    revoked_at: datetime | None

    def active(self, now: datetime) -> bool:
        return self.rotated_at is None and self.revoked_at is None and now < self.expires_at


class OAuthStore:
    """Codes, refresh tokens and families over the relational store."""

    def __init__(self, factory: sessionmaker[Session], clock: Clock) -> None:
        self._factory = factory
        self._clock = clock

    # --- authorization codes ---------------------------------------------------------------

    def save_code(
        self,
        code: str,
        *,
        app: AppId,
        person: PersonId,
        redirect_uri: str,
        scope: str,
        code_challenge: str,
        code_challenge_method: str,
        family: str,
    ) -> None:
        now = self._clock.now()
        with transaction(self._factory) as session:
            session.add(
                AuthorizationCode(
                    code_hash=token_hash(code),
                    app_id=int(app),
                    person_id=int(person),
                    redirect_uri=redirect_uri,
                    scope=scope,
                    code_challenge=code_challenge,
                    code_challenge_method=code_challenge_method,
                    family=family,
                    issued_at=now,
                    expires_at=now + CODE_TTL,
                )
            )

    def redeem_code(self, code: str, app: AppId) -> StoredCode | None:
        """Claim ``code`` for ``app`` exactly once.

        The claim is one conditional UPDATE, so two concurrent redemptions cannot both win.
        A code presented again after its first redemption revokes its family and answers
        None; so do unknown, expired and other apps' codes (without revoking anything).
        """
        now = self._clock.now()
        digest = token_hash(code)
        with transaction(self._factory) as session:
            row = session.scalar(
                select(AuthorizationCode).where(AuthorizationCode.code_hash == digest)
            )
            if row is None or row.app_id != int(app):
                return None
            if row.used_at is not None:
                self._revoke_family(session, row.family, now)
                return None
            claimed = session.execute(
                update(AuthorizationCode)
                .where(AuthorizationCode.id == row.id, AuthorizationCode.used_at.is_(None))
                .values(used_at=now)
            ).rowcount
            if claimed != 1:  # another request redeemed it a moment ago: that is reuse too
                self._revoke_family(session, row.family, now)
                return None
            if now >= as_utc(row.expires_at):
                return None
            return StoredCode(
                app_id=AppId(row.app_id),
                person_id=PersonId(row.person_id),
                redirect_uri=row.redirect_uri,
                scope=row.scope,
                code_challenge=row.code_challenge,
                code_challenge_method=row.code_challenge_method,
                family=row.family,
            )

    # --- refresh tokens --------------------------------------------------------------------

    def save_refresh(
        self, token: str, *, app: AppId, person: PersonId, scope: str, family: str
    ) -> None:
        now = self._clock.now()
        with transaction(self._factory) as session:
            session.add(
                RefreshToken(
                    token_hash=token_hash(token),
                    app_id=int(app),
                    person_id=int(person),
                    scope=scope,
                    family=family,
                    issued_at=now,
                    expires_at=now + REFRESH_TTL,
                )
            )

    def find_refresh(self, token: str) -> StoredRefresh | None:
        """The refresh token ``token`` in whatever state it is, or None if unknown."""
        with self._factory() as session:
            row = session.scalar(
                select(RefreshToken).where(RefreshToken.token_hash == token_hash(token))
            )
            return _stored_refresh(row) if row is not None else None

    def rotate_refresh(self, token: str, app: AppId) -> StoredRefresh | None:
        """Spend ``token`` (one use) for ``app``; the caller issues the next pair.

        A token already rotated is reuse: its family is revoked and None returned. Unknown,
        revoked, expired and other apps' tokens answer None.
        """
        now = self._clock.now()
        with transaction(self._factory) as session:
            row = session.scalar(
                select(RefreshToken).where(RefreshToken.token_hash == token_hash(token))
            )
            if row is None or row.app_id != int(app) or row.revoked_at is not None:
                return None
            if row.rotated_at is not None:
                self._revoke_family(session, row.family, now)
                return None
            if now >= as_utc(row.expires_at):
                return None
            claimed = session.execute(
                update(RefreshToken)
                .where(RefreshToken.id == row.id, RefreshToken.rotated_at.is_(None))
                .values(rotated_at=now)
            ).rowcount
            if claimed != 1:
                self._revoke_family(session, row.family, now)
                return None
            session.refresh(row)
            return _stored_refresh(row)

    def revoke_refresh(self, token: str) -> None:
        """Revoke a refresh token and the access tokens of its family (RFC 7009 §2.1)."""
        now = self._clock.now()
        with transaction(self._factory) as session:
            row = session.scalar(
                select(RefreshToken).where(RefreshToken.token_hash == token_hash(token))
            )
            if row is not None:
                self._revoke_family(session, row.family, now)

    def revoke_family(self, family: str) -> None:
        """Revoke every access and refresh token descended from one authorization code."""
        with transaction(self._factory) as session:
            self._revoke_family(session, family, self._clock.now())

    def revoke_app_person(self, app: AppId, person: PersonId) -> None:
        """Revoke the refresh tokens ``person`` holds for ``app`` (the person removed it)."""
        now = self._clock.now()
        with transaction(self._factory) as session:
            session.execute(
                update(RefreshToken)
                .where(
                    RefreshToken.app_id == int(app),
                    RefreshToken.person_id == int(person),
                    RefreshToken.revoked_at.is_(None),
                )
                .values(revoked_at=now)
            )

    @staticmethod
    def _revoke_family(session: Session, family: str, now: datetime) -> None:
        session.execute(
            update(RefreshToken)
            .where(RefreshToken.family == family, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        session.execute(
            update(AccessToken)
            .where(AccessToken.family == family, AccessToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )


def _stored_refresh(row: RefreshToken) -> StoredRefresh:
    return StoredRefresh(
        id=row.id,
        app_id=AppId(row.app_id),
        person_id=PersonId(row.person_id),
        scope=row.scope,
        family=row.family,
        issued_at=as_utc(row.issued_at),
        expires_at=as_utc(row.expires_at),
        rotated_at=as_utc(row.rotated_at) if row.rotated_at is not None else None,
        revoked_at=as_utc(row.revoked_at) if row.revoked_at is not None else None,
    )


__all__ = [
    "CODE_TTL",
    "REFRESH_TTL",
    "OAuthStore",
    "StoredCode",
    "StoredRefresh",
    "new_family",
    "new_secret_token",
    "token_hash",
]
