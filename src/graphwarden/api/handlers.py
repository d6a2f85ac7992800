"""Exception handlers: everything the Graph API answers in error is a Graph API error object.

FastAPI's own 422 (validation), Starlette's 404/405 and graphwarden's exception tree all
become ``{"error": {...}}`` with a JSON content type and a 4xx status; bad input never
answers 5xx. Unexpected exceptions are left to :class:`EdgeMiddleware`, which logs them
and answers error 1 / HTTP 500 without detail. A browser asking for a page (not the API) gets
the HTML error page of the same status instead (see :func:`error_response`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match

from graphwarden.api.errors import (
    GraphApiError,
    from_domain,
    invalid_parameter,
    method_not_allowed,
    unknown_path,
)
from graphwarden.api.middleware import request_id_of
from graphwarden.core.errors import GraphwardenError


def error_response(
    request: Request, error: GraphApiError, headers: dict[str, str] | None = None
) -> Response:
    """The JSON response of ``error`` for ``request``; for a browser on a page (never on the
    Graph API, OAuth or ledger endpoints) the HTML error page of the same status, when the
    composition root installed the pages (``app.state.html_errors``)."""
    pages = getattr(request.app.state, "html_errors", None)
    if pages is not None and pages.wants_page(request):
        merged = {**error.headers, **(headers or {})}
        result: Response = pages.response(request, error.status, error.message, merged)
        return result
    headers = {**error.headers, **(headers or {})}
    if error.code == 190:
        # RFC 6750 §3: say which scheme and why, even though the status is the Graph API's 400
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return JSONResponse(
        error.body(request_id_of(request.scope)), status_code=error.status, headers=headers
    )


async def _graph_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GraphApiError)
    return error_response(request, exc)


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GraphwardenError)
    return error_response(request, from_domain(exc))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    where = "request"
    errors = exc.errors()
    if errors:
        loc = errors[0].get("loc") or ()
        where = str(loc[-1]) if loc else where
    return error_response(request, invalid_parameter(f"Invalid parameter ({where[:60]})"))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405:
        # every route on this path counts (Starlette names only the first it tried)
        allowed = _allowed(request) or (exc.headers or {}).get("Allow")
        return error_response(request, method_not_allowed(request.method, allowed))
    if exc.status_code == 404:
        return error_response(request, unknown_path(request.url.path))
    if 400 <= exc.status_code < 500:
        error = invalid_parameter(str(exc.detail)[:200])
        error.status = exc.status_code
        return error_response(request, error)
    return error_response(request, from_domain(GraphwardenError(str(exc.detail))))


def _allowed(request: Request) -> str | None:
    """The methods the routes matching this path accept, together (``Allow`` of a 405,
    RFC 9110 §15.5.6)."""
    methods: set[str] = set()
    for route in _leaf_routes(request.app.router.routes):
        match, _ = route.matches(request.scope)
        route_methods = getattr(route, "methods", None)
        if match is not Match.NONE and route_methods:
            methods |= set(route_methods)
    return ", ".join(sorted(methods)) or None


def _leaf_routes(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    # an included router (mounted without a prefix here) stands for the routes it holds
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _leaf_routes(inner.routes)
        else:
            yield route


def install_error_handlers(app: FastAPI) -> None:
    """Render every error of ``app`` as a Graph API error object."""
    app.add_exception_handler(GraphApiError, _graph_api_error)
    app.add_exception_handler(GraphwardenError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)


__all__ = ["error_response", "install_error_handlers"]
