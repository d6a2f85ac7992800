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


@dataclass(frozen=True, slots=True)
class OwnerState:
    """The token owner's standing with the token's app, as raw facts for the policy.

    Consent sits below policy, so it reports facts and lets the policy decide what they mean.
    """

    #: the authorization's grants that the token also carries, declined ones excluded
    granted: frozenset[str]
    declined: frozenset[str]
    #: permissions the app was approved for in App Review
    approved_permissions: frozenset[str]
    #: the owner holds a role (admin, developer, tester) on the app
    owner_has_role: bool
    #: last engagement with the app; None when the owner never authorized it
    last_used_at: datetime | None
    #: the owner removed the app (``granted`` is then empty)
    removed: bool
    #: the owner has the platform turned on
    platform_enabled: bool

    @property
    def authorized(self) -> bool:
        """A live authorization exists (authorized, not removed)."""
        return self.last_used_at is not None and not self.removed


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

    def verify_app_secret(self, app: AppId, secret: str) -> bool:
        """Whether ``secret`` is the app's secret (False for unknown or deleted apps)."""
        ...

    def role_holders_among(self, app: AppId, people: Sequence[PersonId]) -> frozenset[PersonId]:
        """Those of ``people`` who hold a role (admin, developer, tester) on ``app``."""
        ...

    def owner_state(self, token: TokenInfo) -> OwnerState:
        """The facts about the token owner's consent the policy needs, in one query."""
        ...

    def list_apps(self, *, after: AppId | None = None, limit: int = 100) -> list[AppInfo]: ...

    def set_app_status(self, app: AppId, status: str) -> None:
        """Mark an app ``active``, ``suspended`` or ``deleted``."""
        ...

    def record_use(self, app: AppId, person: PersonId) -> None:
        """The person engaged the app: restarts the lapse window without changing grants."""
        ...

    def revoke_permission(self, app: AppId, person: PersonId, permission: str) -> None:
        """The person takes back one permission (it becomes declined)."""
        ...

    def authorizations_by(self, person: PersonId) -> list[AuthorizationInfo]:
        """Every app authorization of ``person`` (live and removed), most recently used first."""
        ...

    def revoke_family(self, family: str) -> int:
        """Revoke every live token of an OAuth code or refresh family; returns how many."""
        ...

    def revoke_tokens_of(self, app: AppId, person: PersonId | None = None) -> int:
        """Revoke live tokens of ``app`` (of one person, or of everyone); returns how many."""
        ...


__all__ = [
    "AppInfo",
    "AuthorizationInfo",
    "ConsentService",
    "NewApp",
    "OwnerState",
    "TokenInfo",
]
