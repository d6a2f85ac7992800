"""Sign-in: people's passwords and platform admins, as argon2id hashes.

Every check takes about the same time whether or not the account exists (an unknown name is
checked against a dummy hash), so response time does not reveal who has an account.

Demo sign-in (``demo_login=True``, from ``GRAPHWARDEN_DEMO_LOGIN=1``; off by default): a
synthetic person without a stored password signs in with ``demo-<id>``, compared in constant
time. It lets a generated population of millions sign in without hashing a password for each
of them at populate time. A person who has a real password never signs in with the demo one.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from graphwarden.consent.oauth_models import PersonCredential, PlatformAdmin
from graphwarden.consent.sessions import revoke_account
from graphwarden.core.clock import Clock, SystemClock
from graphwarden.core.db import transaction
from graphwarden.core.errors import (
    AuthError,
    IntegrityViolation,
    InvalidInput,
    NotFound,
    StoreError,
)
from graphwarden.core.types import PersonId
from graphwarden.graph.models import Person

#: shortest password accepted for a real credential
MIN_PASSWORD_LENGTH = 10
_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,100}$")
_BAD_SIGN_IN = "wrong account or password"


@dataclass(frozen=True, slots=True)
class AdminInfo:
    id: int
    username: str


class AccountService:
    """Passwords of people and platform admins over the relational store."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        clock: Clock | None = None,
        demo_login: bool = False,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self._factory = factory
        self._clock = clock or SystemClock()
        self._demo_login = demo_login
        # OWASP's argon2id baseline (19 MiB, 2 passes), as for app secrets
        self._hasher = hasher or PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
        # checked when the account does not exist, so that the miss costs what a hit costs
        self._dummy_hash = self._hasher.hash("graphwarden-no-such-account")

    @property
    def demo_login(self) -> bool:
        return self._demo_login

    # --- people ---------------------------------------------------------------------------

    def set_password(self, person: PersonId, password: str) -> None:
        """Store ``person``'s password as an argon2id hash (replacing any earlier one); every
        session they signed in before ends."""
        _check_password(password)
        hashed = self._hasher.hash(password)
        with transaction(self._factory) as session:
            if session.get(Person, int(person)) is None:
                raise NotFound(f"no person {int(person)}")
            row = session.get(PersonCredential, int(person))
            if row is None:
                session.add(
                    PersonCredential(
                        person_id=int(person), password_hash=hashed, updated_at=self._clock.now()
                    )
                )
            else:
                row.password_hash = hashed
                row.updated_at = self._clock.now()
            # a new password ends every session signed in with the old one
            revoke_account(session, f"person:{int(person)}")

    def authenticate_person(self, identifier: str, password: str) -> PersonId:
        """The person whose id or email is ``identifier`` if ``password`` is theirs.

        Raises ``AuthError`` (one message for every failure) otherwise.
        """
        identifier = identifier.strip()
        with self._factory() as session:
            person_id = _find_person(session, identifier)
            stored = session.get(PersonCredential, person_id) if person_id is not None else None
            stored_hash = stored.password_hash if stored is not None else None
        if person_id is not None and stored_hash is not None:
            if self._verify(stored_hash, password):
                return PersonId(person_id)
            raise AuthError(_BAD_SIGN_IN)
        if person_id is not None and self._demo_login:
            expected = f"demo-{person_id}"
            if hmac.compare_digest(expected.encode(), password.encode()):
                return PersonId(person_id)
            raise AuthError(_BAD_SIGN_IN)
        self._verify(self._dummy_hash, password)
        raise AuthError(_BAD_SIGN_IN)

    # --- platform admins -------------------------------------------------------------------

    def create_admin(self, username: str, password: str, *, created_by: str = "") -> AdminInfo:
        """Create a platform admin; the username is unique."""
        if not _USERNAME.match(username):
            raise InvalidInput("an admin username is 3-100 letters, digits, '_', '.' or '-'")
        _check_password(password)
        hashed = self._hasher.hash(password)
        try:
            with transaction(self._factory) as session:
                row = PlatformAdmin(
                    username=username,
                    password_hash=hashed,
                    created_by=created_by,
                    created_at=self._clock.now(),
                )
                session.add(row)
                session.flush()
                return AdminInfo(id=row.id, username=row.username)
        except StoreError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                raise IntegrityViolation(f"an admin named {username!r} already exists") from exc
            raise

    def authenticate_admin(self, username: str, password: str) -> AdminInfo:
        """The admin ``username`` if ``password`` is theirs and they are not disabled."""
        with self._factory() as session:
            row = session.scalar(
                select(PlatformAdmin).where(PlatformAdmin.username == username.strip())
            )
            found = (
                (row.id, row.username, row.password_hash)
                if row is not None and row.disabled_at is None
                else None
            )
        if found is None:
            self._verify(self._dummy_hash, password)
            raise AuthError(_BAD_SIGN_IN)
        if not self._verify(found[2], password):
            raise AuthError(_BAD_SIGN_IN)
        return AdminInfo(id=found[0], username=found[1])

    def get_admin(self, admin_id: int) -> AdminInfo | None:
        """The admin with ``admin_id`` unless absent or disabled."""
        with self._factory() as session:
            row = session.get(PlatformAdmin, admin_id)
            if row is None or row.disabled_at is not None:
                return None
            return AdminInfo(id=row.id, username=row.username)

    # --- internals -------------------------------------------------------------------------

    def _verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def _find_person(session: Session, identifier: str) -> int | None:
    if identifier.isdigit() and len(identifier) <= 18:
        person = session.get(Person, int(identifier))
        return person.id if person is not None else None
    if "@" in identifier:
        found = session.scalar(select(Person.id).where(Person.email == identifier).limit(2))
        return int(found) if found is not None else None
    return None


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > 1024:
        raise InvalidInput("a password has at most 1024 characters")


__all__ = ["MIN_PASSWORD_LENGTH", "AccountService", "AdminInfo"]
