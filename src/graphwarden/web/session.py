"""Signed-cookie sessions, sign-in state and CSRF tokens for every server-rendered page.

The session is a small JSON dict in a cookie signed with itsdangerous (Starlette's
``SessionMiddleware``): nothing is stored server-side, so any number of workers can serve it.
The cookie is ``HttpOnly`` and ``SameSite=Lax`` always, and ``Secure`` when the issuer is https.

What a page needs::

    from graphwarden.web.session import current_person, csrf_token, verify_csrf, templates

    person = current_person(request)            # PersonId | None
    admin = current_admin(request)              # AdminSession | None
    token = csrf_token(request)                 # put in every <form> as name="csrf_token"
    verify_csrf(request, form.get("csrf_token"))  # True, or raises PermissionDenied

``templates`` renders ``web/templates/*.html`` with autoescape on; the base layout reads
``csrf_token(request)`` and the signed-in person itself.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
from base64 import b64decode, b64encode
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, TimestampSigner
from sqlalchemy import Engine
from starlette.middleware.sessions import Session, SessionMiddleware

from graphwarden.consent.sessions import (
    ADMIN_KEY,
    ISSUED_KEY,
    PERSON_KEY,
    SID_KEY,
    now_us,
    revoke_session,
    session_is_live,
)
from graphwarden.core.config import Settings
from graphwarden.core.errors import ConfigError, PermissionDenied
from graphwarden.core.types import PersonId

#: name of the session cookie
SESSION_COOKIE = "graphwarden_session"
#: a signed-in session lasts at most this long (seconds); the signature carries the timestamp
SESSION_MAX_AGE = 12 * 3600
#: the form field every state-changing form carries
CSRF_FIELD = "csrf_token"

_PERSON_KEY = PERSON_KEY
_ADMIN_KEY = ADMIN_KEY
_ADMIN_NAME_KEY = "admin_username"
_CSRF_KEY = "csrf"
_SID_KEY = SID_KEY
_ISSUED_KEY = ISSUED_KEY
_SECRET_FILE = "session_secret"  # noqa: S105 - a file name, not a secret

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True, slots=True)
class AdminSession:
    """A platform admin signed in on this session."""

    id: int
    username: str


# --- configuration --------------------------------------------------------------------------


def load_session_secret(settings: Settings, environ: dict[str, str] | None = None) -> str:
    """The key that signs session cookies.

    ``GRAPHWARDEN_SESSION_SECRET`` when set; otherwise a random key created on first run in
    ``<data_dir>/session_secret`` (mode 0600) so that restarts keep people signed in.
    """
    env = os.environ if environ is None else environ
    configured = env.get("GRAPHWARDEN_SESSION_SECRET")
    if configured:
        if len(configured) < 32:
            raise ConfigError("GRAPHWARDEN_SESSION_SECRET must be at least 32 characters")
        return configured
    path = settings.data_dir / _SECRET_FILE
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    # O_EXCL: when two workers start at once, one writes and the other reads the winner's key
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret)
    return secret


def install_sessions(app: FastAPI, settings: Settings, *, secret: str | None = None) -> None:
    """Add signed-cookie sessions to ``app``: HttpOnly, SameSite=Lax, Secure under https."""
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret or load_session_secret(settings),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=settings.issuer.startswith("https://"),
    )


class SessionRoute(APIRoute):
    """A route that carries the signed-cookie session itself, for routers mounted on an
    application without :func:`install_sessions`: ``APIRouter(route_class=SessionRoute)``.

    Same cookie, same format and flags as the middleware (the two interoperate); when the
    middleware is installed the route does nothing extra.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            if "session" in request.scope:
                return await original(request)
            signer, secure = _signer(request)
            raw = request.cookies.get(SESSION_COOKIE)
            data: dict[str, Any] = {}
            if raw:
                try:
                    data = json.loads(b64decode(signer.unsign(raw, max_age=SESSION_MAX_AGE)))
                except (BadSignature, ValueError):
                    data = {}
            session = Session(data if isinstance(data, dict) else {})
            request.scope["session"] = session
            response = await original(request)
            if session.modified:
                flags = "httponly; samesite=lax" + ("; secure" if secure else "")
                if session:
                    value = signer.sign(b64encode(json.dumps(session).encode())).decode()
                    cookie = f"{SESSION_COOKIE}={value}; path=/; Max-Age={SESSION_MAX_AGE}; "
                else:
                    cookie = f"{SESSION_COOKIE}=null; path=/; Max-Age=0; "
                response.headers.append("Set-Cookie", cookie + flags)
            return response

        return handler


def _signer(request: Request) -> tuple[TimestampSigner, bool]:
    state = request.app.state
    cached = getattr(state, "session_signer", None)
    settings: Settings | None = getattr(state, "settings", None)
    if settings is None:
        raise ConfigError("the application state has no settings for sessions")
    if cached is None:
        cached = TimestampSigner(load_session_secret(settings))
        state.session_signer = cached
    return cached, settings.issuer.startswith("https://")


# --- session state --------------------------------------------------------------------------


def session_of(request: Request) -> dict[str, Any]:
    """The request's session dict (requires :func:`install_sessions`)."""
    if "session" not in request.scope:
        raise ConfigError("sessions are not installed: call web.session.install_sessions(app)")
    session: dict[str, Any] = request.session
    return session


def current_person(request: Request) -> PersonId | None:
    """The person signed in on this request's session, or None (also when the session was
    signed out elsewhere or ended by a password change: it is then cleared)."""
    session = session_of(request)
    value = session.get(_PERSON_KEY)
    if not isinstance(value, int) or not _live(request, session, f"person:{value}"):
        return None
    return PersonId(value)


def current_admin(request: Request) -> AdminSession | None:
    """The platform admin signed in on this request's session, or None."""
    session = session_of(request)
    admin_id, username = session.get(_ADMIN_KEY), session.get(_ADMIN_NAME_KEY)
    if not isinstance(admin_id, int) or not isinstance(username, str):
        return None
    if not _live(request, session, f"admin:{admin_id}"):
        return None
    return AdminSession(id=admin_id, username=username)


def sign_in_person(request: Request, person: PersonId) -> None:
    """Start a fresh session for ``person`` (a new CSRF token: no fixation across sign-in)."""
    session = _fresh(request)
    session[_PERSON_KEY] = int(person)


def sign_in_admin(request: Request, admin_id: int, username: str) -> None:
    """Start a fresh session for a platform admin."""
    session = _fresh(request)
    session[_ADMIN_KEY] = int(admin_id)
    session[_ADMIN_NAME_KEY] = username


def sign_out(request: Request) -> None:
    """End the session: the cookie is deleted on the response, and the session is revoked on
    the server, so a copy of the cookie kept elsewhere no longer signs anyone in."""
    session = session_of(request)
    sid, issued = session.get(_SID_KEY), session.get(_ISSUED_KEY)
    if isinstance(sid, str) and isinstance(issued, int):
        revoke_session(_engine(request), sid, issued + SESSION_MAX_AGE * 1_000_000)
    session.clear()


def _fresh(request: Request) -> dict[str, Any]:
    session = session_of(request)
    session.clear()
    session[_SID_KEY] = secrets.token_urlsafe(24)
    session[_ISSUED_KEY] = now_us()
    session[_CSRF_KEY] = secrets.token_urlsafe(32)
    return session


def _live(request: Request, session: dict[str, Any], who: str) -> bool:
    """Whether the signed-in session is still valid on the server; a dead one is cleared.
    A session without an id (from before revocation existed) counts as signed out."""
    sid, issued = session.get(_SID_KEY), session.get(_ISSUED_KEY)
    live = (
        isinstance(sid, str)
        and isinstance(issued, int)
        and session_is_live(_engine(request), sid, who, issued)
    )
    if not live:
        session.clear()
    return live


def _engine(request: Request) -> Engine:
    """The store sessions are revoked in: the composition root's engine (``state.engine``),
    or the OAuth components' when only they are mounted."""
    state = request.app.state
    engine = getattr(state, "engine", None)
    if engine is None:
        engine = getattr(getattr(state, "oauth", None), "engine", None)
    if not isinstance(engine, Engine):
        raise ConfigError("sessions need the application's store (state.engine) to check")
    return engine


def stash(request: Request, key: str, value: Any) -> None:
    """Keep a small JSON value on the session (e.g. where to return after sign-in)."""
    session_of(request)[f"x:{key}"] = value


def unstash(request: Request, key: str) -> Any:
    """Take back a value kept with :func:`stash` (None when absent)."""
    return session_of(request).pop(f"x:{key}", None)


# --- CSRF -----------------------------------------------------------------------------------


def csrf_token(request: Request) -> str:
    """This session's CSRF token, created on first use; put it in every form."""
    session = session_of(request)
    token = session.get(_CSRF_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[_CSRF_KEY] = token
    return token


def verify_csrf(request: Request, token: str | None) -> bool:
    """Check a submitted CSRF token against the session's; True, or raise ``PermissionDenied``.

    The session cookie is SameSite=Lax and HttpOnly, so another site can neither read the
    token nor make the browser send the session on a cross-site POST; the token is the
    second lock.
    """
    expected = session_of(request).get(_CSRF_KEY)
    if (
        not isinstance(expected, str)
        or not isinstance(token, str)
        or not hmac.compare_digest(expected.encode(), token.encode())
    ):
        raise PermissionDenied("the form's CSRF token is missing or does not match this session")
    return True


# --- templates ------------------------------------------------------------------------------


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        # every template escapes by default, whatever its extension
        autoescape=True,
    )
    env.globals["csrf_token"] = csrf_token
    env.globals["current_person"] = current_person
    env.globals["current_admin"] = current_admin
    env.globals["CSRF_FIELD"] = CSRF_FIELD
    env.filters["datetime"] = _utc_date
    return env


def _utc_date(seconds: int) -> str:
    """``1401613200`` -> ``2014-06-01`` (UTC)."""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(int(seconds), UTC).strftime("%Y-%m-%d")


#: renders ``web/templates``: ``templates.TemplateResponse(request, "x.html", {...})``
templates = Jinja2Templates(env=_environment())


__all__ = [
    "CSRF_FIELD",
    "SESSION_COOKIE",
    "SESSION_MAX_AGE",
    "TEMPLATES_DIR",
    "AdminSession",
    "SessionRoute",
    "csrf_token",
    "current_admin",
    "current_person",
    "install_sessions",
    "load_session_secret",
    "session_of",
    "sign_in_admin",
    "sign_in_person",
    "sign_out",
    "stash",
    "templates",
    "unstash",
    "verify_csrf",
]
