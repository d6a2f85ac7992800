"""The relational plumbing the SQL consent service is built on.

:class:`SqlConsentBase` holds the engine, the clock and the per-service caches, runs each unit
of work in a connection (a transaction when it writes), turning SQLAlchemy failures into
graphwarden's errors (``IntegrityViolation``, ``StoreError``), and checks that an app or a
person exists before a write refers to it. :class:`~graphwarden.consent.sql_tokens.SqlAccessTokens`
and :class:`~graphwarden.consent.services.SqlConsentService` build on it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from sqlalchemy import Engine, Table, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from graphwarden.consent.models import App
from graphwarden.consent.records import app_columns
from graphwarden.consent.scoping import ScopedIdRegistry
from graphwarden.core.clock import Clock, SystemClock
from graphwarden.core.errors import IntegrityViolation, NotFound, StoreError
from graphwarden.core.types import AppId, PersonId
from graphwarden.graph.models import Person

_apps = cast(Table, App.__table__)
_people = cast(Table, Person.__table__)

T = TypeVar("T")


class SqlConsentBase:
    """The engine, clock and caches of the SQL consent service, and how it reaches the store."""

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock: Clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._scoped_ids = ScopedIdRegistry(engine)
        self._has_roles: bool | None = None
        self._to_datetime: Callable[[Any], Any] | None = None

    def _run(self, work: Callable[[Any], T], *, write: bool = False) -> T:
        try:
            if write:
                with self.engine.begin() as conn:
                    return work(conn)
            with self.engine.connect() as conn:
                return work(conn)
        except IntegrityError as exc:
            raise IntegrityViolation(f"write rejected: {exc.__class__.__name__}") from exc
        except SQLAlchemyError as exc:
            raise StoreError(f"consent store failed: {exc.__class__.__name__}") from exc

    @staticmethod
    def _require_app(conn: Any, app: AppId) -> Mapping[str, Any]:
        row = conn.execute(select(*app_columns()).where(_apps.c.id == int(app))).first()
        if row is None or row._mapping["status"] == "deleted":
            raise NotFound(f"no app {int(app)}")
        return cast(Mapping[str, Any], row._mapping)

    @staticmethod
    def _require_person(conn: Any, person: PersonId) -> None:
        found = conn.execute(select(_people.c.id).where(_people.c.id == int(person))).first()
        if found is None:
            raise NotFound(f"no person {int(person)}")


__all__ = ["SqlConsentBase"]
