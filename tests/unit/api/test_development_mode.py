"""Development mode is enforced on every path, by the policy's one rule
(``<version>/app-in-development``): an app switched back to development reads nobody
without a role on it — not through their tokens, not in a role holder's friends edge — the
refresh grant mints nothing for them, and ``tokens issue`` refuses them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.unit.api.population import (
    OWNER,
    START,
    AsgiClient,
    World,
    build_world,
    disclosure_count,
    settings_for,
)

from graphwarden.consent.roles import set_mode, set_role
from graphwarden.consent.services import SqlConsentService
from graphwarden.core.clock import ManualClock
from graphwarden.server import create_server


@pytest.fixture
def served(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> Iterator[tuple[World, AsgiClient, Engine]]:
    clock = ManualClock(START)
    world = build_world(sqlite_engine, clock, friends=12)
    app = create_server(
        engine=sqlite_engine, settings=settings_for(sqlite_url, tmp_path / "data"), clock=clock
    )
    client = AsgiClient(app)
    try:
        yield world, client, sqlite_engine
    finally:
        client.close()


def test_a_non_role_token_stops_working_when_the_app_goes_back_to_development(
    served: tuple[World, AsgiClient, Engine],
) -> None:
    world, client, engine = served
    assert client.get("/v2.0/me", params={"access_token": world.v2_token}).status_code == 200
    set_mode(engine, int(world.v2_app), "development", by="test")
    before = disclosure_count(engine)
    for path in ("/v2.0/me", "/v2.0/me/friends", "/v2.0/me/permissions"):
        r = client.get(path, params={"access_token": world.v2_token})
        assert r.status_code == 400, (path, r.text)
        assert r.json()["error"]["code"] == 190
    assert disclosure_count(engine) == before  # nothing disclosed, nothing recorded


def test_a_role_holders_friends_edge_lists_only_role_holders(
    served: tuple[World, AsgiClient, Engine],
) -> None:
    world, client, engine = served
    live = client.get(
        "/v2.0/me/friends", params={"access_token": world.v2_token, "limit": "100"}
    ).json()["data"]
    assert len(live) >= 2, live  # friends who use the app are listed while live
    consent = SqlConsentService(engine, ManualClock(START))
    tester = consent.resolve_scoped_id(world.v2_app, live[0]["id"])
    assert tester is not None
    set_role(engine, int(world.v2_app), int(OWNER), "tester", by="test")
    set_role(engine, int(world.v2_app), int(tester), "tester", by="test")
    set_mode(engine, int(world.v2_app), "development", by="test")
    r = client.get("/v2.0/me/friends", params={"access_token": world.v2_token, "limit": "100"})
    assert r.status_code == 200, r.text
    listed = r.json()["data"]
    assert [f["id"] for f in listed] == [consent.scoped_id(world.v2_app, tester)]
    # and another app user, by the id the app was given while live, is not readable
    other = next(f["id"] for f in live if f["id"] != listed[0]["id"])
    hidden = client.get(f"/v2.0/{other}", params={"access_token": world.v2_token})
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == 803
