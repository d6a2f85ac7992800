"""The composition root: the whole platform as one ASGI application.

The Graph API, OAuth and ledger endpoints come from :mod:`graphwarden.api`, the pages (sign-in,
consent screen, settings, developer portal, admin pages) from :mod:`graphwarden.web`. Entry
points never import each other; this module is the one place that puts them together.
``graphwarden serve`` runs ``graphwarden.server:app_from_env`` under uvicorn.
"""

from __future__ import annotations

import asyncio
import copy
import multiprocessing
import signal
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import Engine

from graphwarden.api.app import create_app
from graphwarden.consent.oauth import build_oauth
from graphwarden.core.clock import Clock
from graphwarden.core.config import Settings, get_settings
from graphwarden.core.lifetime import die_with_parent
from graphwarden.web.pages import HtmlErrors
from graphwarden.web.pages import router as home_router
from graphwarden.web.portal_routes import router as portal_router
from graphwarden.web.routes import router as pages_router
from graphwarden.web.session import install_sessions


def create_server(**options: Any) -> FastAPI:
    """The platform: ``api.app.create_app(**options)`` plus the pages, their error pages (for
    browsers; the API keeps its JSON errors) and sessions."""
    app = create_app(extra_routers=(home_router, pages_router, portal_router), **options)
    app.state.html_errors = HtmlErrors()
    install_sessions(app, app.state.settings)
    return app


def logging_config(level: str = "info") -> dict[str, Any]:
    """The logging configuration ``graphwarden serve`` hands uvicorn, which applies it in the
    master and in every worker: uvicorn's own, plus the project's ``graphwarden`` loggers on
    the same stderr handler, and :class:`~graphwarden.core.redaction.RedactSecrets` on every
    handler and on the access, error and project loggers, so no token, code or secret from a
    query string (or anywhere else in a message) reaches a log line."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact_secrets": {"()": "graphwarden.core.redaction.RedactSecrets"}}
    for handler in config["handlers"].values():
        handler["filters"] = [*handler.get("filters", []), "redact_secrets"]
    loggers = config["loggers"]
    loggers["graphwarden"] = {
        "handlers": ["default"],
        "level": level.upper() if level in ("critical", "error", "warning", "info") else "DEBUG",
        "propagate": False,
    }
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "graphwarden"):
        loggers.setdefault(name, {})["filters"] = ["redact_secrets"]
    return config


def app_from_env() -> FastAPI:
    """The platform as ``graphwarden serve`` runs it: settings from the environment.

    In a worker process (uvicorn's workers are ``multiprocessing`` children of its master) the
    worker first arranges to be killed when the master dies, so a ``kill -9`` of the master
    never leaves workers serving on their own (:func:`~graphwarden.core.lifetime.die_with_parent`;
    SIGKILL is safe: a response's records are durable before its body leaves)."""
    master = multiprocessing.parent_process()
    if master is not None and master.pid is not None:
        die_with_parent(master.pid, signal.SIGKILL)
    return create_server(settings=get_settings())


#: the base URL the in-process server answers on (also its OAuth issuer)
IN_PROCESS_BASE = "https://graphwarden.test"


class PortalTransport(httpx.BaseTransport):
    """A synchronous httpx transport that hands each request to an ASGI application through
    ``httpx.ASGITransport``, on an event loop running in a helper thread (anyio's blocking
    portal): the requests an app would send over a socket, without the socket.

    :func:`in_process_client` uses it only where the calling thread already runs an event
    loop; elsewhere :class:`LoopTransport` does the same job with fewer thread hand-offs."""

    def __init__(self, app: Any, portal: Any) -> None:
        self._asgi = httpx.ASGITransport(app=app)
        self._portal = portal

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        replay = _replayable(request)

        async def send() -> httpx.Response:
            response = await self._asgi.handle_async_request(replay)
            content = await response.aread()
            return httpx.Response(
                response.status_code, headers=response.headers, content=content, request=request
            )

        result: httpx.Response = self._portal.call(send)
        return result


def _replayable(request: httpx.Request) -> httpx.Request:
    """The request with its body read, so the ASGI transport's async stream can send it."""
    body = request.read()
    return httpx.Request(request.method, request.url, headers=request.headers, content=body)


class LoopTransport(httpx.BaseTransport):
    """A synchronous httpx transport that runs an ASGI application on its own event loop, in
    the calling thread, only while a request is in flight.

    One long-lived task on that loop answers the requests, one at a time. It matters because
    anyio hands the application's synchronous endpoints to worker threads tied to the task at
    the root of the call: a root task per request would start a new worker thread for every
    request, and a blocking portal in a helper thread adds two thread hand-offs per request.
    The requests and the application are the same either way. ``close()`` ends the loop (the
    client closes its transport when its ``with`` block ends)."""

    def __init__(self, app: Any) -> None:
        self._asgi = httpx.ASGITransport(app=app)
        self._loop = asyncio.new_event_loop()
        self._inbox: asyncio.Queue[tuple[httpx.Request, asyncio.Future[httpx.Response]]] = (
            asyncio.Queue()
        )
        self._answering = self._loop.create_task(self._answer())

    async def _answer(self) -> None:
        while True:
            request, answered = await self._inbox.get()
            try:
                response = await self._asgi.handle_async_request(request)
                content = await response.aread()
            except Exception as exc:  # the caller's request fails, not the loop
                answered.set_exception(exc)
                continue
            answered.set_result(
                httpx.Response(response.status_code, headers=response.headers, content=content)
            )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answered: asyncio.Future[httpx.Response] = self._loop.create_future()
        self._inbox.put_nowait((_replayable(request), answered))
        response = self._loop.run_until_complete(answered)
        response.request = request
        return response

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._answering.cancel()
        with suppress(asyncio.CancelledError):
            self._loop.run_until_complete(self._answering)
        self._loop.run_until_complete(self._loop.shutdown_default_executor())
        self._loop.close()


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@contextmanager
def in_process_client(engine: Engine, data_dir: Path, clock: Clock) -> Iterator[httpx.Client]:
    """An ``httpx.Client`` on the real server application, in this process.

    The application is the one ``graphwarden serve`` runs, over ``engine``, with demo sign-in
    on: synthetic people sign in with ``demo-<id>``. Simulated app agents use it. The
    application runs on an event loop in the calling thread (:class:`LoopTransport`), or, when
    that thread already runs one, in a helper thread (:class:`PortalTransport`).
    """
    from anyio.from_thread import start_blocking_portal

    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=True),
        data_dir=data_dir,
        redis_url=None,
        issuer=IN_PROCESS_BASE,
    )
    # The replay's clock is simulated (the 2014 harvest ran over weeks): the edge rate limits,
    # which count wall-clock serving time, would throttle it at random; the policy and the
    # ledger are what it measures, and those are always on.
    server = create_server(engine=engine, settings=settings, clock=clock, rate_limits=False)
    server.state.oauth = build_oauth(
        server.state.consent, engine, issuer=IN_PROCESS_BASE, clock=clock, demo_login=True
    )
    options: dict[str, Any] = {"base_url": IN_PROCESS_BASE, "follow_redirects": False}
    if not _loop_running():
        with httpx.Client(transport=LoopTransport(server), **options) as client:
            yield client
        return
    with (
        start_blocking_portal() as portal,
        httpx.Client(transport=PortalTransport(server, portal), **options) as client,
    ):
        yield client


__all__ = [
    "IN_PROCESS_BASE",
    "LoopTransport",
    "PortalTransport",
    "app_from_env",
    "create_server",
    "in_process_client",
    "logging_config",
]
