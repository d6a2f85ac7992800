"""Token introspection (RFC 7662) on Authlib's ``IntrospectionEndpoint``.

Only an authenticated caller may ask (§2.1): the app itself, with its secret, and only about
its own tokens. Anything not active, unknown, or another app's answers ``{"active": false}``
(§2.2), so the endpoint cannot be used to probe for tokens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc7662 import IntrospectionEndpoint

from graphwarden.consent.rfc7009 import CLIENT_AUTH_METHODS, PresentedToken, find_token

if TYPE_CHECKING:
    from graphwarden.consent.oauth import AppClient, GraphwardenAuthorizationServer


class TokenIntrospection(IntrospectionEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS
    server: GraphwardenAuthorizationServer

    def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
        return find_token(self.server, token_string, token_type_hint)

    def check_permission(self, token: PresentedToken, client: AppClient, request: Any) -> bool:
        return token.check_client(client)

    def introspect_token(self, token: PresentedToken) -> dict[str, Any]:
        return {
            "active": True,
            "client_id": str(token.app_id),
            "token_type": "Bearer" if token.kind == "access_token" else "refresh_token",
            "scope": token.scope,
            "sub": str(token.person_id),
            "aud": str(token.app_id),
            "iss": self.server.issuer,
            "exp": int(token.expires_at.timestamp()),
            "iat": int(token.issued_at.timestamp()),
        }


__all__ = ["TokenIntrospection"]
