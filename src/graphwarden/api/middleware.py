"""The request-id middleware: every request gets an id that names it everywhere.

The id is the ``fbtrace_id`` of any error, the ``request_id`` of the request's ledger batch,
and is sent back as ``X-FB-Trace-ID`` and ``X-Request-Id``. The middleware is also the last
line of defence: an exception nothing else handled becomes the Graph API's error 1 with
HTTP 500 and no detail (the traceback goes to the log, never to the client).

Written as plain ASGI rather than Starlette's ``BaseHTTPMiddleware``: it sits on the hot
path, and a plain wrapper costs one function call per message.
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphwarden.api.errors import unknown_error

log = logging.getLogger("graphwarden.api")

TRACE_HEADER = b"x-fb-trace-id"
REQUEST_ID_HEADER = b"x-request-id"


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


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id_of(scope)
        ids = [(TRACE_HEADER, rid.encode()), (REQUEST_ID_HEADER, rid.encode())]
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), *ids]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unexpected error serving %s (request %s)", scope.get("path"), rid)
            if started:  # the status line is gone; all that is left is to cut the response
                raise
            body = json.dumps(unknown_error().body(rid)).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        *ids,
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})


__all__ = ["RequestIdMiddleware", "new_request_id", "request_id_of"]
