"""The composition root: the whole platform as one ASGI application.

The Graph API, OAuth and ledger endpoints come from :mod:`graphwarden.api`, the pages (sign-in,
consent screen, settings, developer portal, admin pages) from :mod:`graphwarden.web`. Entry
points never import each other; this module is the one place that puts them together.
``graphwarden serve`` runs ``graphwarden.server:app_from_env`` under uvicorn.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import Engine

from graphwarden.api.app import create_app
from graphwarden.consent.oauth import build_oauth
from graphwarden.core.clock import Clock
from graphwarden.core.config import Settings, get_settings
from graphwarden.web.portal_routes import router as portal_router
from graphwarden.web.routes import router as pages_router
from graphwarden.web.session import install_sessions


def create_server(**options: Any) -> FastAPI:
    """The platform: ``api.app.create_app(**options)`` plus the pages and sessions."""
    app = create_app(extra_routers=(pages_router, portal_router), **options)
    install_sessions(app, app.state.settings)
    return app


def app_from_env() -> FastAPI:
    """The platform as ``graphwarden serve`` runs it: settings from the environment."""
    return create_server(settings=get_settings())


#: the base URL the in-process server answers on (also its OAuth issuer)
IN_PROCESS_BASE = "https://graphwarden.test"


class PortalTransport(httpx.BaseTransport):
    """A synchronous httpx transport that hands each request to an ASGI application through
    ``httpx.ASGITransport``, on an event loop running in a helper thread (anyio's blocking
    portal): the requests an app would send over a socket, without the socket."""

    def __init__(self, app: Any, portal: Any) -> None:
        self._asgi = httpx.ASGITransport(app=app)
        self._portal = portal

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        replay = httpx.Request(request.method, request.url, headers=request.headers, content=body)

        async def send() -> httpx.Response:
            response = await self._asgi.handle_async_request(replay)
            content = await response.aread()
            return httpx.Response(
                response.status_code, headers=response.headers, content=content, request=request
            )

        result: httpx.Response = self._portal.call(send)
        return result


@contextmanager
def in_process_client(engine: Engine, data_dir: Path, clock: Clock) -> Iterator[httpx.Client]:
    """An ``httpx.Client`` on the real server application, in this process.

    The application is the one ``graphwarden serve`` runs, over ``engine``, with demo sign-in
    on: synthetic people sign in with ``demo-<id>``. Simulated app agents use it.
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
    with (
        start_blocking_portal() as portal,
        httpx.Client(
            transport=PortalTransport(server, portal),
            base_url=IN_PROCESS_BASE,
            follow_redirects=False,
        ) as client,
    ):
        yield client


__all__ = [
    "IN_PROCESS_BASE",
    "PortalTransport",
    "app_from_env",
    "create_server",
    "in_process_client",
]
