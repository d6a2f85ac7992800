"""Links and redirects the server builds use the configured issuer, never the request's
``Host`` or ``X-Forwarded-Host``; a token sent in the ``Authorization`` header is never
copied into a URL (only one that came in the query string is repeated in paging links)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import Engine
from tests.unit.api.population import START, AsgiClient, World, build_world, settings_for

from graphwarden.core.clock import ManualClock
from graphwarden.server import create_server

ISSUER = "http://graph.test"
HOSTILE = {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}


@pytest.fixture
def served(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> Iterator[tuple[World, AsgiClient]]:
    clock = ManualClock(START)
    world = build_world(sqlite_engine, clock, friends=9)
    app = create_server(
        engine=sqlite_engine, settings=settings_for(sqlite_url, tmp_path / "data"), clock=clock
    )
    client = AsgiClient(app)
    try:
        yield world, client
    finally:
        client.close()


def _links(body: dict[str, object]) -> list[str]:
    paging = body.get("paging")
    assert isinstance(paging, dict), body
    found = [paging[k] for k in ("next", "previous") if k in paging]
    assert found, paging
    return [str(link) for link in found]


def test_paging_links_use_the_issuer_and_carry_a_query_token(
    served: tuple[World, AsgiClient],
) -> None:
    world, client = served
    first = client.get(
        "/v1.0/me/friends",
        params={"limit": "3", "access_token": world.v1_token},
        headers=HOSTILE,
    ).json()
    second = client.get(_links(first)[0], headers=HOSTILE).json()
    for link in _links(first) + _links(second):
        parts = urlsplit(link)
        assert f"{parts.scheme}://{parts.netloc}" == ISSUER, link
        assert "evil" not in link
        # a token that came in the query string is repeated, as the Graph API does
        assert parse_qs(parts.query)["access_token"] == [world.v1_token]


def test_a_header_token_is_never_copied_into_a_link(served: tuple[World, AsgiClient]) -> None:
    world, client = served
    headers = {**HOSTILE, "Authorization": f"Bearer {world.v1_token}"}
    first = client.get("/v1.0/me/friends", params={"limit": "3"}, headers=headers)
    assert first.status_code == 200, first.text
    assert world.v1_token not in first.text
    links = _links(first.json())
    for link in links:
        assert "access_token" not in parse_qs(urlsplit(link).query)
        assert link.startswith(ISSUER + "/")
    # the link is followed with the header again, and works
    second = client.get(links[0], headers=headers)
    assert second.status_code == 200, second.text
    assert world.v1_token not in second.text


@pytest.mark.parametrize("path", ["/ledger/tree-head/", "/docs/", "/healthz/", "/login/"])
def test_no_redirect_points_at_the_requests_host(
    served: tuple[World, AsgiClient], path: str
) -> None:
    _, client = served
    r = client.get(path, headers=HOSTILE)
    location = r.headers.get("location")
    if location is not None:
        assert "evil" not in location, location
        assert location.startswith(("/", ISSUER + "/")), location
