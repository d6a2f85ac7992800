"""The graph store's hottest reads, through the database driver's own cursor.

A Graph API friends page reads a hundred profiles (and, when the policy is on, their privacy
vectors) per request. Through SQLAlchemy's statement layer each read pays for coercion,
cache-key generation and result processing, which costs more than SQLite spends answering;
here the SQL text is written once per (dialect, list length), handed to the driver as it is
(``exec_driver_sql``: no compilation, no type processing, engine events still fire), and the
rows are turned into :class:`~graphwarden.graph.interfaces.Profile` objects positionally.

Only reads live here: writes keep SQLAlchemy's checks and error translation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from graphwarden.core.errors import StoreError
from graphwarden.core.types import PersonId
from graphwarden.graph.fields import AUDIENCE_FIELDS, FIELD_BY_NAME, AppsOthersUse
from graphwarden.graph.interfaces import PROFILE_FIELDS, PrivacyVector, Profile

#: profile columns in :class:`Profile` field order
PROFILE_COLUMNS: tuple[str, ...] = PROFILE_FIELDS
_N_PROFILE = len(PROFILE_COLUMNS)
#: ``Profile`` called positionally with a row's values (their order is ``PROFILE_COLUMNS``)
_profile = cast(Callable[..., Profile], Profile)
_CATEGORY_COLUMNS = tuple(c.label for c in AppsOthersUse)
#: what a person without stored settings has: every default audience, every switch on
DEFAULT_VECTOR: PrivacyVector = (
    *(int(FIELD_BY_NAME[name].default_audience) for name in AUDIENCE_FIELDS),
    *(1 for _ in AppsOthersUse),
)
#: ids per statement: well below SQLite's bound parameter limit, and few distinct texts
_CHUNK = 1000


def driver_errors(engine: Engine) -> tuple[type[BaseException], ...]:
    """SQLAlchemy's errors and the driver's own base exception (it arrives unwrapped)."""
    error = getattr(engine.dialect.loaded_dbapi, "Error", None)
    if isinstance(error, type) and issubclass(error, BaseException):
        return (SQLAlchemyError, error)
    return (SQLAlchemyError,)


@lru_cache(maxsize=4096)
def _sql(kind: str, marker: str, quote: str, n: int) -> str:
    """SQL text of ``kind`` for ``n`` ids, with the driver's positional ``marker``."""
    ids = ", ".join([marker] * n)
    profile = ", ".join(f"p.{quote}{c}{quote}" for c in PROFILE_COLUMNS)
    vector = ", ".join(
        [f"a.{quote}{c}{quote}" for c in AUDIENCE_FIELDS]
        + [f"s.{quote}{c}{quote}" for c in _CATEGORY_COLUMNS]
    )
    privacy = (
        " LEFT JOIN field_audiences a ON a.person_id = p.id"
        " LEFT JOIN apps_others_use s ON s.person_id = p.id"
    )
    # S608: the text is built from this module's constant column names and the driver's
    # placeholder; the ids travel as bound parameters
    if kind == "profiles":
        return f"SELECT {profile} FROM people p WHERE p.id IN ({ids})"  # noqa: S608
    if kind == "profiles+privacy":
        return f"SELECT {profile}, {vector} FROM people p{privacy} WHERE p.id IN ({ids})"  # noqa: S608
    if kind == "privacy":
        return f"SELECT p.id, {vector} FROM people p{privacy} WHERE p.id IN ({ids})"  # noqa: S608
    raise ValueError(f"unknown read {kind!r}")


class DriverReads:
    """Batch reads of people on one engine, as prepared SQL text."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        dialect = engine.dialect
        self._marker = "?" if dialect.paramstyle == "qmark" else "%s"
        # the identifier quote of the dialect ("), so column names like "name" stay names
        self._quote = dialect.identifier_preparer.initial_quote
        self._errors = driver_errors(engine)

    def _rows(self, kind: str, ids: list[int]) -> list[Any]:
        rows: list[Any] = []
        try:
            with self.engine.connect() as conn:
                for start in range(0, len(ids), _CHUNK):
                    chunk = ids[start : start + _CHUNK]
                    sql = _sql(kind, self._marker, self._quote, len(chunk))
                    rows.extend(conn.exec_driver_sql(sql, tuple(chunk)).fetchall())
        except self._errors as exc:
            raise StoreError(f"store read failed: {exc.__class__.__name__}") from exc
        return rows

    def profiles(self, people: Sequence[PersonId]) -> dict[PersonId, Profile]:
        """Profiles of ``people`` that exist, in one query."""
        ids = sorted({int(p) for p in people})
        if not ids:
            return {}
        last = _N_PROFILE - 1
        out: dict[PersonId, Profile] = {}
        for row in self._rows("profiles", ids):
            pid = PersonId(int(row[0]))
            out[pid] = _profile(pid, *row[1:last], bool(row[last]))
        return out

    def profiles_with_privacy(
        self, people: Sequence[PersonId]
    ) -> dict[PersonId, tuple[Profile, PrivacyVector]]:
        """Profiles and privacy vectors of ``people`` that exist, in one query."""
        ids = sorted({int(p) for p in people})
        if not ids:
            return {}
        last = _N_PROFILE - 1
        out: dict[PersonId, tuple[Profile, PrivacyVector]] = {}
        for row in self._rows("profiles+privacy", ids):
            pid = PersonId(int(row[0]))
            vector = tuple(row[_N_PROFILE:])
            if None in vector:  # no stored settings: the defaults hold
                vector = DEFAULT_VECTOR
            out[pid] = (_profile(pid, *row[1:last], bool(row[last])), vector)
        return out

    def privacy_vectors(self, people: Sequence[PersonId]) -> dict[PersonId, PrivacyVector]:
        """Privacy vectors of ``people`` that exist, in one query."""
        ids = sorted({int(p) for p in people})
        if not ids:
            return {}
        out: dict[PersonId, PrivacyVector] = {}
        for row in self._rows("privacy", ids):
            vector = tuple(row[1:])
            out[PersonId(int(row[0]))] = DEFAULT_VECTOR if None in vector else vector
        return out


__all__ = ["DEFAULT_VECTOR", "PROFILE_COLUMNS", "DriverReads", "driver_errors"]
