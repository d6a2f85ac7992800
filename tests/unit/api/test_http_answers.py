"""HTTP-level answers every client relies on: a 429 says when to come back (``Retry-After``,
RFC 6585 §4 / RFC 9110 §10.2.3), a 405 says which methods the resource has (``Allow``,
RFC 9110 §15.5.6)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.unit.api.population import START, AsgiClient, World, build_world, settings_for

from graphwarden.consent.ratelimit import RateLimitConfig, RateLimiter
from graphwarden.core.clock import ManualClock
from graphwarden.server import create_server


@pytest.fixture
def served(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> Iterator[tuple[World, AsgiClient]]:
    clock = ManualClock(START)
    world = build_world(sqlite_engine, clock, friends=3)
    app = create_server(
        engine=sqlite_engine, settings=settings_for(sqlite_url, tmp_path / "data"), clock=clock
    )
    app.state.rate_limiter = RateLimiter(
        RateLimitConfig(calls_per_user_per_hour=1, token_calls=1000, token_window_s=60)
    )
    client = AsgiClient(app)
    try:
        yield world, client
    finally:
        client.close()


def _retry_after(value: str | None, most: int) -> int:
    assert value is not None, "a 429 without Retry-After"
    assert value.isdigit(), value
    seconds = int(value)
    assert 1 <= seconds <= most
    return seconds


def test_graph_api_rate_limits_say_when_to_retry(served: tuple[World, AsgiClient]) -> None:
    world, client = served
    statuses = []
    for _ in range(12):
        r = client.get("/v2.0/me", params={"access_token": world.v2_token})
        statuses.append(r.status_code)
    assert 429 in statuses, statuses
    assert r.status_code == 429
    assert r.json()["error"]["code"] == 4
    _retry_after(r.headers.get("retry-after"), 3600)


def test_a_token_past_its_budget_is_told_its_window(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    clock = ManualClock(START)
    world = build_world(sqlite_engine, clock, friends=3)
    app = create_server(
        engine=sqlite_engine, settings=settings_for(sqlite_url, tmp_path / "data"), clock=clock
    )
    app.state.rate_limiter = RateLimiter(RateLimitConfig(token_calls=2, token_window_s=30))
    client = AsgiClient(app)
    try:
        for _ in range(2):
            assert (
                client.get("/v2.0/me", params={"access_token": world.v2_token}).status_code == 200
            )
        r = client.get("/v2.0/me", params={"access_token": world.v2_token})
    finally:
        client.close()
    assert r.status_code == 429
    assert r.json()["error"]["code"] == 17
    _retry_after(r.headers.get("retry-after"), 30)


CASES = [
    ("POST", "/v2.0/me", {"GET"}),
    ("PUT", "/v2.0/me/permissions", {"GET", "DELETE"}),
    ("DELETE", "/oauth/token", {"POST"}),
    ("DELETE", "/oauth/revoke", {"POST"}),
    ("PUT", "/oauth/introspect", {"POST"}),
    ("POST", "/ledger/tree-head", {"GET"}),
    ("PATCH", "/ledger/proof/inclusion", {"GET"}),
    ("PUT", "/.well-known/oauth-authorization-server", {"GET"}),
]


def test_every_405_carries_allow(sqlite_url: str, tmp_path: Path) -> None:
    app = create_server(settings=settings_for(sqlite_url, tmp_path / "data"))
    client = AsgiClient(app)
    try:
        for method, path, allowed in CASES:
            r = client.request(method, path)
            assert r.status_code == 405, (method, path, r.text)
            assert "allow" in r.headers, (method, path, dict(r.headers))
            named = {m.strip() for m in r.headers["allow"].split(",")}
            assert named >= allowed, (method, path, named)
            assert method not in named
            assert r.json()["error"]["code"] == 100
    finally:
        client.close()
