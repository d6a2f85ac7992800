"""The contract of the consent service the Graph API and the OAuth server build on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from graphwarden.core.types import ApiVersion, AppId, PersonId, ScopedId


@dataclass(frozen=True, slots=True)
class AppInfo:
    id: AppId
    name: str
    api_version: ApiVersion
    mode: str  # development | live
    status: str  # active | suspended | deleted
    requested_permissions: frozenset[str]
    approved_permissions: frozenset[str]
    redirect_uris: tuple[str, ...]
    privacy_policy_url: str | None
    deletion_callback_url: str | None


@dataclass(frozen=True, slots=True)
class NewApp:
    """Returned once at creation: the only time the secret is visible."""

    id: AppId
    secret: str


@dataclass(frozen=True, slots=True)
class AuthorizationInfo:
    app_id: AppId
    person_id: PersonId
    granted: frozenset[str]
    declined: frozenset[str]
    created_at: datetime
    last_used_at: datetime
    removed_at: datetime | None


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A resolved, currently valid access token."""

    token_id: int
    app: AppInfo
    person_id: PersonId
    scope: frozenset[str]
    issued_at: datetime
    expires_at: datetime
    issued_by: str


class ConsentService(Protocol):
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
    ) -> NewApp: ...

    def get_app(self, app: AppId) -> AppInfo | None: ...

    def authorize(
        self, app: AppId, person: PersonId, *, granted: Sequence[str], declined: Sequence[str] = ()
    ) -> AuthorizationInfo:
        """Record (or update) a person's consent; counts as engagement (``last_used_at``)."""
        ...

    def issue_token(
        self,
        app: AppId,
        person: PersonId,
        *,
        scope: Sequence[str],
        issued_by: str,
        ttl_seconds: int = 60 * 24 * 3600,
        family: str | None = None,
    ) -> str:
        """Issue an opaque access token (stored only as its SHA-256)."""
        ...

    def resolve_token(self, token: str) -> TokenInfo:
        """Raises ``AuthError`` for unknown, revoked or expired tokens."""
        ...

    def revoke_token(self, token: str) -> None: ...

    def get_authorization(self, app: AppId, person: PersonId) -> AuthorizationInfo | None: ...

    def authorizations_of(
        self, app: AppId, people: Sequence[PersonId]
    ) -> dict[PersonId, AuthorizationInfo]:
        """Live (not removed) authorizations of ``app`` among ``people``."""
        ...

    def scoped_id(self, app: AppId, person: PersonId) -> ScopedId:
        """The id ``app`` knows ``person`` by, recorded so the app can address it later."""
        ...

    def scoped_ids(self, app: AppId, people: Sequence[PersonId]) -> dict[PersonId, ScopedId]: ...

    def resolve_scoped_id(self, app: AppId, scoped: str) -> PersonId | None:
        """The person behind an id ``app`` was given, or None if it was never given."""
        ...

    def remove_app(self, app: AppId, person: PersonId) -> None: ...


__all__ = ["AppInfo", "AuthorizationInfo", "ConsentService", "NewApp", "TokenInfo"]
