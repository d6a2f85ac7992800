"""The consent service on the relational store: apps, authorizations, access tokens and
app-scoped ids.

:class:`SqlConsentService` is assembled from parts: the store plumbing
(:mod:`graphwarden.consent.sql_base`), access tokens and the owner's standing
(:mod:`graphwarden.consent.sql_tokens`), and here apps, authorizations and app-scoped ids.

Token resolution, the owner's standing and a page's live authorizations are on the Graph
API's hot path: each is one indexed query (the token by its SHA-256 joined to its app; the
owner's person row left-joined to the authorization; the page's authorizations as prepared
driver SQL). App-scoped ids are recorded with one INSERT that ignores ids already given
(``ON CONFLICT DO NOTHING`` on both SQLite and PostgreSQL).

Permission names are checked for shape only (``[a-z_]+``, see
:mod:`graphwarden.consent.records`); which names a platform version knows is policy, checked
by the layers above (CLI, OAuth, Graph API).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, and_, select, update

from graphwarden.consent.interfaces import AppInfo, AuthorizationInfo, NewApp
from graphwarden.consent.models import AccessToken, App, Authorization
from graphwarden.consent.records import (
    APP_MODES,
    APP_STATUSES,
    app_columns,
    app_info,
    authorization_info,
    check_permissions,
    check_url,
    join_permissions,
    split_permissions,
)
from graphwarden.consent.scoping import new_scoping_key
from graphwarden.consent.sql_tokens import SqlAccessTokens
from graphwarden.consent.tokens import hash_app_secret, new_app_secret, verify_app_secret_hash
from graphwarden.core.errors import IntegrityViolation, InvalidInput, NotFound
from graphwarden.core.types import API_VERSIONS, ApiVersion, AppId, PersonId, ScopedId

_apps = cast(Table, App.__table__)
_auths = cast(Table, Authorization.__table__)
_tokens = cast(Table, AccessToken.__table__)

_AUTH_COLUMNS = (
    "app_id",
    "person_id",
    "granted",
    "declined",
    "created_at",
    "last_used_at",
    "removed_at",
)


def _same(value: Any) -> Any:
    return value


@lru_cache(maxsize=1024)
def _live_authorizations_sql(marker: str, n: int) -> str:
    """Live authorizations of one app among ``n`` people, as driver SQL text."""
    columns = ", ".join(_AUTH_COLUMNS)
    people = ", ".join([marker] * n)
    # S608: constant column names and driver placeholders; values travel as parameters
    return (
        f"SELECT {columns} FROM authorizations "  # noqa: S608
        f"WHERE app_id = {marker} AND person_id IN ({people}) AND removed_at IS NULL"
    )


class SqlConsentService(SqlAccessTokens):
    """:class:`~graphwarden.consent.interfaces.ConsentService` on a SQLAlchemy engine.

    >>> consent = SqlConsentService(engine, ManualClock())  # doctest: +SKIP
    >>> new = consent.create_app(name="Quiz", api_version="v1.0", permissions=["email"])
    """

    # --- apps ----------------------------------------------------------------------------

    def create_app(
        self,
        *,
        name: str,
        api_version: ApiVersion,
        permissions: Sequence[str],
        redirect_uris: Sequence[str] = (),
        mode: str = "live",
        created_by: str = "",
        privacy_policy_url: str | None = None,
        deletion_callback_url: str | None = None,
    ) -> NewApp:
        """Register an app; the returned secret is shown this once and stored only hashed.

        ``public_profile`` is always among the requested permissions.
        """
        name = name.strip()
        if not name or len(name) > 200:
            raise InvalidInput("app name must be 1 to 200 characters")
        if api_version not in API_VERSIONS:
            raise InvalidInput(f"unknown API version {api_version!r}; known: {API_VERSIONS}")
        if mode not in APP_MODES:
            raise InvalidInput(f"app mode must be one of {APP_MODES}, got {mode!r}")
        requested = check_permissions(permissions) | {"public_profile"}
        uris = [check_url(u) for u in redirect_uris]
        if privacy_policy_url is not None:
            check_url(privacy_policy_url, "privacy policy URL")
        if deletion_callback_url is not None:
            check_url(deletion_callback_url, "deletion callback URL")
        secret = new_app_secret()
        values = {
            "name": name,
            "secret_hash": hash_app_secret(secret),
            "scoping_key": new_scoping_key(),
            "api_version": api_version,
            "mode": mode,
            "status": "active",
            "requested_permissions": join_permissions(requested),
            "approved_permissions": "",
            "redirect_uris": "\n".join(dict.fromkeys(uris)),
            "privacy_policy_url": privacy_policy_url,
            "deletion_callback_url": deletion_callback_url,
            "created_by": created_by,
            "created_at": self.clock.now(),
        }

        def work(conn: Any) -> int:
            return int(conn.execute(_apps.insert().values(values)).inserted_primary_key[0])

        return NewApp(id=AppId(self._run(work, write=True)), secret=secret)

    def get_app(self, app: AppId) -> AppInfo | None:
        """The app, or None when it does not exist (deleted apps are returned, marked)."""
        row = self._run(
            lambda conn: conn.execute(select(*app_columns()).where(_apps.c.id == int(app))).first()
        )
        return None if row is None else app_info(row._mapping)

    def list_apps(self, *, after: AppId | None = None, limit: int = 100) -> list[AppInfo]:
        """Apps in id order, strictly after ``after``."""
        if limit < 0:
            raise InvalidInput(f"limit must not be negative, got {limit}")
        stmt = select(*app_columns()).order_by(_apps.c.id).limit(limit)
        if after is not None:
            stmt = stmt.where(_apps.c.id > int(after))
        rows = self._run(lambda conn: conn.execute(stmt).all())
        return [app_info(r._mapping) for r in rows]

    def set_app_status(self, app: AppId, status: str) -> None:
        """Mark an app active, suspended or deleted."""
        if status not in APP_STATUSES:
            raise InvalidInput(f"app status must be one of {APP_STATUSES}, got {status!r}")
        stmt = update(_apps).where(_apps.c.id == int(app)).values(status=status)
        if self._run(lambda conn: conn.execute(stmt).rowcount, write=True) == 0:
            raise NotFound(f"no app {int(app)}")

    def verify_app_secret(self, app: AppId, secret: str) -> bool:
        """Whether ``secret`` is the app's secret; False for unknown or deleted apps, which
        take as long to answer as a wrong secret."""
        row = self._run(
            lambda conn: conn.execute(
                select(_apps.c.secret_hash, _apps.c.status).where(_apps.c.id == int(app))
            ).first()
        )
        if row is None or row.status == "deleted":
            verify_app_secret_hash(None, secret)
            return False
        return verify_app_secret_hash(row.secret_hash, secret)

    # --- authorizations ------------------------------------------------------------------

    def authorize(
        self, app: AppId, person: PersonId, *, granted: Sequence[str], declined: Sequence[str] = ()
    ) -> AuthorizationInfo:
        """Record (or update) a person's consent; counts as engagement (``last_used_at``).

        Consent is incremental, as on the platform: permissions granted before stay granted
        unless declined now; a permission both granted and declined is declined. After the
        app was removed, authorizing starts afresh.
        """
        g = check_permissions(granted)
        d = check_permissions(declined)
        now = self.clock.now()
        key = and_(_auths.c.app_id == int(app), _auths.c.person_id == int(person))

        def work(conn: Any) -> AuthorizationInfo:
            self._require_app(conn, app)
            self._require_person(conn, person)
            row = conn.execute(select(_auths).where(key)).first()
            if row is None or row._mapping["removed_at"] is not None:
                new_granted, new_declined = g - d, d
            else:
                old = row._mapping
                new_granted = (split_permissions(old["granted"]) | g) - d
                new_declined = (split_permissions(old["declined"]) - g) | d
            values = {
                "granted": join_permissions(new_granted),
                "declined": join_permissions(new_declined),
                "last_used_at": now,
                "removed_at": None,
            }
            if row is None:
                values |= {"app_id": int(app), "person_id": int(person), "created_at": now}
                conn.execute(_auths.insert().values(values))
            else:
                if row._mapping["removed_at"] is not None:
                    values["created_at"] = now
                conn.execute(update(_auths).where(key).values(values))
            return authorization_info(conn.execute(select(_auths).where(key)).one()._mapping)

        try:
            return self._run(work, write=True)
        except IntegrityViolation:
            # a concurrent first authorization inserted the row: the retry updates it
            return self._run(work, write=True)

    def record_use(self, app: AppId, person: PersonId) -> None:
        """The person engaged the app (logged in): restarts the 90-day lapse window."""
        stmt = (
            update(_auths)
            .where(_auths.c.app_id == int(app), _auths.c.person_id == int(person))
            .where(_auths.c.removed_at.is_(None))
            .values(last_used_at=self.clock.now())
        )
        self._run(lambda conn: conn.execute(stmt), write=True)

    def revoke_permission(self, app: AppId, person: PersonId, permission: str) -> None:
        """The person takes back one permission (it becomes declined)."""
        self.authorize(app, person, granted=(), declined=(permission,))

    def get_authorization(self, app: AppId, person: PersonId) -> AuthorizationInfo | None:
        """The person's authorization of the app, removed or not; None if never authorized."""
        stmt = select(_auths).where(_auths.c.app_id == int(app), _auths.c.person_id == int(person))
        row = self._run(lambda conn: conn.execute(stmt).first())
        return None if row is None else authorization_info(row._mapping)

    def authorizations_of(
        self, app: AppId, people: Sequence[PersonId]
    ) -> dict[PersonId, AuthorizationInfo]:
        """Live (not removed) authorizations of ``app`` among ``people``, in one query."""
        ids = sorted({int(p) for p in people})
        if not ids:
            return {}
        # On the Graph API's hot path (every page of subjects): prepared text straight to the
        # driver, no statement building or compilation; most pages match no row at all.
        dialect = self.engine.dialect
        marker = "?" if dialect.paramstyle == "qmark" else "%s"
        to_datetime = self._datetime_processor()
        out: dict[PersonId, AuthorizationInfo] = {}

        def work(conn: Any) -> None:
            for start in range(0, len(ids), 1000):
                chunk = ids[start : start + 1000]
                sql = _live_authorizations_sql(marker, len(chunk))
                for row in conn.exec_driver_sql(sql, (int(app), *chunk)).fetchall():
                    values = dict(zip(_AUTH_COLUMNS, row, strict=True))
                    for name in ("created_at", "last_used_at", "removed_at"):
                        values[name] = to_datetime(values[name])
                    out[PersonId(int(row[1]))] = authorization_info(values)

        self._run(work)
        return out

    def _datetime_processor(self) -> Callable[[Any], Any]:
        """The dialect's conversion of a stored timestamp (SQLite keeps text)."""
        if self._to_datetime is None:
            dialect = self.engine.dialect
            processor = _auths.c.created_at.type.dialect_impl(dialect).result_processor(
                dialect, None
            )
            self._to_datetime = processor if processor is not None else _same
        return self._to_datetime

    def authorizations_by(self, person: PersonId) -> list[AuthorizationInfo]:
        """Every app authorization of ``person`` (live and removed), most recently used first."""
        stmt = (
            select(_auths)
            .where(_auths.c.person_id == int(person))
            .order_by(_auths.c.last_used_at.desc(), _auths.c.app_id)
        )
        rows = self._run(lambda conn: conn.execute(stmt).all())
        return [authorization_info(r._mapping) for r in rows]

    def remove_app(self, app: AppId, person: PersonId) -> None:
        """The person removes the app: the authorization ends and their tokens are revoked."""
        now = self.clock.now()

        def work(conn: Any) -> None:
            conn.execute(
                update(_auths)
                .where(_auths.c.app_id == int(app), _auths.c.person_id == int(person))
                .where(_auths.c.removed_at.is_(None))
                .values(removed_at=now)
            )
            conn.execute(
                update(_tokens)
                .where(_tokens.c.app_id == int(app), _tokens.c.person_id == int(person))
                .where(_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )

        self._run(work, write=True)

    # --- app-scoped ids ------------------------------------------------------------------

    def scoped_id(self, app: AppId, person: PersonId) -> ScopedId:
        """The id ``app`` knows ``person`` by, recorded so the app can address it later."""
        return self.scoped_ids(app, [person])[PersonId(int(person))]

    def scoped_ids(self, app: AppId, people: Sequence[PersonId]) -> dict[PersonId, ScopedId]:
        """Scoped ids of a page of people, recorded with one INSERT that skips known ones."""
        return self._scoped_ids.give(app, people)

    def resolve_scoped_id(self, app: AppId, scoped: str) -> PersonId | None:
        """The person behind an id ``app`` was given, or None if it was never given."""
        return self._scoped_ids.resolve(app, scoped)


__all__ = [
    "APP_MODES",
    "APP_STATUSES",
    "SqlConsentService",
    "check_permissions",
    "join_permissions",
    "split_permissions",
]
