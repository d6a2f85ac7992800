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
