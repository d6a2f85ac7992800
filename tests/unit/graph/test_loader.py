"""Bulk load of a population into the store (SQLite and PostgreSQL) and reading it back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, func, select, text

from graphwarden.core.db import create_store_engine, upgrade
from graphwarden.core.errors import StoreError
from graphwarden.graph.fields import AUDIENCE_FIELDS, FIELD_BY_NAME, AppsOthersUse
from graphwarden.graph.loader import load_population, people_count, read_graph
from graphwarden.graph.models import Friendship, Like, Page, Person
from graphwarden.simulation.population import Population, generate_population

TABLES = ("people", "pages", "friendships", "likes", "field_audiences", "apps_others_use")


@pytest.fixture(scope="module")
def village() -> Population:
    return generate_population(400, seed=5, fill_all=True)


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_round_trip(engine: Engine, village: Population) -> None:
    report = load_population(engine, village)
    pop = village
    assert report.rows["people"] == pop.n == _count(engine, "people")
    assert report.rows["friendships"] == pop.indices.size == _count(engine, "friendships")
    assert report.rows["likes"] == pop.likes_indices.size == _count(engine, "likes")
    assert _count(engine, "pages") == pop.n_pages
    assert _count(engine, "field_audiences") == _count(engine, "apps_others_use") == pop.n
    # both directions of every friendship, and exactly the generated graph
    stored = read_graph(engine)
    assert np.array_equal(stored.person_ids, np.arange(1, pop.n + 1))
    assert np.array_equal(stored.graph.indptr, pop.indptr)
    assert np.array_equal(stored.graph.indices, pop.indices)
    f = Friendship.__table__.c
    with engine.connect() as conn:
        one_way = conn.execute(
            select(func.count())
            .select_from(Friendship.__table__.alias("a"))
            .where(
                ~select(f.person_id)
                .where((f.person_id == text("a.friend_id")) & (f.friend_id == text("a.person_id")))
                .exists()
            )
        ).scalar_one()
        assert one_way == 0
        # person 1 is index 0: its profile, audiences, switches and likes
        row = conn.execute(select(Person.__table__).where(Person.__table__.c.id == 1)).one()
        cols = pop.profile_columns(0, 1)
        for name, values in cols.items():
            assert getattr(row, name) == values[0], name
        assert row.platform_enabled == bool(pop.platform_enabled[0])
        aud = conn.execute(text("SELECT * FROM field_audiences WHERE person_id = 1")).one()
        for name in AUDIENCE_FIELDS:
            assert getattr(aud, name) == pop.audience[0, FIELD_BY_NAME[name].index], name
        sw = conn.execute(text("SELECT * FROM apps_others_use WHERE person_id = 1")).one()
        for c in AppsOthersUse:
            assert bool(getattr(sw, c.label)) == bool((int(pop.shares[0]) >> int(c)) & 1)
        likes = conn.execute(
            select(Like.__table__.c.page_id)
            .where(Like.__table__.c.person_id == 1)
            .order_by(Like.__table__.c.page_id)
        ).scalars()
        assert [p - 1 for p in likes] == pop.likes_of(0).tolist()
        page = conn.execute(select(Page.__table__).where(Page.__table__.c.id == 1)).one()
        assert page.name == pop.page_names(0, 1)[0]


def test_refuses_a_populated_store_unless_replacing(engine: Engine, village: Population) -> None:
    load_population(engine, village)
    with pytest.raises(StoreError, match="already holds 400 people"):
        load_population(engine, village)
    smaller = generate_population(60, seed=9)
    report = load_population(engine, smaller, replace=True)
    assert people_count(engine) == 60
    assert report.rows["friendships"] == _count(engine, "friendships")


def test_store_contents_are_deterministic(sqlite_url: str, tmp_path: Path) -> None:
    second = f"sqlite:///{tmp_path / 'again.db'}"
    upgrade(second)
    dumps = []
    for url in (sqlite_url, second):
        eng = create_store_engine(url)
        try:
            load_population(eng, generate_population(150, seed=21))
            with eng.connect() as conn:
                dumps.append(
                    {
                        t: conn.execute(text(f"SELECT * FROM {t} ORDER BY 1, 2")).all()
                        for t in TABLES
                    }
                )
        finally:
            eng.dispose()
    for t in TABLES:
        if t == "people":  # created_at is the load time
            strip = [tuple(r)[:-1] for r in dumps[0][t]], [tuple(r)[:-1] for r in dumps[1][t]]
            assert strip[0] == strip[1]
        else:
            assert dumps[0][t] == dumps[1][t], t


def _friendship_keys(engine: Engine) -> tuple[set[str], set[str]]:
    """Names of the constraints and indexes on friendships and likes, per backend."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            constraints = conn.execute(
                text(
                    "SELECT conname FROM pg_constraint WHERE conrelid IN "
                    "('friendships'::regclass, 'likes'::regclass)"
                )
            ).scalars()
            indexes = conn.execute(
                text(
                    "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
                    "AND tablename IN ('friendships', 'likes')"
                )
            ).scalars()
        else:
            constraints = conn.execute(
                text("SELECT sql FROM sqlite_master WHERE name IN ('friendships', 'likes')")
            ).scalars()
            indexes = conn.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type = 'index' "
                    "AND tbl_name IN ('friendships', 'likes')"
                )
            ).scalars()
        return set(constraints), set(indexes)


def test_keys_and_indexes_set_aside_for_the_load_come_back(
    engine: Engine, village: Population
) -> None:
    before = _friendship_keys(engine)
    load_population(engine, village)
    assert _friendship_keys(engine) == before
    assert "ix_likes_page_id" in before[1]
    assert not any("friend_id" in name for name in before[1])  # the primary key serves reads


def test_friendships_are_the_clustered_primary_key_on_sqlite(sqlite_url: str) -> None:
    eng = create_store_engine(sqlite_url)
    try:
        with eng.connect() as conn:
            sql = conn.execute(
                text("SELECT sql FROM sqlite_master WHERE name = 'friendships'")
            ).scalar_one()
    finally:
        eng.dispose()
    assert sql.rstrip().upper().endswith("WITHOUT ROWID")


def test_foreign_keys_are_enforced_again_after_a_sqlite_load(
    sqlite_url: str, village: Population
) -> None:
    eng = create_store_engine(sqlite_url, pool_size=1, max_overflow=0)
    try:
        load_population(eng, village)
        with eng.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
            with pytest.raises(Exception, match="FOREIGN KEY"):
                conn.execute(text("INSERT INTO friendships VALUES (1, 999999)"))
    finally:
        eng.dispose()


def test_a_dangling_reference_fails_the_load_and_leaves_nothing(
    engine: Engine, village: Population
) -> None:
    broken = generate_population(120, seed=3)
    # a like of a page that does not exist: caught after the load, before the commit
    broken.likes_indices = broken.likes_indices.copy()
    broken.likes_indices[-1] = broken.n_pages + 5
    with pytest.raises(StoreError, match="bulk load"):
        load_population(engine, broken)
    for table in TABLES:
        assert _count(engine, table) == 0, table
    # the store is usable afterwards: the same keys and indexes are in place
    load_population(engine, village)
    assert _count(engine, "friendships") == village.indices.size
