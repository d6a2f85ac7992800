"""The OAuth 2.0 endpoints apps call: token, revocation, introspection, server metadata.

Every answer is JSON in RFC 6749 §5.2 form (``error``, ``error_description``) with
``Cache-Control: no-store``; malformed input is a 400, never a traceback or a 500. The
consent screen (``/oauth/authorize``) is a page and lives in ``web/routes.py``.
"""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from graphwarden.api.openapi import form_body, oauth_errors
from graphwarden.consent.oauth import (
    OAuthComponents,
    oauth_components,
)
from graphwarden.consent.oauth_http import OAuthHttpRequest, OAuthResponse
from graphwarden.consent.rfc8414 import server_metadata
from graphwarden.core.errors import GraphwardenError

router = APIRouter()

_MAX_FORM_FIELDS = 50


def _oauth(request: Request) -> OAuthComponents:
    return oauth_components(request.app.state)


def _error(status: int, error: str, description: str) -> Response:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


def _bad_basic(header: str | None) -> bool:
    """Whether an ``Authorization: Basic`` credential is malformed: not base64, not UTF-8
    once decoded, or without the ``:`` between client id and secret (RFC 7617 §2)."""
    if header is None:
        return False
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
        return True
    return ":" not in decoded


def _invalid_client() -> Response:
    """RFC 6749 §5.2: a client that tried the Authorization header gets 401 and a
    ``WWW-Authenticate`` challenge in the scheme it used."""
    return JSONResponse(
        {"error": "invalid_client", "error_description": "malformed Basic credentials"},
        status_code=401,
        headers={
            "Cache-Control": "no-store",
            "WWW-Authenticate": 'Basic realm="graphwarden", error="invalid_client"',
        },
    )


async def _plain(request: Request, issuer: str) -> OAuthHttpRequest | Response:
    if _bad_basic(request.headers.get("authorization")):
        return _invalid_client()
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("application/x-www-form-urlencoded"):
        # RFC 6749 §3.2: token requests are form-encoded
        return _error(400, "invalid_request", "send application/x-www-form-urlencoded")
    try:
        data = await request.form(max_fields=_MAX_FORM_FIELDS, max_files=0)
    except Exception:  # a malformed body is the client's error, never a 500
        return _error(400, "invalid_request", "the request body could not be parsed")
    form = [(k, v) for k, v in data.multi_items() if isinstance(v, str)]
    query = request.url.query
    return OAuthHttpRequest(
        method=request.method,
        url=issuer + request.url.path + (f"?{query}" if query else ""),
        headers=request.headers,
        query=list(request.query_params.multi_items()),
        form=form,
    )


def _response(result: OAuthResponse) -> Response:
    return Response(content=result.body, status_code=result.status, headers=dict(result.headers))


async def _answer(request: Request, work: Any) -> Response:
    components = _oauth(request)
    plain = await _plain(request, components.issuer)
    if isinstance(plain, Response):
        return plain
    try:
        result: OAuthResponse = await run_in_threadpool(work, components, plain)
    except GraphwardenError as exc:
        return _error(503, "temporarily_unavailable", type(exc).__name__)
    return _response(result)


_CLIENT = {
    "client_id": "the app's id (or HTTP Basic authentication)",
    "client_secret": "the app's secret (or HTTP Basic authentication)",
}
_TOKEN_FORM = {
    "token": "the token",
    "token_type_hint": "access_token or refresh_token",
    **_CLIENT,
}


@router.post(
    "/oauth/token",
    responses=oauth_errors(400, 401, 503),
    openapi_extra=form_body(
        {
            "grant_type": "authorization_code or refresh_token",
            "code": "the authorization code",
            "redirect_uri": "the redirect URI the code was issued for",
            "code_verifier": "the PKCE verifier (RFC 7636)",
            "refresh_token": "the refresh token",
            "scope": "a narrower scope for a refresh",
            **_CLIENT,
        },
        ["grant_type"],
    ),
)
async def token(request: Request) -> Response:
    """RFC 6749 §3.2: exchange a code (with its PKCE verifier) or a refresh token."""
    return await _answer(request, lambda c, p: c.server.token_response(p))


@router.post(
    "/oauth/revoke",
    responses=oauth_errors(400, 401, 503),
    openapi_extra=form_body(_TOKEN_FORM, ["token"]),
)
async def revoke(request: Request) -> Response:
    """RFC 7009: revoke an access or refresh token; 200 even for unknown tokens."""
    return await _answer(request, lambda c, p: c.server.endpoint_response("revocation", p))


@router.post(
    "/oauth/introspect",
    responses=oauth_errors(400, 401, 503),
    openapi_extra=form_body(_TOKEN_FORM, ["token"]),
)
async def introspect(request: Request) -> Response:
    """RFC 7662: the app itself, authenticated, asks whether its token is active."""
    return await _answer(request, lambda c, p: c.server.endpoint_response("introspection", p))


@router.get("/.well-known/oauth-authorization-server")
async def metadata(request: Request) -> Response:
    """RFC 8414 authorization server metadata."""
    return JSONResponse(server_metadata(_oauth(request).issuer))


__all__ = ["router"]
