"""Token revocation (RFC 7009) on Authlib's ``RevocationEndpoint``.

The app authenticates (``client_secret_basic`` or ``client_secret_post``) and names a token.
Unknown, expired and already revoked tokens are answered ``200`` like any other (§2.2), so
the endpoint says nothing about which tokens exist. Revoking a refresh token revokes the
access tokens of its family too (§2.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc7009 import RevocationEndpoint

from graphwarden.core.errors import AuthError
from graphwarden.core.types import AppId, PersonId

if TYPE_CHECKING:
    from graphwarden.consent.oauth import AppClient, GraphwardenAuthorizationServer

CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


@dataclass(frozen=True, slots=True)
class PresentedToken:
    """An access or refresh token a caller presented, as Authlib's ``TokenMixin``."""

    kind: str  # "access_token" | "refresh_token"
    value: str
    app_id: AppId
    person_id: PersonId
    scope: str
    issued_at: datetime
    expires_at: datetime
    active: bool

    def check_client(self, client: AppClient) -> bool:
        return int(client.app.id) == int(self.app_id)

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return int((self.expires_at - self.issued_at).total_seconds())

    def is_expired(self) -> bool:
        return not self.active

    def is_revoked(self) -> bool:
        return not self.active


def find_token(
    server: GraphwardenAuthorizationServer, value: str, hint: str | None
) -> PresentedToken | None:
    """The live token ``value`` (access first unless hinted), or None: inactive looks unknown."""
    kinds = (
        ["refresh_token", "access_token"]
        if hint == "refresh_token"
        else [
            "access_token",
            "refresh_token",
        ]
    )
    now = server.clock.now()
    for kind in kinds:
        if kind == "access_token":
            try:
                info = server.consent.resolve_token(value)
            except AuthError:
                continue
            return PresentedToken(
                kind=kind,
                value=value,
                app_id=info.app.id,
                person_id=info.person_id,
                scope=" ".join(sorted(info.scope)),
                issued_at=info.issued_at,
                expires_at=info.expires_at,
                active=True,
            )
        stored = server.store.find_refresh(value)
        if stored is not None and stored.active(now):
            return PresentedToken(
                kind=kind,
                value=value,
                app_id=stored.app_id,
                person_id=stored.person_id,
                scope=stored.scope,
                issued_at=stored.issued_at,
                expires_at=stored.expires_at,
                active=True,
            )
    return None


class TokenRevocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS
    server: GraphwardenAuthorizationServer

    def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
        return find_token(self.server, token_string, token_type_hint)

    def revoke_token(self, token: PresentedToken, request: Any) -> None:
        if token.kind == "refresh_token":
            self.server.store.revoke_refresh(token.value)
        else:
            self.server.consent.revoke_token(token.value)


__all__ = ["PresentedToken", "TokenRevocation", "find_token"]
