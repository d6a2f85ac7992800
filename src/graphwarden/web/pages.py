"""What every page shares, and the pages that belong to no one area: the home page, the API
reference (Swagger UI served from this server), the OAuth guide, and the HTML error pages.

:func:`page` renders a template of ``web/templates`` (all of them extend ``base.html``, the one
navigation). Its security headers are not set here: the one response hook
(:class:`graphwarden.api.middleware.EdgeMiddleware`) adds them to every HTML response.

Errors: the composition root puts an :class:`HtmlErrors` on ``app.state.html_errors``; the
API's error handlers ask it whether a request is a browser on a page (``Accept: text/html``,
and a path outside the Graph API, the OAuth endpoints and the ledger) and, if so, answer its
HTML error page instead of a Graph API error object. The API keeps answering JSON.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from graphwarden.consent.roles import apps_with_role
from graphwarden.core.errors import NotFound
from graphwarden.core.types import API_VERSIONS, PersonId
from graphwarden.ledger.recipients import apps_that_received
from graphwarden.web.session import current_admin, current_person, templates

log = logging.getLogger("graphwarden.web")

router = APIRouter()

STATIC_DIR = Path(__file__).resolve().parent / "static"

#: paths that answer machines (JSON), whatever the client accepts
API_PREFIXES: tuple[str, ...] = (
    *(f"/{v}/" for v in API_VERSIONS),
    "/oauth/token",
    "/oauth/revoke",
    "/oauth/introspect",
    "/.well-known/",
    "/ledger/",
    "/openapi.json",
    "/healthz",
)

_TITLES = {
    400: "That request was not valid",
    401: "Please sign in",
    403: "Not allowed",
    404: "Page not found",
    405: "Not allowed here",
    429: "Too many attempts",
    500: "Something went wrong",
}
_MESSAGES = {
    404: "There is no page at this address. It may have moved, or the link is wrong.",
    405: "This address does not answer that kind of request.",
    500: "The platform could not answer this request. Nothing was shared; please try again.",
}


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Render template ``name`` (which extends ``base.html``) with ``context``."""
    return templates.TemplateResponse(request, name, context, status_code=status)


def is_api_path(path: str) -> bool:
    """Whether ``path`` answers machines (JSON) rather than people (HTML)."""
    return path.startswith(API_PREFIXES) or path in {p.rstrip("/") for p in API_PREFIXES}


class HtmlErrors:
    """The HTML error pages for browsers (404, 403, 405, 500, ...)."""

    def wants_page(self, request: Request) -> bool:
        """A browser asking for a page: ``text/html`` accepted and not an API path."""
        accept = request.headers.get("accept", "")
        return "text/html" in accept and not is_api_path(request.url.path)

    def response(
        self,
        request: Request,
        status: int,
        message: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """The error page for ``status``; a minimal page if even rendering fails."""
        if status == 400 and message and message.startswith("Unknown path components"):
            status = 404  # the Graph API's answer for an unknown path; to a person, not found
        title = _TITLES.get(status, "That did not work")
        text = _MESSAGES.get(status) or message or title
        try:
            response: Response = page(
                request, "error.html", status, title=title, message=text, code=status
            )
        except Exception:  # the error page must not fail: a plain page without the layout
            log.exception("the error page could not be rendered")
            response = HTMLResponse(
                f"<!doctype html><title>{title}</title><h1>{title}</h1>", status_code=status
            )
        for name, value in (headers or {}).items():
            response.headers[name] = value
        return response


# --- home -----------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    """Signed out: what graphwarden is and where to go. Signed in: the person's notices, the
    apps that received their data, their apps and activity; developers and admins: their
    pages."""
    person = current_person(request)
    admin = current_admin(request)
    context: dict[str, Any] = {"person": person, "admin": admin}
    if person is not None:
        context.update(await run_in_threadpool(_person_home, request, person))
    return page(request, "home.html", **context)


def _person_home(request: Request, person: PersonId) -> dict[str, Any]:
    state = request.app.state
    engine, consent = state.engine, state.consent
    received = apps_that_received(engine, int(person))
    names = {}
    for r in received:
        app = consent.get_app(r.app_id)
        names[r.app_id] = app.name if app is not None else f"app {r.app_id}"
    authorized = [a for a in consent.authorizations_by(person) if a.removed_at is None]
    return {
        "received": [(r, names[r.app_id]) for r in received],
        "authorized": len(authorized),
        "developer_apps": len(apps_with_role(engine, int(person))),
        "notices": [],
        "disclosed": sum(r.records for r in received),
    }


# --- API docs -------------------------------------------------------------------------------


def _swagger_dir() -> Path:
    """Swagger UI 5 as the ``fastapi-offline`` package ships it (its static files only: the
    page and its script are graphwarden's, without inline script, under the pages' CSP)."""
    import fastapi_offline

    return Path(fastapi_offline.__file__).resolve().parent / "static"


#: the Swagger UI files /docs uses, and where each comes from
_ASSETS = {
    "swagger-ui.css": ("bundle", "text/css"),
    "swagger-ui-bundle.js": ("bundle", "text/javascript"),
    "favicon.png": ("bundle", "image/png"),
    "swagger-init.js": ("static", "text/javascript"),
}


@router.get("/docs", response_class=HTMLResponse)
async def api_docs(request: Request) -> Response:
    """The Graph API reference: Swagger UI, every asset served from this server."""
    return page(request, "docs_api.html")


@router.get("/docs/assets/{name}")
async def docs_asset(name: str) -> Response:
    """One Swagger UI asset (from the ``fastapi-offline`` package) or the page's script."""
    found = _ASSETS.get(name)
    if found is None:
        raise NotFound(f"no asset {name[:40]!r}")
    where, media_type = found
    folder = _swagger_dir() if where == "bundle" else STATIC_DIR
    return FileResponse(
        folder / name, media_type=media_type, headers={"Cache-Control": "public, max-age=3600"}
    )


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> Response:
    """The icon browsers ask every site for (Swagger UI's, from the same package)."""
    return FileResponse(
        _swagger_dir() / "favicon.png",
        media_type="image/png",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.get("/docs/oauth", response_class=HTMLResponse)
async def oauth_docs(request: Request) -> Response:
    """How an app signs people in: the OAuth metadata's ``service_documentation``."""
    issuer = request.app.state.settings.issuer
    return page(request, "docs_oauth.html", issuer=issuer, versions=API_VERSIONS)


@router.get("/docs/oauth/", include_in_schema=False)
async def oauth_docs_slash() -> Response:
    return RedirectResponse("/docs/oauth", status_code=308)


__all__ = ["API_PREFIXES", "STATIC_DIR", "HtmlErrors", "is_api_path", "page", "router"]
