"""Access tokens of the SQL consent service: issue, resolve, revoke, and the owner's standing.

Token resolution and the owner's standing are on the Graph API's hot path: each is one
indexed query (the token by its SHA-256 joined to its app; the owner's person row left-joined
to the authorization). Tokens are stored only as their SHA-256.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, column, exists, inspect, literal, select, table, update

from graphwarden.consent.interfaces import OwnerState, TokenInfo
from graphwarden.consent.models import AccessToken, App, Authorization
from graphwarden.consent.records import (
    app_columns,
    app_info,
    check_permissions,
    join_permissions,
    split_permissions,
)
from graphwarden.consent.sql_base import SqlConsentBase
from graphwarden.consent.tokens import (
    TOKEN_EXPIRED,
    TOKEN_INVALID,
    TOKEN_REVOKED,
    hash_token,
    new_token,
)
from graphwarden.core.clock import as_utc
from graphwarden.core.errors import AuthError, InvalidInput, PermissionDenied
from graphwarden.core.types import AppId, PersonId
from graphwarden.graph.models import Person

_apps = cast(Table, App.__table__)
_auths = cast(Table, Authorization.__table__)
_tokens = cast(Table, AccessToken.__table__)
_people = cast(Table, Person.__table__)
#: declared by the developer-platform migration; looked up by name so that a store without
#: it (an older schema) simply has no roles
_roles = table("app_roles", column("app_id"), column("person_id"))

#: default lifetime of an access token: 60 days, as long-lived tokens were
DEFAULT_TOKEN_TTL = 60 * 24 * 3600


class SqlAccessTokens(SqlConsentBase):
    """The token half of :class:`~graphwarden.consent.services.SqlConsentService`."""

    def _roles_table_exists(self) -> bool:
        if self._has_roles is None:
            self._has_roles = self._run(lambda conn: inspect(conn).has_table("app_roles"))
        return self._has_roles

    def issue_token(
        self,
        app: AppId,
        person: PersonId,
        *,
        scope: Sequence[str],
        issued_by: str,
        ttl_seconds: int = DEFAULT_TOKEN_TTL,
        family: str | None = None,
    ) -> str:
        """Issue an opaque access token (stored only as its SHA-256).

        Raises ``NotFound`` for an unknown or deleted app or an unknown person and
        ``PermissionDenied`` for a suspended app.
        """
        scope_set = check_permissions(scope)
        if ttl_seconds <= 0:
            raise InvalidInput(f"token lifetime must be positive, got {ttl_seconds}")
        if family is not None and len(family) > 64:
            raise InvalidInput("token family must be at most 64 characters")
        token = new_token()
        now = self.clock.now()

        def work(conn: Any) -> None:
            info = self._require_app(conn, app)
            if info["status"] == "suspended":
                raise PermissionDenied(f"app {int(app)} is suspended")
            self._require_person(conn, person)
            conn.execute(
                _tokens.insert().values(
                    token_hash=hash_token(token),
                    app_id=int(app),
                    person_id=int(person),
                    scope=join_permissions(scope_set),
                    issued_at=now,
                    expires_at=now + timedelta(seconds=ttl_seconds),
                    revoked_at=None,
                    issued_by=issued_by,
                    family=family,
                )
            )

        self._run(work, write=True)
        return token

    def resolve_token(self, token: str) -> TokenInfo:
        """The valid token's facts, in one indexed query joined to its app.

        Raises ``AuthError`` with :data:`~graphwarden.consent.tokens.TOKEN_INVALID`,
        ``TOKEN_EXPIRED`` or ``TOKEN_REVOKED``. A suspended or deleted app still resolves:
        what it may see is the policy's decision, made with the app's status.
        """
        if not token or len(token) > 512:
            raise AuthError(TOKEN_INVALID)
        t = _tokens
        stmt = (
            select(
                t.c.id,
                t.c.person_id,
                t.c.scope,
                t.c.issued_at,
                t.c.expires_at,
                t.c.revoked_at,
                t.c.issued_by,
                *app_columns("app_"),
            )
            .join(_apps, _apps.c.id == t.c.app_id)
            .where(t.c.token_hash == hash_token(token))
        )
        row = self._run(lambda conn: conn.execute(stmt).first())
        if row is None:
            raise AuthError(TOKEN_INVALID)
        m = row._mapping
        if m["revoked_at"] is not None:
            raise AuthError(TOKEN_REVOKED)
        expires_at = as_utc(m["expires_at"])
        if expires_at <= self.clock.now():
            raise AuthError(TOKEN_EXPIRED)
        return TokenInfo(
            token_id=int(m["id"]),
            app=app_info(m, "app_"),
            person_id=PersonId(int(m["person_id"])),
            scope=split_permissions(m["scope"]),
            issued_at=as_utc(m["issued_at"]),
            expires_at=expires_at,
            issued_by=m["issued_by"],
        )

    def revoke_token(self, token: str) -> None:
        """Revoke ``token``; an unknown or already revoked token is silently ignored
        (RFC 7009 §2.2: the answer must not reveal whether it existed)."""
        stmt = (
            update(_tokens)
            .where(_tokens.c.token_hash == hash_token(token), _tokens.c.revoked_at.is_(None))
            .values(revoked_at=self.clock.now())
        )
        self._run(lambda conn: conn.execute(stmt), write=True)

    def revoke_family(self, family: str) -> int:
        """Revoke every live token of an OAuth code or refresh family; returns how many."""
        stmt = (
            update(_tokens)
            .where(_tokens.c.family == family, _tokens.c.revoked_at.is_(None))
            .values(revoked_at=self.clock.now())
        )
        return int(self._run(lambda conn: conn.execute(stmt).rowcount, write=True))

    def revoke_tokens_of(self, app: AppId, person: PersonId | None = None) -> int:
        """Revoke live tokens of ``app`` (of one person, or of everyone); returns how many."""
        stmt = update(_tokens).where(_tokens.c.app_id == int(app), _tokens.c.revoked_at.is_(None))
        if person is not None:
            stmt = stmt.where(_tokens.c.person_id == int(person))
        stmt = stmt.values(revoked_at=self.clock.now())
        return int(self._run(lambda conn: conn.execute(stmt).rowcount, write=True))

    def role_holders_among(self, app: AppId, people: Sequence[PersonId]) -> frozenset[PersonId]:
        """Those of ``people`` who hold a role (admin, developer, tester) on ``app``, in one
        query per thousand people (an app in development mode reads only them)."""
        ids = sorted({int(p) for p in people})
        if not ids or not self._roles_table_exists():
            return frozenset()
        found: set[PersonId] = set()
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            stmt = select(_roles.c.person_id).where(
                _roles.c.app_id == int(app), _roles.c.person_id.in_(chunk)
            )
            rows = self._run(lambda conn, stmt=stmt: conn.execute(stmt).scalars().all())
            found.update(PersonId(int(r)) for r in rows)
        return frozenset(found)

    def owner_state(self, token: TokenInfo) -> OwnerState:
        """What the policy needs about the token owner's consent, in one query.

        ``granted`` is the authorization's grants that the token also carries, minus the
        declined ones: a token never grants more than the person currently consents to.
        """
        app_id, person_id = int(token.app.id), int(token.person_id)
        a = _auths
        cols: list[Any] = [
            _people.c.platform_enabled,
            a.c.granted,
            a.c.declined,
            a.c.last_used_at,
            a.c.removed_at,
        ]
        if self._roles_table_exists():
            cols.append(
                exists()
                .where(_roles.c.app_id == app_id, _roles.c.person_id == person_id)
                .label("has_role")
            )
        else:
            cols.append(literal(False).label("has_role"))
        stmt = (
            select(*cols)
            .select_from(_people)
            .outerjoin(a, and_(a.c.person_id == _people.c.id, a.c.app_id == app_id))
            .where(_people.c.id == person_id)
        )
        row = self._run(lambda conn: conn.execute(stmt).first())
        if row is None:  # the person is gone: nothing is granted
            return OwnerState(
                frozenset(), frozenset(), token.app.approved_permissions, False, None, False, False
            )
        m = row._mapping
        removed = m["removed_at"] is not None
        declined = split_permissions(m["declined"])
        granted = frozenset() if removed else (split_permissions(m["granted"]) - declined)
        last_used = m["last_used_at"]
        return OwnerState(
            granted=granted & token.scope,
            declined=declined,
            approved_permissions=token.app.approved_permissions,
            owner_has_role=bool(m["has_role"]),
            last_used_at=None if last_used is None else as_utc(last_used),
            removed=removed,
            platform_enabled=bool(m["platform_enabled"]),
        )


__all__ = ["DEFAULT_TOKEN_TTL", "SqlAccessTokens"]
