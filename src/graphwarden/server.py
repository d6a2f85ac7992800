"""The composition root: the whole platform as one ASGI application.

The Graph API, OAuth and ledger endpoints come from :mod:`graphwarden.api`, the pages (sign-in,
consent screen, settings, developer portal, admin pages) from :mod:`graphwarden.web`. Entry
points never import each other; this module is the one place that puts them together.
``graphwarden serve`` runs ``graphwarden.server:app_from_env`` under uvicorn.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from graphwarden.api.app import create_app
from graphwarden.core.config import get_settings
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


__all__ = ["app_from_env", "create_server"]
