"""The Graph API in process, on SQLite and PostgreSQL: versions, scoped ids, hidden people,
permissions, and ledger completeness (what is recorded for a request is what it served)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from tests.unit.api.population import (
    OWNER,
    START,
    STRANGER,
    AsgiClient,
    World,
    birthday_on_wire,
    build_world,
    disclosure_count,
    recorded_pairs,
    settings_for,
)

from graphwarden.api.app import create_app
from graphwarden.core.clock import ManualClock


@pytest.fixture
def world(engine: Engine, store_url: str, tmp_path: Path) -> Iterator[tuple[World, AsgiClient]]:
    clock = ManualClock(START)
    w = build_world(engine, clock)
    app = create_app(
        engine=engine, settings=settings_for(store_url, tmp_path / "data"), clock=clock
    )
    client = AsgiClient(app)
    try:
        yield w, client
    finally:
        client.close()


def served_pairs(body: dict[str, Any], ids: dict[str, int], owner: int) -> set[tuple[int, str]]:
    """(subject, field) pairs of person fields in a body (edge listings of ``owner``)."""
    pairs: set[tuple[int, str]] = set()

    def person(obj: dict[str, Any]) -> None:
        pid = ids[obj["id"]]
        for name, value in obj.items():
            if name == "friends":
                for friend in value["data"]:
                    person(friend)
            elif name == "likes":
                pairs.add((pid, "likes"))
            else:
                pairs.add((pid, name))

    if "data" in body:
        for item in body["data"]:
            person(item)
    else:
        person(body)
    return pairs


def test_v1_friends_birthdays_follow_audience_and_settings(world: tuple[World, AsgiClient]) -> None:
    w, client = world
    r = client.get(
        "/v1.0/me/friends",
        params={"fields": "id,name,birthday", "limit": "500", "access_token": w.v1_token},
    )
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    # a friend who turned the platform off is not listed at all
    assert [int(f["id"]) for f in data] == w.listed_v1_friends()
    for item in data:
        friend = int(item["id"])
        if w.v1_birthday_visible(friend):
            assert item["birthday"] == birthday_on_wire(w.profiles[friend].birthday or "")
        else:
            assert "birthday" not in item
    assert any("birthday" in f for f in data)
    assert any("birthday" not in f for f in data)
    rid = r.headers["x-fb-trace-id"]
    ids = {f["id"]: int(f["id"]) for f in data}
    assert recorded_pairs(client_engine(client), rid) == served_pairs(r.json(), ids, OWNER)


def client_engine(client: AsgiClient) -> Engine:
    app = client._client._transport.app  # type: ignore[attr-defined]
    engine: Engine = app.state.engine
    return engine


def test_v2_lists_only_friends_who_use_the_app_with_scoped_ids(
    world: tuple[World, AsgiClient],
) -> None:
    w, client = world
    r = client.get("/v2.0/me/friends", params={"limit": "500", "access_token": w.v2_token})
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    expected = {f for f in w.v2_users_with_friends if w.profiles[f].platform_enabled}
    assert len(data) == len(expected)
    assert all(not item["id"].isdigit() for item in data)
    # every scoped id given can be used to address that person; names match
    names = set()
    for item in data:
        one = client.get(f"/v2.0/{item['id']}", params={"access_token": w.v2_token})
        assert one.status_code == 200, one.text
        assert one.json()["id"] == item["id"]
        names.add(one.json()["name"])
    assert names == {w.profiles[f].name for f in expected}


def test_path_cannot_downgrade_a_v2_app(world: tuple[World, AsgiClient]) -> None:
    w, client = world
    r = client.get("/v1.0/me/friends", params={"limit": "500", "access_token": w.v2_token})
    assert r.status_code == 200
    data = r.json()["data"]
    assert len(data) < len(w.friends)
    assert all(not item["id"].isdigit() for item in data)


def test_unknown_hidden_and_foreign_ids_answer_the_same(world: tuple[World, AsgiClient]) -> None:
    w, client = world
    answers = []
    for target in (str(STRANGER), "123456789", str(w.friends[0]), "deadbeef" * 4):
        r = client.get(f"/v2.0/{target}", params={"access_token": w.v2_token})
        answers.append((r.status_code, r.json()["error"]["code"], r.json()["error"]["message"]))
    assert len(set(answers)) == 1
    assert answers[0][:2] == (404, 803)
    # under v1.0 a stranger's public profile is reachable by platform id; a missing one is not
    assert client.get(f"/v1.0/{STRANGER}", params={"access_token": w.v1_token}).status_code == 200
    missing = client.get("/v1.0/77777", params={"access_token": w.v1_token})
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, 803)


def test_nested_expansion_is_recorded_field_by_field(world: tuple[World, AsgiClient]) -> None:
    w, client = world
    r = client.get(
        "/v1.0/me",
        params={
            "fields": "id,name,birthday,likes{name},friends.limit(7){name,birthday,likes{name}}",
            "access_token": w.v1_token,
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["friends"]["data"]) == 7
    assert "next" in body["friends"]["paging"]
    ids = {str(p): int(p) for p in w.profiles}
    served = served_pairs(body, ids, OWNER)
    assert (OWNER, "likes") in served
    assert recorded_pairs(client_engine(client), r.headers["x-request-id"]) == served


def test_paging_both_ways_with_cursors(world: tuple[World, AsgiClient]) -> None:
    w, client = world
    seen: list[int] = []
    url: str | None = "/v1.0/me/friends"
    params: dict[str, str] | None = {"limit": "10", "access_token": w.v1_token}
    pages = []
    while url:
        r = client.get(url, params=params)
        assert r.status_code == 200, r.text
        pages.append(r.json())
        seen += [int(f["id"]) for f in r.json()["data"]]
        url, params = r.json().get("paging", {}).get("next"), None
    assert seen == w.listed_v1_friends()
    back = client.get(pages[-1]["paging"]["previous"])
    assert back.json()["data"] == pages[-2]["data"]


def test_permissions_listing_and_revocation(world: tuple[World, AsgiClient]) -> None:
    w, client = world
    r = client.get("/v1.0/me/permissions", params={"access_token": w.v1_token})
    statuses = {p["permission"]: p["status"] for p in r.json()["data"]}
    assert statuses["friends_birthday"] == "granted"
    gone = client.delete(
        "/v1.0/me/permissions/friends_birthday", params={"access_token": w.v1_token}
    )
    assert gone.status_code == 200
    assert gone.json() == {"success": True}
    r = client.get("/v1.0/me/permissions", params={"access_token": w.v1_token})
    statuses = {p["permission"]: p["status"] for p in r.json()["data"]}
    assert statuses["friends_birthday"] == "declined"
    friends = client.get(
        "/v1.0/me/friends",
        params={"fields": "birthday", "limit": "500", "access_token": w.v1_token},
    ).json()["data"]
    assert not any("birthday" in f for f in friends)
    bad = client.delete("/v1.0/me/permissions/no_such_perm", params={"access_token": w.v1_token})
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, 100)


def test_revoked_token_is_190(world: tuple[World, AsgiClient]) -> None:
    w, client = world
    app = client._client._transport.app  # type: ignore[attr-defined]
    app.state.consent.revoke_token(w.v1_token)
    r = client.get("/v1.0/me", params={"access_token": w.v1_token})
    assert (r.status_code, r.json()["error"]["code"]) == (400, 190)
    assert r.json()["error"]["type"] == "OAuthException"


def test_removing_the_app_through_the_api_ends_access_and_owes_a_deletion_callback(
    world: tuple[World, AsgiClient],
) -> None:
    from graphwarden.consent.deletion import deliveries

    w, client = world
    gone = client.delete("/v2.0/me/permissions", params={"access_token": w.v2_token})
    assert gone.status_code == 200, gone.text
    assert gone.json() == {"success": True}
    after = client.get("/v2.0/me", params={"access_token": w.v2_token})
    assert after.status_code == 400
    assert after.json()["error"]["code"] == 190
    owed = deliveries(client_engine(client), person_id=OWNER)
    assert len(owed) == 1
    assert owed[0].outcome in ("pending", "no_callback")


def test_the_policy_gate_stops_suspended_apps_and_owners_who_left_before_any_read(
    world: tuple[World, AsgiClient],
) -> None:
    from graphwarden.consent.services import SqlConsentService
    from graphwarden.graph.store import SqlGraphStore

    w, client = world
    engine = client_engine(client)
    SqlConsentService(engine).set_app_status(w.v1_app, "suspended")
    r = client.get("/v1.0/me/friends", params={"access_token": w.v1_token})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == 190
    assert "suspended" in r.json()["error"]["message"]
    SqlGraphStore(engine).set_platform_enabled(OWNER, False)
    r = client.get("/v2.0/me", params={"access_token": w.v2_token})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == 190
    assert disclosure_count(engine) == 0


def test_app_usage_reports_the_time_served_calls_took(world: tuple[World, AsgiClient]) -> None:
    """X-App-Usage counts calls at once, and the wall-clock and CPU time each served call took
    in the headers of the calls after it (a percentage of the app's hourly allowance)."""
    w, client = world
    params = {"access_token": w.v1_token, "fields": "id,name,birthday", "limit": "50"}
    first = json.loads(client.get("/v1.0/me/friends", params=params).headers["X-App-Usage"])
    assert first["call_count"] >= 1
    assert first["total_time"] == first["total_cputime"] == 0  # nothing charged yet
    later = json.loads(client.get("/v1.0/me/friends", params=params).headers["X-App-Usage"])
    assert later["total_time"] >= 1
    assert later["total_cputime"] >= 1
    # a refused call (bad token) is neither counted nor charged
    assert client.get("/v1.0/me", params={"access_token": "nope"}).status_code == 400
