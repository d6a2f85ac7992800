"""Log before disclose, fail closed: when the ledger cannot write, every request that would
disclose answers 503 with a Graph API error, carries no field value, and nothing is recorded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.ledger_faults import install_write_failure, remove_write_failure
from tests.unit.api.population import (
    START,
    AsgiClient,
    World,
    birthday_on_wire,
    build_world,
    disclosure_count,
    settings_for,
)

from graphwarden.api.app import create_app
from graphwarden.core.clock import ManualClock


@pytest.fixture
def world(engine: Engine, store_url: str, tmp_path: Path) -> Iterator[tuple[World, AsgiClient]]:
    clock = ManualClock(START)
    w = build_world(engine, clock, friends=15)
    app = create_app(
        engine=engine, settings=settings_for(store_url, tmp_path / "data"), clock=clock
    )
    client = AsgiClient(app)
    try:
        yield w, client
    finally:
        client.close()


def test_ledger_failure_serves_nothing(world: tuple[World, AsgiClient], engine: Engine) -> None:
    w, client = world
    requests = [
        ("/v1.0/me", {"fields": "id,name,birthday,email", "access_token": w.v1_token}),
        ("/v1.0/me/friends", {"fields": "id,name,birthday", "access_token": w.v1_token}),
        ("/v1.0/me", {"fields": "friends{name,likes{name}}", "access_token": w.v1_token}),
        ("/v1.0/me/likes", {"access_token": w.v1_token}),
        ("/v2.0/me/friends", {"access_token": w.v2_token}),
        (
            f"/v1.0/{w.listed_v1_friends()[1]}",
            {"fields": "name,birthday", "access_token": w.v1_token},
        ),
    ]
    # values that must not appear in any failed body
    secrets = {p.name for p in w.profiles.values()} | {
        p.birthday for p in w.profiles.values() if p.birthday
    }
    secrets |= {birthday_on_wire(b) for b in secrets if b[:4].isdigit()}
    before = disclosure_count(engine)
    install_write_failure(engine)
    try:
        for path, params in requests:
            r = client.get(path, params=params)
            assert r.status_code == 503, (path, r.text)
            assert r.headers["content-type"].startswith("application/json")
            error = r.json()["error"]
            assert error["code"] == 2
            assert error["type"] == "GraphMethodException"
            assert set(r.json()) == {"error"}
            assert not any(s in r.text for s in secrets), r.text
        assert disclosure_count(engine) == before
    finally:
        remove_write_failure(engine)
    # once the ledger writes again, the same requests are served and recorded
    for path, params in requests:
        assert client.get(path, params=params).status_code == 200
    assert disclosure_count(engine) > before


def test_enforcement_switch_is_not_reachable_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, tmp_path: Path
) -> None:
    from graphwarden.api.app import app_from_env
    from graphwarden.core.config import get_settings

    monkeypatch.setenv("GRAPHWARDEN_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("GRAPHWARDEN_DATA_DIR", str(tmp_path / "data"))
    for name in ("GRAPHWARDEN_ENFORCEMENT", "ENFORCEMENT", "GRAPHWARDEN_ENFORCE"):
        monkeypatch.setenv(name, "0")
    get_settings.cache_clear()
    try:
        app = app_from_env()
    finally:
        get_settings.cache_clear()
    assert app.state.enforcement is True
    assert app.state.reader.enforcement is True
    assert app.state.ledger is not None
