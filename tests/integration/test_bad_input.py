"""Bad input of every kind answers a Graph API error object with a 4xx status, never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from tests.unit.api.population import START, AsgiClient, World, build_world, settings_for

from graphwarden.api.app import create_app
from graphwarden.core.clock import ManualClock


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, AsgiClient, Engine]]:
    from graphwarden.core.db import create_store_engine, upgrade

    root = tmp_path_factory.mktemp("bad_input")
    url = f"sqlite:///{root / 'gw.db'}"
    upgrade(url)
    engine = create_store_engine(url)
    clock = ManualClock(START)
    w = build_world(engine, clock, friends=12)
    client = AsgiClient(
        create_app(engine=engine, settings=settings_for(url, root / "data"), clock=clock)
    )
    try:
        yield w, client, engine
    finally:
        client.close()
        engine.dispose()


def assert_graph_error(response, status: int | None = None) -> None:  # type: ignore[no-untyped-def]
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert isinstance(error["message"], str)
    assert isinstance(error["code"], int)
    assert error["type"] in ("OAuthException", "GraphMethodException")
    assert error["fbtrace_id"] == response.headers["x-fb-trace-id"]
    assert "Traceback" not in response.text
    if status is not None:
        assert response.status_code == status


SQL = ("'; DROP TABLE people;--", "1 OR 1=1", "1; SELECT * FROM access_tokens")


def test_bad_input_sweep(world: tuple[World, AsgiClient, Engine]) -> None:
    w, client, _ = world
    tok = {"access_token": w.v1_token}
    cases: list[tuple[str, str, dict[str, str], int]] = [
        ("GET", "/v1.0/me", {**tok, "fields": "nonexisting"}, 100),
        ("GET", "/v1.0/me", {**tok, "fields": "name,,id"}, 100),
        ("GET", "/v1.0/me", {**tok, "fields": "friends{name"}, 100),
        ("GET", "/v1.0/me", {**tok, "fields": "name{id}"}, 100),
        ("GET", "/v1.0/me", {**tok, "fields": "friends.limit(0){id}"}, 100),
        ("GET", "/v1.0/me", {**tok, "fields": "friends.limit(99999999999){id}"}, 100),
        ("GET", "/v1.0/me", {**tok, "fields": "friends.offset(3)"}, 100),
        ("GET", "/v1.0/me", {**tok, "fields": "id," * 5000}, 100),
        ("GET", "/v1.0/me", {**tok, "fields": "friends{" * 50 + "id" + "}" * 50}, 100),
        ("GET", "/v1.0/me", {**tok, "fields": "friends.limit(500){friends.limit(500){id}}"}, 100),
        ("GET", "/v1.0/me", {**tok, "fields": "имя,名前"}, 100),
        ("GET", "/v1.0/me", {**tok, "fields": "\x00"}, 100),
        ("GET", "/v1.0/notanid", tok, 803),
        ("GET", "/v1.0/-5", tok, 803),
        ("GET", "/v1.0/99999999999999999999999999", tok, 803),
        ("GET", "/v2.0/1", {"access_token": w.v2_token}, 803),
        ("GET", "/v1.0/me/friends", {**tok, "after": "garbage"}, 100),
        ("GET", "/v1.0/me/friends", {**tok, "after": "A" * 56}, 100),
        ("GET", "/v1.0/me/friends", {**tok, "before": "x" * 5000}, 100),
        ("GET", "/v1.0/me/friends", {**tok, "after": "é"}, 100),
        ("GET", "/v1.0/me/friends", {**tok, "limit": "0"}, 100),
        ("GET", "/v1.0/me/friends", {**tok, "limit": str(10**9)}, 100),
        ("GET", "/v1.0/me/friends", {**tok, "limit": "-1"}, 100),
        ("GET", "/v1.0/me/friends", {**tok, "limit": "ten"}, 100),
        ("GET", "/v9.9/me", tok, 100),
        ("GET", "/latest/me", tok, 100),
        ("GET", "/v1.0/me/photos", tok, 100),
        ("GET", "/v1.0/me/friends/extra/path", tok, 100),
        ("GET", "/v1.0/me", {}, 190),
        ("GET", "/v1.0/me", {"access_token": "garbage"}, 190),
        ("GET", "/v1.0/me", {"access_token": "x" * 10000}, 190),
        ("GET", "/v1.0/me", {"access_token": "ünïcode"}, 190),
        ("DELETE", "/v1.0/me/permissions/nonexisting", tok, 100),
        ("POST", "/v1.0/me", tok, 100),
        ("PUT", "/v1.0/me/friends", tok, 100),
    ]
    cases += [("GET", f"/v1.0/{s}", tok, 803) for s in SQL]
    cases += [("GET", "/v1.0/me", {**tok, "fields": s}, 100) for s in SQL]
    cases += [("GET", "/v1.0/me/friends", {**tok, "after": s}, 100) for s in SQL]
    cases += [("GET", "/v2.0/me", {"access_token": s}, 190) for s in SQL]
    for method, path, params, code in cases:
        r = client.request(method, path, params=params)
        assert_graph_error(r)
        assert r.json()["error"]["code"] == code, (method, path, params, r.text)
    # both a header and a different query token: a parameter error
    r = client.get("/v1.0/me", params=tok, headers={"Authorization": "Bearer other"})
    assert_graph_error(r)
    assert r.json()["error"]["code"] == 100
    r = client.get("/v1.0/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_graph_error(r)
    assert r.json()["error"]["code"] == 190
    # the same token in both places is fine; the header alone is fine
    assert (
        client.get(
            "/v1.0/me", params=tok, headers={"Authorization": f"Bearer {w.v1_token}"}
        ).status_code
        == 200
    )
    assert (
        client.get("/v1.0/me", headers={"Authorization": f"Bearer {w.v1_token}"}).status_code == 200
    )


def test_a_cursor_of_another_listing_is_refused(world: tuple[World, AsgiClient, Engine]) -> None:
    w, client, _ = world
    first = client.get("/v1.0/me/friends", params={"limit": "2", "access_token": w.v1_token})
    after = first.json()["paging"]["cursors"]["after"]
    r = client.get("/v1.0/me/likes", params={"after": after, "access_token": w.v1_token})
    assert_graph_error(r, 400)
    r = client.get("/v2.0/me/friends", params={"after": after, "access_token": w.v2_token})
    assert_graph_error(r, 400)
    tampered = after[:-2] + ("AA" if after[-2:] != "AA" else "BB")
    r = client.get("/v1.0/me/friends", params={"after": tampered, "access_token": w.v1_token})
    assert_graph_error(r, 400)


FIELD_ALPHABET = "abcdefghijklmnopqrstuvwxyz_,.{}()0123456789 "
KNOWN = ["id", "name", "birthday", "friends", "likes", "limit", "email", "picture"]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    fields=st.one_of(
        st.text(alphabet=FIELD_ALPHABET, max_size=60),
        st.lists(
            st.sampled_from([*KNOWN, ",", "{", "}", ".limit(", ")", "3", "600"]), max_size=20
        ).map("".join),
        st.text(max_size=30),
    ),
    target=st.one_of(st.text(max_size=30), st.integers().map(str), st.sampled_from(["me", "1"])),
)
def test_fuzzed_fields_and_ids_never_5xx(
    world: tuple[World, AsgiClient, Engine], fields: str, target: str
) -> None:
    w, client, _ = world
    target = quote(target, safe="") or "me"  # any text, as a client would escape it
    for version, token in (("v1.0", w.v1_token), ("v2.0", w.v2_token)):
        r = client.get(f"/{version}/{target}", params={"fields": fields, "access_token": token})
        assert r.status_code < 500, r.text
        if r.status_code >= 400:
            assert_graph_error(r)
        r = client.get(
            f"/{version}/{target}/friends", params={"fields": fields, "access_token": token}
        )
        assert r.status_code < 500, r.text
