"""Over HTTP against a real ``graphwarden serve`` on a free loopback port: a v1.0 quiz app
with ``friends_birthday`` pages through every friend by following ``next`` links and sees a
birthday exactly where audience and "apps others use" allow; the same person under a v2.0
app sees only friends who use that app with ``user_friends``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.unit.api.population import START, World, birthday_on_wire, build_world

from graphwarden.core.clock import ManualClock
from graphwarden.core.db import create_store_engine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[World, str]]:
    engine = create_store_engine(sqlite_url)
    # the server runs on the wall clock: tokens issued "now" must still be valid there
    world = build_world(engine, ManualClock(START.now(START.tzinfo)), friends=57)
    engine.dispose()
    port = free_port()
    env = {
        **os.environ,
        "GRAPHWARDEN_DATABASE_URL": sqlite_url,
        "GRAPHWARDEN_DATA_DIR": str(tmp_path / "data"),
        # paging links are built from the issuer (the public base URL), never from Host
        "GRAPHWARDEN_ISSUER": f"http://127.0.0.1:{port}",
    }
    env.pop("GRAPHWARDEN_REDIS_URL", None)
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "graphwarden.cli.main",
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited: {(tmp_path / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("server did not become ready in 30 s")
            time.sleep(0.1)
        yield world, base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def follow(url: str, params: dict[str, str] | None) -> list[dict[str, object]]:
    """Every item of a listing, following ``next`` links as they are given."""
    items: list[dict[str, object]] = []
    pages = 0
    with httpx.Client(timeout=10) as client:
        next_url: str | None = url
        while next_url:
            r = client.get(next_url, params=params)
            assert r.status_code == 200, r.text
            assert r.headers["x-fb-trace-id"]
            body = r.json()
            items += body["data"]
            next_url, params = body.get("paging", {}).get("next"), None
            pages += 1
            assert pages < 100
    return items


def test_v1_and_v2_friend_listings_over_http(server: tuple[World, str]) -> None:
    world, base = server
    friends = follow(
        f"{base}/v1.0/me/friends",
        {"fields": "id,name,birthday", "limit": "7", "access_token": world.v1_token},
    )
    assert [int(str(f["id"])) for f in friends] == world.listed_v1_friends()
    with_birthday = 0
    for item in friends:
        friend = int(str(item["id"]))
        assert item["name"] == world.profiles[friend].name
        if world.v1_birthday_visible(friend):
            assert item["birthday"] == birthday_on_wire(world.profiles[friend].birthday or "")
            with_birthday += 1
        else:
            assert "birthday" not in item
    assert 0 < with_birthday < len(friends)

    modern = follow(
        f"{base}/v2.0/me/friends",
        {"fields": "id,name,birthday", "limit": "3", "access_token": world.v2_token},
    )
    expected = sorted(
        world.profiles[f].name
        for f in world.v2_users_with_friends
        if world.profiles[f].platform_enabled
    )
    assert sorted(str(f["name"]) for f in modern) == expected
    assert all("birthday" not in f for f in modern)
    assert all(not str(f["id"]).isdigit() for f in modern)
