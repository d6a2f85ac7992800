"""A third-party app's side of OAuth 2.0: the requests a real app and its user's browser make.

Authorization code with PKCE S256 (RFC 7636), over any ``httpx.Client`` (loopback to a
running ``graphwarden serve``, or an in-process transport: the same requests either way):

1. the app sends the browser to ``/oauth/authorize`` with a code challenge and a state;
2. the browser signs in (demo sign-in: ``demo-<id>``) and posts the consent form, keeping
   every box the screen offers checked (what a person clicking "Allow" does);
3. the app reads ``code`` (and checks ``state``) from the redirect and exchanges it at
   ``/oauth/token`` with its secret (HTTP Basic) and the code verifier.

A step the server refuses raises :class:`~graphwarden.core.errors.AuthError` with the
server's words (the app could not get a token).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from html import unescape
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from graphwarden.core.errors import AuthError

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_GRANT = re.compile(r'name="grant" value="([^"]+)"')
_ACTION = re.compile(r'<form method="post" action="(/oauth/authorize[^"]*)"')


@dataclass(frozen=True, slots=True)
class AppCredentials:
    """What a developer holds after registering an app."""

    client_id: str
    client_secret: str
    redirect_uri: str


@dataclass(frozen=True, slots=True)
class TokenSet:
    access_token: str
    scope: frozenset[str]
    refresh_token: str | None


def _first(pattern: re.Pattern[str], html: str, what: str) -> str:
    match = pattern.search(html)
    if match is None:
        raise AuthError(f"the {what} was not found on the page")
    return unescape(match.group(1))


def _check(response: httpx.Response, expected: tuple[int, ...], step: str) -> None:
    if response.status_code not in expected:
        detail = response.text[:200].replace("\n", " ")
        raise AuthError(f"{step}: HTTP {response.status_code}: {detail}")


def authorize(
    http: httpx.Client,
    app: AppCredentials,
    *,
    person_id: int,
    scope: list[str],
    decline: frozenset[str] = frozenset(),
) -> TokenSet:
    """Run the whole flow for ``person_id`` and return the app's tokens.

    The browser's cookies are cleared first, so each person signs in on their own.
    """
    http.cookies.clear()
    verifier = secrets.token_urlsafe(48)
    state = secrets.token_urlsafe(16)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": app.client_id,
            "redirect_uri": app.redirect_uri,
            "scope": " ".join(scope),
            "state": state,
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
        }
    )
    authorize_url = f"/oauth/authorize?{query}"
    r = http.get(authorize_url)
    if r.status_code == 302:  # an error sent back to the app's redirect URI
        raise AuthError(f"authorize: {_callback_error(r.headers['location'])}")
    _check(r, (303,), "authorize")
    login = http.get("/login")
    _check(login, (200,), "sign-in page")
    r = http.post(
        "/login",
        data={
            "csrf_token": _first(_CSRF, login.text, "sign-in form"),
            "identifier": str(person_id),
            "password": f"demo-{person_id}",
        },
    )
    _check(r, (303,), "sign-in")
    screen = http.get(r.headers["location"])
    if screen.status_code == 302:
        raise AuthError(f"consent: {_callback_error(screen.headers['location'])}")
    _check(screen, (200,), "consent screen")
    offered = [unescape(g) for g in _GRANT.findall(screen.text)]
    action = _first(_ACTION, screen.text, "consent form")
    r = http.post(
        action,
        data={
            "csrf_token": _first(_CSRF, screen.text, "consent form"),
            "decision": "allow",
            "grant": [g for g in offered if g not in decline],
        },
    )
    _check(r, (302,), "consent")
    params = parse_qs(urlsplit(r.headers["location"]).query)
    if "error" in params:
        raise AuthError(f"consent: {_callback_error(r.headers['location'])}")
    if params.get("state", [""])[0] != state:
        raise AuthError("consent: the state came back changed (possible CSRF)")
    code = params.get("code", [""])[0]
    token = http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": app.redirect_uri,
            "code_verifier": verifier,
        },
        auth=(app.client_id, app.client_secret),
    )
    _check(token, (200,), "token")
    body = token.json()
    return TokenSet(
        access_token=str(body["access_token"]),
        scope=frozenset(str(body.get("scope", "")).replace(",", " ").split()),
        refresh_token=body.get("refresh_token"),
    )


def _callback_error(location: str) -> str:
    params = parse_qs(urlsplit(location).query)
    error = params.get("error", ["unknown"])[0]
    description = params.get("error_description", [""])[0]
    return f"{error}: {description}".rstrip(": ")


__all__ = ["AppCredentials", "TokenSet", "authorize"]
