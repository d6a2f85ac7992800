"""What the OpenAPI document says about errors, declared once for every route.

Each route lists the statuses it can answer besides 200 with ``responses=graph_errors(...)``
(Graph API error objects) or ``responses=oauth_errors(...)`` (RFC 6749 §5.2 objects), so the
document at ``/openapi.json`` matches what the API answers; a schemathesis run in the test
suite holds the two together. FastAPI's default 422 is never answered (the handlers turn
validation errors into Graph API error 100, HTTP 400), so :func:`install_openapi` removes it.
The HTML pages are not part of the API and are left out of the document.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field


class GraphApiErrorDetail(BaseModel):
    """The ``error`` member of a Graph API error object."""

    message: str
    type: str = Field(examples=["OAuthException", "GraphMethodException"])
    code: int = Field(
        description="1 unknown, 2 unavailable, 4/17 rate limit, 100 parameter, "
        "190 access token, 200 permission, 803 unknown id"
    )
    error_subcode: int | None = Field(default=None, description="present for some codes")
    fbtrace_id: str = Field(description="the request id (also the X-FB-Trace-Id header)")


class GraphApiErrorBody(BaseModel):
    """``{"error": {...}}``: every Graph API error, whatever raised it."""

    error: GraphApiErrorDetail


class OAuthErrorBody(BaseModel):
    """RFC 6749 §5.2 error response."""

    error: str = Field(examples=["invalid_request", "invalid_client", "invalid_grant"])
    error_description: str | None = None


_GRAPH_MEANING = {
    400: "malformed parameter, unknown path or version, or a missing, invalid, expired or "
    "revoked access token (code 100 or 190)",
    401: "authentication required",
    403: "the token does not carry the permission needed (code 200)",
    404: "the id does not exist or is hidden from the caller (code 803)",
    405: "the method is not supported on this path (code 100)",
    429: "an app or user rate limit was reached (code 4 or 17)",
    503: "the store or the disclosure ledger is unavailable; nothing was disclosed (code 2)",
}

_OAUTH_MEANING = {
    400: "invalid_request, invalid_grant, unsupported_grant_type, invalid_scope ...",
    401: "invalid_client: the client could not be authenticated",
    405: "the method is not supported on this path",
    429: "a rate limit was reached",
    503: "temporarily_unavailable",
}


def graph_errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route that answers Graph API error objects with ``statuses``."""
    return {
        status: {"model": GraphApiErrorBody, "description": _GRAPH_MEANING[status]}
        for status in statuses
    }


def oauth_errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for an OAuth endpoint that answers RFC 6749 errors with ``statuses``."""
    return {
        status: {"model": OAuthErrorBody, "description": _OAUTH_MEANING[status]}
        for status in statuses
    }


def form_body(fields: dict[str, str], required: list[str]) -> dict[str, Any]:
    """``openapi_extra=`` declaring an ``application/x-www-form-urlencoded`` body (RFC 6749
    §3.2) whose ``fields`` (name → description) are strings, ``required`` among them."""
    properties = {name: {"type": "string", "description": text} for name, text in fields.items()}
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return {
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": schema}},
        }
    }


def install_openapi(app: FastAPI) -> None:
    """Serve ``app``'s document without the 422 FastAPI adds to every route with parameters
    (this API never answers it) and without the schemas only that 422 used."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                if isinstance(operation, dict):
                    operation.get("responses", {}).pop("422", None)
        schemas = document.get("components", {}).get("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


__all__ = [
    "GraphApiErrorBody",
    "GraphApiErrorDetail",
    "OAuthErrorBody",
    "form_body",
    "graph_errors",
    "install_openapi",
    "oauth_errors",
]
