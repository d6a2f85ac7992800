"""App-scoped person ids (Graph API v2.0+).

An app sees a person as HMAC-SHA256(app's scoping key, person id) truncated to 16 bytes, in
hex: deterministic for one app, unlinkable across apps, and not guessable without the key.
Each id is recorded when it is given, so an app can only address people it was shown.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Engine, Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from graphwarden.consent.models import App, AppScopedId
from graphwarden.core.errors import NotFound, StoreError
from graphwarden.core.types import AppId, PersonId, ScopedId

_apps = cast(Table, App.__table__)
_scoped = cast(Table, AppScopedId.__table__)

SCOPED_ID_BYTES = 16
#: rows per INSERT: keeps SQLite under its bound-parameter limit
_CHUNK = 300
#: (app, person) pairs known to be recorded; bounded so a long-running worker stays small
_RECORDED_CAP = 200_000
_SCOPED_ID = re.compile(r"[0-9a-f]{32}")


def new_scoping_key() -> str:
    """A fresh per-app scoping key (256 random bits, hex: 64 characters)."""
    return secrets.token_hex(32)


def scoped_id_for(scoping_key: str, person: PersonId) -> ScopedId:
    """The id an app with ``scoping_key`` knows ``person`` by.

    >>> scoped_id_for("00" * 32, PersonId(1)) == scoped_id_for("00" * 32, PersonId(1))
    True
    """
    mac = hmac.new(bytes.fromhex(scoping_key), str(int(person)).encode("ascii"), hashlib.sha256)
    return ScopedId(mac.digest()[:SCOPED_ID_BYTES].hex())


def looks_like_scoped_id(value: str) -> bool:
    """Whether ``value`` has the shape of a scoped id (32 lowercase hex digits)."""
    return _SCOPED_ID.fullmatch(value) is not None


class ScopedIdRegistry:
    """Gives and resolves app-scoped ids on the relational store.

    Scoping keys never change, so each app's is read once per process; pairs already recorded
    are remembered, so giving a page an app has seen before costs no statement at all.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._keys: dict[int, str] = {}
        self._recorded: set[tuple[int, int]] = set()

    def _key(self, app: AppId) -> str:
        key = self._keys.get(int(app))
        if key is None:
            stmt = select(_apps.c.scoping_key).where(_apps.c.id == int(app))
            try:
                with self.engine.connect() as conn:
                    found = conn.execute(stmt).scalar_one_or_none()
            except SQLAlchemyError as exc:
                raise StoreError(f"consent store failed: {exc.__class__.__name__}") from exc
            if found is None:
                raise NotFound(f"no app {int(app)}")
            key = str(found)
            self._keys[int(app)] = key
        return key

    def give(self, app: AppId, people: Sequence[PersonId]) -> dict[PersonId, ScopedId]:
        """The scoped ids of ``people`` for ``app``, recording new ones in one INSERT that
        ignores those already recorded (``ON CONFLICT DO NOTHING``).

        Raises ``NotFound`` for an unknown app or person.
        """
        key = self._key(app)
        out = {PersonId(int(p)): scoped_id_for(key, PersonId(int(p))) for p in people}
        with self._lock:
            fresh = [p for p in out if (int(app), int(p)) not in self._recorded]
        if not fresh:
            return out
        rows = [{"app_id": int(app), "scoped_id": out[p], "person_id": int(p)} for p in fresh]
        try:
            with self.engine.begin() as conn:
                dialect: Any = sqlite if conn.dialect.name == "sqlite" else postgresql
                for i in range(0, len(rows), _CHUNK):
                    stmt = dialect.insert(_scoped).values(rows[i : i + _CHUNK])
                    conn.execute(stmt.on_conflict_do_nothing())
        except IntegrityError as exc:  # the foreign key: no such person
            raise NotFound("cannot give a scoped id for an unknown person") from exc
        except SQLAlchemyError as exc:
            raise StoreError(f"consent store failed: {exc.__class__.__name__}") from exc
        with self._lock:
            if len(self._recorded) + len(fresh) > _RECORDED_CAP:
                self._recorded.clear()
            self._recorded.update((int(app), int(p)) for p in fresh)
        return out

    def resolve(self, app: AppId, scoped: str) -> PersonId | None:
        """The person behind an id ``app`` was given, or None if it was never given."""
        if not isinstance(scoped, str) or not looks_like_scoped_id(scoped):
            return None
        stmt = select(_scoped.c.person_id).where(
            _scoped.c.app_id == int(app), _scoped.c.scoped_id == scoped
        )
        try:
            with self.engine.connect() as conn:
                found = conn.execute(stmt).scalar_one_or_none()
        except SQLAlchemyError as exc:
            raise StoreError(f"consent store failed: {exc.__class__.__name__}") from exc
        return None if found is None else PersonId(int(found))


__all__ = [
    "SCOPED_ID_BYTES",
    "ScopedIdRegistry",
    "looks_like_scoped_id",
    "new_scoping_key",
    "scoped_id_for",
]
