"""The friends page's fast read path: privacy vectors from every store, interned subject facts,
page-level decisions that match the per-cell policy, and a bounded number of statements."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, event
from tests.unit.api.population import (
    OWNER,
    START,
    AsgiClient,
    build_world,
    recorded_pairs,
    settings_for,
)

from graphwarden.api.app import create_app
from graphwarden.api.facts import facts_from_vector, subject_facts
from graphwarden.consent.interfaces import AuthorizationInfo
from graphwarden.core.clock import ManualClock
from graphwarden.core.db import create_store_engine
from graphwarden.core.types import AppId, PersonId
from graphwarden.graph.fields import AUDIENCE_FIELDS, AppsOthersUse, Audience, Relation
from graphwarden.graph.interfaces import GraphStore, PrivacySettings, Profile, privacy_vector
from graphwarden.graph.memory import MemoryGraphStore
from graphwarden.graph.store import SqlGraphStore
from graphwarden.policy.context import AccessContext, SubjectFacts
from graphwarden.policy.decide import decide, decide_page, edge_member, edge_members

# --- stores: privacy vectors agree with the settings they encode --------------------------


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> Iterator[GraphStore]:
    if request.param == "memory":
        yield MemoryGraphStore()
        return
    engine = create_store_engine(str(request.getfixturevalue(f"{request.param}_url")))
    try:
        yield SqlGraphStore(engine)
    finally:
        engine.dispose()


def _person(i: int) -> Profile:
    return Profile(
        id=PersonId(i),
        name=f"P{i}",
        first_name="P",
        last_name=str(i),
        gender="female",
        birthday="1990-02-03" if i % 2 else None,
        platform_enabled=i % 3 != 0,
    )


def test_profiles_with_privacy_match_profiles_and_settings(store: GraphStore) -> None:
    people = []
    for i in range(1, 8):
        audiences = {name: Audience(i % 4) for name in AUDIENCE_FIELDS}
        sharing = {c: (i + int(c)) % 2 == 0 for c in AppsOthersUse}
        people.append((_person(i), PrivacySettings(audiences, sharing)))
    store.add_people(people)
    asked = [PersonId(i) for i in (7, 1, 3, 99, 3)]  # unknown and repeated ids too
    found = store.profiles_with_privacy(asked)
    assert set(found) == {PersonId(1), PersonId(3), PersonId(7)}
    profiles = store.get_profiles(asked)
    settings_of = store.get_privacy(asked)
    for pid, (profile, vector) in found.items():
        assert profile == profiles[pid]
        assert vector == privacy_vector(settings_of[pid])
    assert store.privacy_vectors(asked) == {pid: v for pid, (_, v) in found.items()}
    assert store.profiles_with_privacy([]) == {}
    assert store.privacy_vectors([]) == {}


def test_privacy_vector_of_defaults_and_after_a_change(store: GraphStore) -> None:
    store.add_person(_person(1))
    assert store.privacy_vectors([PersonId(1)])[PersonId(1)] == privacy_vector(PrivacySettings())
    store.set_audience(PersonId(1), "birthday", Audience.ONLY_ME)
    store.set_apps_others_use(PersonId(1), AppsOthersUse.HOMETOWN, False)
    vector = store.privacy_vectors([PersonId(1)])[PersonId(1)]
    assert vector[AUDIENCE_FIELDS.index("birthday")] == int(Audience.ONLY_ME)
    assert vector[len(AUDIENCE_FIELDS) + int(AppsOthersUse.HOMETOWN)] == 0


# --- facts: the interned form is the policy's view, and equal facts are one object ---------

relations = st.sampled_from(list(Relation))
vectors = st.tuples(
    st.lists(st.sampled_from(list(Audience)), min_size=len(AUDIENCE_FIELDS), max_size=18),
    st.lists(st.booleans(), min_size=len(AppsOthersUse), max_size=len(AppsOthersUse)),
)
grants = st.none() | st.frozensets(st.sampled_from(["public_profile", "user_friends", "email"]))


@settings(max_examples=200, deadline=None)
@given(relation=relations, vector=vectors, platform=st.booleans(), granted=grants)
def test_interned_facts_equal_subject_facts(
    relation: Relation,
    vector: tuple[list[Audience], list[bool]],
    platform: bool,
    granted: frozenset[str] | None,
) -> None:
    audiences, sharing = vector
    settings_ = PrivacySettings(
        dict(zip(AUDIENCE_FIELDS, audiences, strict=True)),
        dict(zip(AppsOthersUse, sharing, strict=True)),
    )
    profile = Profile(PersonId(5), "P", "P", "5", "male", platform_enabled=platform)
    auth = (
        None
        if granted is None
        else AuthorizationInfo(
            app_id=AppId(1),
            person_id=PersonId(5),
            granted=granted | {"email"},
            declined=frozenset({"email"}),
            created_at=START,
            last_used_at=START,
            removed_at=None,
        )
    )
    expected = subject_facts(relation, settings_, profile, auth)
    live = None if auth is None else auth.granted - auth.declined
    got = facts_from_vector(relation, privacy_vector(settings_), platform, live)
    assert got == expected
    assert facts_from_vector(relation, privacy_vector(settings_), platform, live) is got


# --- policy: page-level decisions are the per-cell ones -----------------------------------

contexts = st.builds(
    AccessContext,
    api_version=st.sampled_from(["v1.0", "v2.0", "v3.0"]),
    app_status=st.sampled_from(["active", "active", "suspended"]),
    token_active=st.booleans(),
    owner_granted=st.frozensets(
        st.sampled_from(["user_friends", "user_birthday", "friends_birthday", "friends_hometown"])
    ),
    approved_permissions=st.frozensets(st.sampled_from(["user_friends", "user_birthday"])),
    owner_has_role=st.booleans(),
    data_access_active=st.booleans(),
    owner_authorized=st.booleans(),
)
subject_facts_st = st.builds(
    lambda rel, vec, platform, granted: facts_from_vector(
        rel,
        (*(int(a) for a in vec[0]), *(int(s) for s in vec[1])),
        platform,
        granted,
    ),
    relations,
    vectors,
    st.booleans(),
    grants,
)
FIELDS = ["id", "name", "birthday", "hometown", "email", "friends"]


@settings(max_examples=150, deadline=None)
@given(
    ctx=contexts,
    pool=st.lists(subject_facts_st, min_size=1, max_size=4),
    picks=st.lists(st.integers(0, 3), max_size=12),
)
def test_page_decisions_equal_cell_decisions(
    ctx: AccessContext, pool: list[SubjectFacts], picks: list[int]
) -> None:
    # the same objects several times, as an interned page has them
    page = [pool[i % len(pool)] for i in picks]
    rows = decide_page(ctx, page, FIELDS)
    assert rows == [[decide(ctx, s, f) for f in FIELDS] for s in page]
    assert edge_members(ctx, page) == [edge_member(ctx, s) for s in page]
    if len(rows) > 1:
        rows[0].clear()  # rows are the caller's own lists, not shared
        assert len(rows[1]) == len(FIELDS)


# --- the friends page: statements per request, and ledger == body --------------------------


@pytest.fixture
def page_app(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[Engine, AsgiClient, str]]:
    engine = create_store_engine(sqlite_url)
    world = build_world(engine, ManualClock(START), friends=60, seed=3)
    app = create_app(
        engine=engine,
        settings=settings_for(sqlite_url, tmp_path / "data"),
        clock=ManualClock(START),
        rate_limits=False,
    )
    client = AsgiClient(app)
    try:
        yield engine, client, world.v1_token
    finally:
        client.close()
        engine.dispose()


def test_friends_page_reads_a_bounded_number_of_statements(
    page_app: tuple[Engine, AsgiClient, str],
) -> None:
    engine, client, token = page_app
    with engine.begin() as conn:  # every friend listed: one chunk of friend ids is enough
        conn.exec_driver_sql("UPDATE people SET platform_enabled = 1")
    seen: list[str] = []

    def record(*args: object) -> None:
        seen.append(str(args[2]))

    params = {"fields": "id,name,birthday,hometown", "limit": "50", "access_token": token}
    client.get("/v1.0/me/friends", params=params).raise_for_status()  # warm
    event.listen(engine, "before_cursor_execute", record)
    r = client.get("/v1.0/me/friends", params=params)
    event.remove(engine, "before_cursor_execute", record)
    assert r.status_code == 200
    assert len(r.json()["data"]) == 50
    reads = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    # token, owner state, friend ids, owner + friends with privacy, authorizations
    assert len(reads) <= 5, reads


def test_read_ahead_page_records_exactly_what_it_serves(
    page_app: tuple[Engine, AsgiClient, str],
) -> None:
    engine, client, token = page_app
    params = {"fields": "id,name,birthday,hometown", "limit": "25", "access_token": token}
    for target in ("me", str(int(OWNER))):
        r = client.get(f"/v1.0/{target}/friends", params=params)
        assert r.status_code == 200
        served = {(int(friend["id"]), name) for friend in r.json()["data"] for name in friend}
        rid = r.headers.get("x-request-id") or r.headers.get("x-fb-trace-id")
        assert rid is not None
        assert recorded_pairs(engine, rid) == served
