"""The versioned Graph API routes: a thin HTTP adapter over :class:`GraphReader`.

``GET /{version}/me``, ``/{version}/{id}``, ``/{version}/?ids=a,b``, ``/{version}/{id}/friends``,
``/{version}/{id}/likes``, ``/{version}/me/permissions`` and
``DELETE /{version}/me/permissions[/{permission}]``. Versions are ``v1.0``, ``v2.0`` and
``v3.0``; anything else is "Unknown path components" (code 100, subcode 2500).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse

from graphwarden.api.access import Caller, pick_token
from graphwarden.api.errors import invalid_parameter, unknown_path
from graphwarden.api.fields import DEFAULT_LIMIT, MAX_LIMIT, MIN_LIMIT
from graphwarden.api.middleware import request_id_of
from graphwarden.api.openapi import graph_errors
from graphwarden.api.ratelimit_middleware import charged, enforce_rate_limit
from graphwarden.api.reader import MAX_IDS, GraphReader, LinkBuilder, PageRequest
from graphwarden.core.types import API_VERSIONS, ApiVersion

router = APIRouter(tags=["Graph API"])

#: the response header naming the version that answered
VERSION_HEADER = "facebook-api-version"
#: what any Graph API route can answer besides 200
GRAPH_ERRORS = graph_errors(400, 403, 404, 429, 503)

Fields = Annotated[
    str | None,
    Query(description="Selection, e.g. `id,name,friends.limit(5){name,birthday}`"),
]
AccessToken = Annotated[str | None, Query(description="The access token (or use a header)")]
Authorization = Annotated[
    str | None, Header(description="`Bearer <access token>`", include_in_schema=True)
]
Version = Annotated[
    str,
    Path(
        description="The platform version the call is served under",
        json_schema_extra={"enum": list(API_VERSIONS)},
    ),
]
Edge = Annotated[
    str, Path(description="The edge", json_schema_extra={"enum": ["friends", "likes"]})
]
Limit = Annotated[str | None, Query(description=f"Page size, {MIN_LIMIT}..{MAX_LIMIT}")]
Cursor = Annotated[str | None, Query(description="A cursor from `paging.cursors`")]


def _reader(request: Request) -> GraphReader:
    reader: GraphReader = request.app.state.reader
    return reader


def _version(request: Request, version: str) -> ApiVersion:
    if version not in API_VERSIONS:
        raise unknown_path(request.url.path)
    return version


def _caller(
    request: Request, version: str, access_token: str | None, authorization: str | None
) -> Caller:
    path_version = _version(request, version)
    token = pick_token(access_token, authorization)
    caller = _reader(request).authenticate(token, path_version, request_id_of(request.scope))
    if not (access_token and access_token.strip()):
        # the token came in the Authorization header: paging links must not carry it
        caller = dataclasses.replace(caller, access_token=None)
    # counted before any work, so a refused call costs the platform nothing more
    enforce_rate_limit(request, app_id=caller.token.app.id, token_id=caller.token.token_id)
    return caller


def _answer(
    request: Request,
    version: Version,
    access_token: str | None,
    authorization: str | None,
    work: Callable[[Caller], dict[str, Any]],
) -> JSONResponse:
    """Authenticate and count the call, then do ``work`` with its time charged to the app."""
    caller = _caller(request, version, access_token, authorization)
    with charged(request):
        body = work(caller)
    # as the Graph API does: the version that answered (what facebook-sdk's get_version reads)
    return JSONResponse(body, headers={VERSION_HEADER: caller.version})


def _links(request: Request) -> LinkBuilder:
    # the configured public base URL, never the request's Host or X-Forwarded-Host: a link
    # built from a header an attacker controls would send the client (and its token) there
    base = request.app.state.settings.issuer.rstrip("/")

    def build(path: str, params: Mapping[str, str]) -> str:
        return f"{base}{path}?{urlencode(params)}"

    return build


def _limit(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_LIMIT
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise invalid_parameter(f"limit must be a whole number between {MIN_LIMIT} and {MAX_LIMIT}")
    limit = int(text)
    if not MIN_LIMIT <= limit <= MAX_LIMIT:
        raise invalid_parameter(f"limit must be between {MIN_LIMIT} and {MAX_LIMIT}, got {limit}")
    return limit


@router.get(
    "/{version}/{target}/permissions",
    summary="Permissions the user granted or declined",
    responses=GRAPH_ERRORS,
)
def read_permissions(
    request: Request,
    version: Version,
    target: str,
    access_token: AccessToken = None,
    authorization: Authorization = None,
) -> JSONResponse:
    return _answer(
        request,
        version,
        access_token,
        authorization,
        lambda caller: _reader(request).permissions(caller, target),
    )


@router.delete(
    "/{version}/{target}/permissions",
    summary="Remove the app (revoke everything)",
    responses=GRAPH_ERRORS,
)
def remove_app(
    request: Request,
    version: Version,
    target: str,
    access_token: AccessToken = None,
    authorization: Authorization = None,
) -> JSONResponse:
    return _answer(
        request,
        version,
        access_token,
        authorization,
        lambda caller: _reader(request).revoke(caller, target, None),
    )


@router.delete(
    "/{version}/{target}/permissions/{permission}",
    summary="Revoke one permission",
    responses=GRAPH_ERRORS,
)
def revoke_permission(
    request: Request,
    version: Version,
    target: str,
    permission: str,
    access_token: AccessToken = None,
    authorization: Authorization = None,
) -> JSONResponse:
    return _answer(
        request,
        version,
        access_token,
        authorization,
        lambda caller: _reader(request).revoke(caller, target, permission),
    )


@router.get(
    "/{version}/{target}/{edge}",
    summary="An edge of a person: friends or likes",
    responses=GRAPH_ERRORS,
)
def read_edge(
    request: Request,
    version: Version,
    target: str,
    edge: Edge,
    fields: Fields = None,
    limit: Limit = None,
    after: Cursor = None,
    before: Cursor = None,
    access_token: AccessToken = None,
    authorization: Authorization = None,
) -> JSONResponse:
    _version(request, version)
    if edge not in ("friends", "likes"):
        raise unknown_path(request.url.path)
    page = PageRequest(limit=_limit(limit), after=after, before=before)
    return _answer(
        request,
        version,
        access_token,
        authorization,
        lambda caller: _reader(request).edge(caller, target, edge, fields, page, _links(request)),
    )


def read_nodes(
    request: Request,
    ids: Annotated[
        str | None, Query(description=f"Comma-separated ids (or `me`), at most {MAX_IDS}")
    ] = None,
    fields: Fields = None,
    access_token: AccessToken = None,
    authorization: Authorization = None,
) -> JSONResponse:
    """The Graph API's multiple-id lookup: an object keyed by each id as asked."""
    version = request.url.path.strip("/")
    targets = [t.strip() for t in (ids or "").split(",") if t.strip()]
    if not targets:
        raise invalid_parameter("(#100) The parameter ids is required")
    if len(targets) > MAX_IDS:
        raise invalid_parameter(f"(#100) Give at most {MAX_IDS} ids")
    return _answer(
        request,
        version,
        access_token,
        authorization,
        lambda caller: _reader(request).nodes(
            caller, list(dict.fromkeys(targets)), fields, _links(request)
        ),
    )


# one route per version (not ``/{version}/``): any other ``/x`` stays an unknown path
for _version_path in API_VERSIONS:
    router.add_api_route(
        f"/{_version_path}/",
        read_nodes,
        methods=["GET"],
        summary=f"Several people at once: `/{_version_path}/?ids=me,ID,...`",
        operation_id=f"read_nodes_{_version_path.replace('.', '_')}",
        responses=GRAPH_ERRORS,
    )


@router.get(
    "/{version}/{target}",
    summary="A person: the token's user (`me`) or an id",
    responses=GRAPH_ERRORS,
)
def read_node(
    request: Request,
    version: Version,
    target: str,
    fields: Fields = None,
    access_token: AccessToken = None,
    authorization: Authorization = None,
) -> JSONResponse:
    return _answer(
        request,
        version,
        access_token,
        authorization,
        lambda caller: _reader(request).node(caller, target, fields, _links(request)),
    )


__all__ = ["router"]
