"""One conformance suite for every graph store: the in-memory one and the SQL one on SQLite
and on PostgreSQL. Whatever holds for one holds for all."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, event, func, select

from graphwarden.core.db import create_store_engine
from graphwarden.core.errors import IntegrityViolation, InvalidInput, NotFound
from graphwarden.core.types import PageId, PersonId
from graphwarden.graph.fields import AUDIENCE_FIELDS, AppsOthersUse, Audience, Relation
from graphwarden.graph.interfaces import (
    GraphStore,
    PageInfo,
    PrivacySettings,
    Profile,
    default_audiences,
)
from graphwarden.graph.memory import MemoryGraphStore
from graphwarden.graph.models import Friendship
from graphwarden.graph.store import SqlGraphStore


def person(i: int, **extra: object) -> Profile:
    return Profile(
        id=PersonId(i),
        name=f"Person {i}",
        first_name="Person",
        last_name=str(i),
        gender="female" if i % 2 else "male",
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> Iterator[GraphStore]:
    """Each store implementation, fresh and empty."""
    if request.param == "memory":
        yield MemoryGraphStore()
        return
    name = "postgres_url" if request.param == "postgres" else "sqlite_url"
    url = request.getfixturevalue(name)
    engine = create_store_engine(url)
    try:
        yield SqlGraphStore(engine)
    finally:
        engine.dispose()


def build(store: GraphStore, n: int, edges: list[tuple[int, int]]) -> None:
    for i in range(1, n + 1):
        store.add_person(person(i))
    for a, b in edges:
        store.add_friendship(PersonId(a), PersonId(b))


# --- people ---------------------------------------------------------------------------------


def test_add_person_round_trips_profile(store: GraphStore) -> None:
    p = person(7, birthday="1990-04-01", email="p7@example.org", country="GB", work="Acme")
    store.add_person(p)
    assert store.get_profile(PersonId(7)) == p
    assert store.get_profile(PersonId(8)) is None


def test_add_person_creates_default_privacy(store: GraphStore) -> None:
    store.add_person(person(1))
    privacy = store.get_privacy([PersonId(1)])[PersonId(1)]
    assert privacy.audiences == default_audiences()
    assert privacy.audience("email") is Audience.ONLY_ME
    assert privacy.audience("id") is Audience.PUBLIC
    assert all(privacy.apps_others_use[c] for c in AppsOthersUse)


def test_add_person_with_given_privacy(store: GraphStore) -> None:
    audiences = default_audiences() | {"birthday": Audience.ONLY_ME}
    sharing = dict.fromkeys(AppsOthersUse, False)
    store.add_person(person(1), PrivacySettings(audiences, sharing))
    got = store.get_privacy([PersonId(1)])[PersonId(1)]
    assert got.audience("birthday") is Audience.ONLY_ME
    assert not any(got.apps_others_use.values())


def test_duplicate_person_is_an_integrity_violation(store: GraphStore) -> None:
    store.add_person(person(1))
    with pytest.raises(IntegrityViolation):
        store.add_person(person(1))


def test_get_profiles_returns_only_existing(store: GraphStore) -> None:
    build(store, 5, [])
    got = store.get_profiles([PersonId(i) for i in (2, 4, 9)])
    assert sorted(got) == [2, 4]
    assert got[PersonId(4)].name == "Person 4"
    assert store.get_profiles([]) == {}
    assert sorted(store.get_privacy([PersonId(1), PersonId(99)])) == [1]


def test_list_people_pages_with_friend_counts(store: GraphStore) -> None:
    build(store, 5, [(1, 2), (1, 3), (2, 3)])
    assert store.list_people(limit=2) == [(1, "Person 1", 2), (2, "Person 2", 2)]
    assert store.list_people(after=PersonId(3), limit=10) == [
        (4, "Person 4", 0),
        (5, "Person 5", 0),
    ]


# --- friendships ----------------------------------------------------------------------------


def test_friendship_is_symmetric(store: GraphStore) -> None:
    build(store, 3, [(1, 2)])
    assert store.are_friends(PersonId(1), PersonId(2))
    assert store.are_friends(PersonId(2), PersonId(1))
    assert not store.are_friends(PersonId(1), PersonId(3))
    assert store.friend_ids(PersonId(2)) == [1]
    assert store.friend_count(PersonId(1)) == 1


@pytest.mark.parametrize("pair", [(1, 1), (1, 2), (2, 1), (1, 99)])
def test_bad_friendship_is_an_integrity_violation(store: GraphStore, pair: tuple[int, int]) -> None:
    build(store, 2, [(1, 2)])
    with pytest.raises(IntegrityViolation):
        store.add_friendship(PersonId(pair[0]), PersonId(pair[1]))
    assert store.friend_count(PersonId(1)) == 1


def test_bulk_writes_are_all_or_none(store: GraphStore) -> None:
    build(store, 4, [(1, 2)])
    with pytest.raises(IntegrityViolation):
        store.add_friendships([(PersonId(3), PersonId(4)), (PersonId(2), PersonId(1))])
    with pytest.raises(IntegrityViolation):
        store.add_friendships([(PersonId(3), PersonId(4)), (PersonId(4), PersonId(3))])
    assert store.friend_ids(PersonId(3)) == []
    with pytest.raises(IntegrityViolation):
        store.add_people([(person(5), None), (person(1), None)])
    assert store.get_profile(PersonId(5)) is None
    assert store.add_friendships([(PersonId(3), PersonId(4))]) == 1
    assert store.person_count() == 4


def test_friend_ids_pages_in_id_order(store: GraphStore) -> None:
    build(store, 10, [(5, i) for i in (9, 2, 7, 1, 3)])
    me = PersonId(5)
    assert store.friend_ids(me) == [1, 2, 3, 7, 9]
    assert store.friend_ids(me, limit=2) == [1, 2]
    assert store.friend_ids(me, after=PersonId(2), limit=2) == [3, 7]
    assert store.friend_ids(me, after=PersonId(9)) == []
    assert store.friend_ids(me, limit=0) == []
    with pytest.raises(InvalidInput):
        store.friend_ids(me, limit=-1)


def test_mutual_friend_exists(store: GraphStore) -> None:
    build(store, 5, [(1, 2), (2, 3), (4, 5)])
    assert store.mutual_friend_exists(PersonId(1), PersonId(3))
    assert store.mutual_friend_exists(PersonId(3), PersonId(1))
    assert not store.mutual_friend_exists(PersonId(1), PersonId(2))  # friends, no common one
    assert not store.mutual_friend_exists(PersonId(1), PersonId(4))
    assert not store.mutual_friend_exists(PersonId(1), PersonId(1))


def test_relations_of_a_page(store: GraphStore) -> None:
    # 1-2, 2-3, 1-4, 4-3: 3 is a friend of friends twice; 5 is alone; 2-4 friends of each other
    build(store, 6, [(1, 2), (2, 3), (1, 4), (4, 3), (2, 4), (5, 6)])
    got = store.relations(PersonId(1), [PersonId(i) for i in (1, 2, 3, 4, 5, 77)])
    assert got == {
        1: Relation.SELF,
        2: Relation.FRIEND,
        3: Relation.FRIEND_OF_FRIEND,
        4: Relation.FRIEND,
        5: Relation.STRANGER,
        77: Relation.STRANGER,
    }
    assert store.relations(PersonId(1), []) == {}


# --- pages and likes ------------------------------------------------------------------------


def test_likes(store: GraphStore) -> None:
    build(store, 3, [])
    for g in (30, 10, 20):
        store.add_page(PageInfo(PageId(g), f"Page {g}", "Music"))
    for g in (30, 10, 20):
        store.add_like(PersonId(1), PageId(g))
    store.add_like(PersonId(2), PageId(20))
    assert [p.id for p in store.liked_pages(PersonId(1))] == [10, 20, 30]
    assert store.liked_pages(PersonId(1), after=PageId(10), limit=1) == [
        PageInfo(PageId(20), "Page 20", "Music")
    ]
    got = store.likes_of([PersonId(1), PersonId(2), PersonId(3)])
    assert [p.id for p in got[PersonId(1)]] == [10, 20, 30]
    assert [p.id for p in got[PersonId(2)]] == [20]
    assert got[PersonId(3)] == []


@pytest.mark.parametrize(("who", "page"), [(1, 10), (1, 99), (99, 10)])
def test_bad_like_is_an_integrity_violation(store: GraphStore, who: int, page: int) -> None:
    build(store, 1, [])
    store.add_page(PageInfo(PageId(10), "Page", "Music"))
    store.add_like(PersonId(1), PageId(10))
    with pytest.raises(IntegrityViolation):
        store.add_like(PersonId(who), PageId(page))


def test_duplicate_page_is_an_integrity_violation(store: GraphStore) -> None:
    store.add_page(PageInfo(PageId(1), "Page", "Music"))
    with pytest.raises(IntegrityViolation):
        store.add_page(PageInfo(PageId(1), "Other", "Film"))


# --- settings -------------------------------------------------------------------------------


def test_settings_change(store: GraphStore) -> None:
    build(store, 1, [])
    me = PersonId(1)
    store.set_audience(me, "birthday", Audience.PUBLIC)
    store.set_apps_others_use(me, AppsOthersUse.LIKES, False)
    store.set_platform_enabled(me, False)
    privacy = store.get_privacy([me])[me]
    assert privacy.audience("birthday") is Audience.PUBLIC
    assert privacy.audience("hometown") is Audience.FRIENDS
    assert privacy.apps_others_use[AppsOthersUse.LIKES] is False
    assert privacy.apps_others_use[AppsOthersUse.WORK] is True
    profile = store.get_profile(me)
    assert profile is not None
    assert profile.platform_enabled is False


def test_settings_reject_unknown_person_and_field(store: GraphStore) -> None:
    build(store, 1, [])
    with pytest.raises(NotFound):
        store.set_audience(PersonId(2), "birthday", Audience.PUBLIC)
    with pytest.raises(NotFound):
        store.set_apps_others_use(PersonId(2), AppsOthersUse.LIKES, False)
    with pytest.raises(NotFound):
        store.set_platform_enabled(PersonId(2), False)
    for bad in ("id", "favourite_colour"):
        with pytest.raises(InvalidInput):
            store.set_audience(PersonId(1), bad, Audience.PUBLIC)


# --- properties -----------------------------------------------------------------------------


edge_sets = st.sets(
    st.tuples(st.integers(1, 8), st.integers(1, 8))
    .filter(lambda e: e[0] != e[1])
    .map(lambda e: (min(e), max(e))),
    max_size=16,
)


def expected_relation(edges: set[tuple[int, int]], owner: int, subject: int) -> Relation:
    adj: dict[int, set[int]] = {}
    for a, b in edges:
        adj.setdefault(a, set()).add(b)
        adj.setdefault(b, set()).add(a)
    if owner == subject:
        return Relation.SELF
    if subject in adj.get(owner, set()):
        return Relation.FRIEND
    if adj.get(owner, set()) & adj.get(subject, set()):
        return Relation.FRIEND_OF_FRIEND
    return Relation.STRANGER


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edges=edge_sets, owner=st.integers(1, 8))
def test_memory_relations_match_definition(edges: set[tuple[int, int]], owner: int) -> None:
    store = MemoryGraphStore()
    build(store, 8, sorted(edges))
    subjects = [PersonId(i) for i in range(1, 9)]
    got = store.relations(PersonId(owner), subjects)
    for s in subjects:
        assert got[s] is expected_relation(edges, owner, s)
        assert store.mutual_friend_exists(PersonId(owner), s) == (
            owner != s and bool(set(store.friend_ids(PersonId(owner))) & set(store.friend_ids(s)))
        )


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(edges=edge_sets)
def test_sql_store_agrees_with_memory_store(sqlite_url: str, edges: set[tuple[int, int]]) -> None:
    engine = create_store_engine(sqlite_url)
    try:
        sql = SqlGraphStore(engine)
        # hypothesis reuses the fixture's database: start from an empty graph each example
        with engine.begin() as conn:
            conn.execute(Friendship.__table__.delete())
        if sql.person_count() == 0:
            for i in range(1, 9):
                sql.add_person(person(i))
        sql.add_friendships([(PersonId(a), PersonId(b)) for a, b in sorted(edges)])
        mem = MemoryGraphStore()
        build(mem, 8, sorted(edges))
        everyone = [PersonId(i) for i in range(1, 9)]
        for owner in everyone:
            assert sql.relations(owner, everyone) == mem.relations(owner, everyone)
            assert sql.friend_ids(owner) == mem.friend_ids(owner)
            for other in everyone:
                assert sql.mutual_friend_exists(owner, other) == mem.mutual_friend_exists(
                    owner, other
                )
    finally:
        engine.dispose()


# --- query shape (SQL only) -----------------------------------------------------------------


def count_statements(engine: Engine) -> list[str]:
    seen: list[str] = []

    def record(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    return seen


def test_page_reads_are_one_query_each(sqlite_url: str) -> None:
    engine = create_store_engine(sqlite_url)
    try:
        store = SqlGraphStore(engine)
        store.add_people([(person(i), None) for i in range(1, 151)])
        store.add_friendships([(PersonId(1), PersonId(i)) for i in range(2, 151)])
        page = [PersonId(i) for i in range(1, 101)]
        seen = count_statements(engine)
        assert len(store.get_profiles(page)) == 100
        assert len(seen) == 1
        assert len(store.get_privacy(page)) == 100
        assert len(seen) == 2
        store.relations(PersonId(2), page)
        assert len(seen) <= 4
        store.friend_ids(PersonId(1), after=PersonId(50), limit=25)
        assert len(seen) <= 5
        with engine.connect() as conn:
            n = conn.execute(select(func.count()).select_from(Friendship.__table__)).scalar_one()
        assert n == 2 * 149
    finally:
        engine.dispose()


def test_privacy_settings_cover_every_audience_field(store: GraphStore) -> None:
    store.add_person(person(1))
    assert set(store.get_privacy([PersonId(1)])[PersonId(1)].audiences) == set(AUDIENCE_FIELDS)
