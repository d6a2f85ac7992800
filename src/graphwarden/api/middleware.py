"""The one response hook: every response of the platform passes through :class:`EdgeMiddleware`.

It adds, in one place and for every route (those registered later included):

* the request id, which names the request everywhere: the ``fbtrace_id`` of any error, the
  ``request_id`` of its ledger batch, sent back as ``X-FB-Trace-ID`` and ``X-Request-Id``;
* ``X-App-Usage`` when the rate limiter counted the call
  (:func:`graphwarden.api.ratelimit_middleware.enforce_rate_limit`);
* the security headers: ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy`` on every
  response; on every HTML page ``X-Frame-Options: DENY``, a Content-Security-Policy that
  allows nothing from another origin and no framing, and ``Cache-Control: no-store`` (pages
  carry CSRF tokens and personal data); on Graph API answers ``Cache-Control: private,
  no-store``.

It is also the last line of defence: an exception nothing else handled becomes the Graph
API's error 1 with HTTP 500 and no detail (the traceback goes to the log, never to the
client), or, for a browser on a page, the HTML error page (``app.state.html_errors``).

Written as plain ASGI rather than Starlette's ``BaseHTTPMiddleware``: it sits on the hot
path, and a plain wrapper costs one function call per message.
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphwarden.api.errors import unknown_error
from graphwarden.consent.ratelimit import UsageReport, usage_header
from graphwarden.core.types import API_VERSIONS

log = logging.getLogger("graphwarden.api")

TRACE_HEADER = b"x-fb-trace-id"
REQUEST_ID_HEADER = b"x-request-id"
APP_USAGE_HEADER = "X-App-Usage"
#: where :func:`enforce_rate_limit` leaves the usage report of a counted call
USAGE_STATE_KEY = "app_usage"

#: nothing from another origin, no inline script, no framing; forms may post to the
#: platform and the consent screen's decision redirects to the app's registered URI
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self' http: https:; frame-ancestors 'none'"
)
REFERRER_POLICY = "no-referrer"

#: headers every HTML page carries (checked by tests/integration/test_page_headers.py)
PAGE_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"cache-control", b"no-store"),
)
#: headers every response carries
EVERY_RESPONSE: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", REFERRER_POLICY.encode()),
)
GRAPH_API_CACHE = (b"cache-control", b"private, no-store")
_REPLACED = {b"cache-control", b"x-frame-options", b"content-security-policy"}
_GRAPH_PREFIXES = tuple(f"/{v}/" for v in API_VERSIONS)


def new_request_id() -> str:
    """A fresh, unguessable request id (22 url-safe characters)."""
    return secrets.token_urlsafe(16)


def request_id_of(scope: Scope) -> str:
    """The id the middleware gave this request (a fresh one outside the middleware)."""
    state: dict[str, Any] = scope.setdefault("state", {})
    rid = state.get("request_id")
    if not isinstance(rid, str):
        rid = new_request_id()
        state["request_id"] = rid
    return rid


def is_graph_api_path(path: str) -> bool:
    """Whether ``path`` is under a Graph API version (``/v2.0/me``, ``/v3.0/``)."""
    return path.startswith(_GRAPH_PREFIXES)


def _edge_headers(scope: Scope, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` with the request id, the usage report and the security headers added."""
    rid = request_id_of(scope).encode()
    content_type = b""
    for name, value in headers:
        if name.lower() == b"content-type":
            content_type = value.lower()
    added = [(TRACE_HEADER, rid), (REQUEST_ID_HEADER, rid), *EVERY_RESPONSE]
    report = scope.get("state", {}).get(USAGE_STATE_KEY)
    if isinstance(report, UsageReport):
        added.append((APP_USAGE_HEADER.lower().encode(), usage_header(report).encode()))
    kept = headers
    if content_type.startswith(b"text/html"):
        kept = [(n, v) for n, v in headers if n.lower() not in _REPLACED]
        added.extend(PAGE_HEADERS)
    elif is_graph_api_path(scope.get("path", "")):
        kept = [(n, v) for n, v in headers if n.lower() != b"cache-control"]
        added.append(GRAPH_API_CACHE)
    present = {n.lower() for n, _ in kept}
    return [*kept, *((n, v) for n, v in added if n not in present)]


class EdgeMiddleware:
    """Request id, usage report and security headers on every response (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id_of(scope)
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = _edge_headers(scope, list(message.get("headers", [])))
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("unexpected error serving %s (request %s)", scope.get("path"), rid)
            if started:  # the status line is gone; all that is left is to cut the response
                raise
            await self._failed(scope, receive, send_with_headers, rid)

    async def _failed(self, scope: Scope, receive: Receive, send: Send, rid: str) -> None:
        """Answer 500 without detail: the error page for a browser, else Graph API error 1."""
        app = scope.get("app")
        render = getattr(getattr(app, "state", None), "html_errors", None)
        request = Request(scope, receive)
        if render is not None and render.wants_page(request):
            response = render.response(request, 500)
            await response(scope, receive, send)
            return
        body = json.dumps(unknown_error().body(rid)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 500,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


#: the name it had when it only added the request id
RequestIdMiddleware = EdgeMiddleware

__all__ = [
    "APP_USAGE_HEADER",
    "CONTENT_SECURITY_POLICY",
    "EVERY_RESPONSE",
    "GRAPH_API_CACHE",
    "PAGE_HEADERS",
    "USAGE_STATE_KEY",
    "EdgeMiddleware",
    "RequestIdMiddleware",
    "is_graph_api_path",
    "new_request_id",
    "request_id_of",
]
