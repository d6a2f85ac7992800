"""Authorization server metadata (RFC 8414), with RFC 9207's ``iss`` flag.

Served at ``/.well-known/oauth-authorization-server``; what it advertises is exactly what the
server does: the code grant with PKCE S256, two client authentication methods, revocation and
introspection for the token's own app.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

from graphwarden.consent.rfc7009 import CLIENT_AUTH_METHODS


def server_metadata(issuer: str, scopes: list[str] | None = None) -> dict[str, Any]:
    """The metadata document for ``issuer`` (validated with Authlib's RFC 8414 model when
    the issuer is https, as §2 requires of a production issuer)."""
    issuer = issuer.rstrip("/")
    data: dict[str, Any] = {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth/authorize",
        "token_endpoint": f"{issuer}/oauth/token",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": list(CLIENT_AUTH_METHODS),
        "revocation_endpoint_auth_methods_supported": list(CLIENT_AUTH_METHODS),
        "introspection_endpoint_auth_methods_supported": list(CLIENT_AUTH_METHODS),
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "service_documentation": f"{issuer}/docs/oauth",
    }
    if scopes:
        data["scopes_supported"] = sorted(scopes)
    if issuer.startswith("https://"):
        AuthorizationServerMetadata(data).validate()
    return data


__all__ = ["server_metadata"]
