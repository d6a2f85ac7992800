"""The ASGI application: the versioned Graph API with the ledger, OAuth and developer-platform
endpoints (the pages are added by the composition root, :mod:`graphwarden.server`).

``create_app`` wires the store, the consent service, the disclosure ledger and the policy into
a :class:`~graphwarden.api.reader.GraphReader`, and refuses to start on a database that is
not migrated to exactly this code's schema. ``app_from_env`` is the uvicorn factory
(``graphwarden.api.app:app_from_env``, ``factory=True``) serves the API alone;
``graphwarden serve`` runs the whole platform, ``graphwarden.server:app_from_env``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence

from fastapi import APIRouter, FastAPI
from sqlalchemy import Engine

from graphwarden import __version__
from graphwarden.api.cursors import CursorCodec
from graphwarden.api.graph_routes import router as graph_router
from graphwarden.api.handlers import install_error_handlers
from graphwarden.api.ledger_routes import router as ledger_router
from graphwarden.api.middleware import EdgeMiddleware
from graphwarden.api.oauth_routes import router as oauth_router
from graphwarden.api.openapi import install_openapi
from graphwarden.api.platform_routes import router as platform_router
from graphwarden.api.ratelimit_middleware import install_rate_limits
from graphwarden.api.reader import GraphReader
from graphwarden.consent.removal import remove_app
from graphwarden.core.clock import Clock, SystemClock
from graphwarden.core.config import Settings, get_settings
from graphwarden.core.db import check_schema, create_store_engine
from graphwarden.ledger.interfaces import DisclosureLedger

log = logging.getLogger("graphwarden.api")

CURSOR_KEY_FILE = "cursor-key.hex"


def create_app(
    *,
    engine: Engine | None = None,
    settings: Settings | None = None,
    clock: Clock | None = None,
    ledger: DisclosureLedger | None = None,
    enforcement: bool = True,
    extra_routers: Sequence[APIRouter] = (),
    rate_limits: bool = True,
) -> FastAPI:
    """The Graph API application.

    ``enforcement=False`` turns the policy and the ledger off. It exists only so that
    ``benchmarks/bench_api.py`` can measure what enforcement costs; no setting, variable or
    command enables it. ``extra_routers`` (the pages, from the composition root) are mounted
    before the Graph API's catch-all routes. ``rate_limits`` installs the per-app and per-token
    limits (Redis when ``GRAPHWARDEN_REDIS_URL`` is set, else in memory).
    """
    settings = settings or get_settings()
    engine = engine if engine is not None else create_store_engine(settings.database_url)
    check_schema(engine)
    clock = clock or SystemClock()

    from graphwarden.consent.services import SqlConsentService
    from graphwarden.graph.store import SqlGraphStore

    store = SqlGraphStore(engine)
    consent = SqlConsentService(engine, clock)
    if enforcement and ledger is None:
        from graphwarden.ledger.service import SqlDisclosureLedger
        from graphwarden.ledger.signing import LedgerSigner

        if settings.ledger_integration == "deferred":
            # the workers only write; the integrator process hashes, builds and signs
            ledger = SqlDisclosureLedger(engine, None, clock, integration="deferred")
        else:
            signer = LedgerSigner.load_or_create(settings.data_dir)
            ledger = SqlDisclosureLedger(engine, signer, clock)
    if not enforcement:
        log.warning("Graph API created with enforcement OFF (benchmark only): no policy, no ledger")
    reader = GraphReader(
        remove_app=functools.partial(remove_app, engine, consent, clock=clock),
        store=store,
        consent=consent,
        ledger=ledger if enforcement else None,
        clock=clock,
        cursors=CursorCodec.from_key_file(settings.data_dir / CURSOR_KEY_FILE),
        enforcement=enforcement,
    )

    app = FastAPI(
        title="graphwarden Graph API",
        version=__version__,
        description="The versioned Graph API (v1.0, v2.0, v3.0): every field that leaves is "
        "decided by one policy and recorded in the disclosure ledger first.",
        # the reference page (Swagger UI from this server, no CDN) is one of the pages:
        # graphwarden.web.pages serves /docs
        docs_url=None,
        redoc_url=None,
        # Starlette's trailing-slash redirect builds its Location from the request's Host
        # header; a path with a stray slash is an unknown path instead (links and redirects
        # the server builds use the configured issuer, or a relative path)
        redirect_slashes=False,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.clock = clock
    app.state.store = store
    app.state.consent = consent
    app.state.ledger = ledger
    app.state.reader = reader
    app.state.enforcement = enforcement
    install_error_handlers(app)
    app.add_middleware(EdgeMiddleware)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    if rate_limits:
        install_rate_limits(app, settings, engine, clock)
    # before the Graph API's catch-all ``/{version}/{id}`` routes
    for router in (ledger_router, oauth_router, platform_router):
        app.include_router(router)
    for router in extra_routers:  # the HTML pages: not part of the API's document
        app.include_router(router, include_in_schema=False)
    app.include_router(graph_router)
    install_openapi(app)
    return app


def app_from_env() -> FastAPI:
    """The Graph API alone, settings from the environment, enforcement always on (the full
    platform with pages is ``graphwarden.server:app_from_env``)."""
    return create_app(settings=get_settings())


__all__ = ["CURSOR_KEY_FILE", "app_from_env", "create_app"]
