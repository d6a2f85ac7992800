"""The replay: api and bulk engines agree; v2.0+ exposes nobody who did not consent;
installers are concentrated and deterministic; the bulk ledger is deterministic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphwarden.analytics.exposure import exposure_run, write_people
from graphwarden.core.errors import InvalidInput
from graphwarden.server import in_process_client
from graphwarden.simulation.bulk_engine import run_bulk
from graphwarden.simulation.population import generate_population
from graphwarden.simulation.replay import ReplayConfig, run_replay
from graphwarden.simulation.scenarios import (
    ReplayPopulation,
    choose_installers,
    installer_count,
    tiny_population,
)


def _records(path: Path) -> list[tuple[object, ...]]:
    t = pq.read_table(path)
    cols = ("owner_id", "subject_id", "field", "rule_id", "at")
    return sorted(zip(*(t.column(c).to_pylist() for c in cols), strict=True))


def test_api_and_bulk_engines_give_the_same_ledger_and_summary(tmp_path: Path) -> None:
    population = generate_population(260, seed=3)
    common = {"seed": 3, "installers": 4, "benign_installs": 2}
    api = run_replay(
        ReplayConfig(out=tmp_path / "api", engine="api", **common),
        population,
        http_factory=in_process_client,
        report=False,
    )
    bulk = run_replay(
        ReplayConfig(out=tmp_path / "bulk", engine="bulk", **common), population, report=False
    )
    assert api.to_json()["runs"] == bulk.to_json()["runs"]
    for a, b in zip(api.runs, bulk.runs, strict=True):
        # the same records, field by field and rule by rule (request ids differ by design)
        assert _records(a.ledger) == _records(b.ledger)
    v1 = api.to_json()["runs"][0]
    assert v1["exposed_users"] > 5 * v1["consenting_users"]
    assert all(r["non_consenting_exposed"] == 0 for r in api.to_json()["runs"][1:])


def test_bulk_ledger_is_deterministic_and_has_a_merkle_root(tmp_path: Path) -> None:
    pop = tiny_population(400, seed=5)
    inst = choose_installers(pop, count=6, seed=5)
    a = run_bulk(pop, inst, "v1.0", tmp_path / "a.parquet")
    b = run_bulk(pop, inst, "v1.0", tmp_path / "b.parquet")
    assert a.records == b.records > 0
    assert a.merkle_root == b.merkle_root
    assert a.merkle_root is not None
    other = run_bulk(pop, choose_installers(pop, count=6, seed=6), "v1.0", tmp_path / "c.parquet")
    assert other.merkle_root != a.merkle_root


def test_bulk_merkle_root_matches_the_ledger_encoding(tmp_path: Path) -> None:
    from graphwarden.ledger.export import record_of
    from graphwarden.ledger.merkle import root

    pop = tiny_population(120, seed=2)
    written = run_bulk(pop, choose_installers(pop, count=3, seed=2), "v1.0", tmp_path / "l.parquet")
    rows = pq.read_table(written.path).to_pylist()
    assert [r["seq"] for r in rows] == list(range(len(rows)))
    assert root([record_of(r).leaf_hash() for r in rows]) == written.merkle_root


def test_installers_are_concentrated_in_the_target_country_and_deterministic() -> None:
    pop = tiny_population(3000, seed=1, country_weights=(0.3, 0.4, 0.3))
    a = choose_installers(pop, count=200, seed=9, target_country="US", target_share=0.9)
    b = choose_installers(pop, count=200, seed=9, target_country="US", target_share=0.9)
    assert np.array_equal(a, b)
    assert len(set(a.tolist())) == 200
    assert pop.platform_enabled[a].all()
    us = pop.country_names.index("US")
    assert (pop.country[a] == us).mean() == pytest.approx(0.9, abs=0.01)


@pytest.mark.parametrize(
    ("n", "installers", "rate", "expected"),
    # neither given: the default share (the replay runs with no options)
    [(20_000, None, 0.002, 40), (100, 7, None, 7), (10, None, 0.01, 1), (20_000, None, None, 40)],
)
def test_installer_count(n: int, installers: int | None, rate: float | None, expected: int) -> None:
    assert installer_count(n, installers, rate) == expected


@pytest.mark.parametrize(("installers", "rate"), [(3, 0.1), (0, None), (None, 1.5)])
def test_installer_count_refuses_bad_input(installers: int | None, rate: float | None) -> None:
    with pytest.raises(InvalidInput):
        installer_count(100, installers, rate)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(20, 150),
    k=st.integers(1, 12),
    version=st.sampled_from(["v2.0", "v3.0"]),
)
def test_after_2014_nobody_is_exposed_without_consent(
    tmp_path_factory: pytest.TempPathFactory, seed: int, n: int, k: int, version: str
) -> None:
    pop = tiny_population(n, seed=seed, mean_friends=10)
    inst = choose_installers(pop, count=min(k, int(pop.platform_enabled.sum())), seed=seed)
    out = tmp_path_factory.mktemp("prop")
    ledger = run_bulk(pop, inst, version, out / "l.parquet", merkle=False).path
    people = write_people(out / "people.parquet", pop.country, pop.country_names)
    run = exposure_run(version, ledger, people, consenting=(inst + 1).tolist())
    assert run.non_consenting_exposed == 0
    assert set(pq.read_table(ledger).column("subject_id").to_pylist()) <= set((inst + 1).tolist())


def test_replay_population_adapts_the_generator() -> None:
    population = generate_population(120, seed=4)
    arrays = ReplayPopulation.of(population)
    assert arrays.n == 120
    assert arrays.country_names[0] == "US"
    assert np.array_equal(arrays.indptr, population.indptr)
    assert arrays.has_value.shape == (120, population.audience.shape[1])


def _people(path: Path) -> int:
    from graphwarden.core.db import create_store_engine
    from graphwarden.graph.loader import people_count

    engine = create_store_engine(f"sqlite:///{path}")
    try:
        return people_count(engine)
    finally:
        engine.dispose()


def test_a_run_store_is_a_whole_copy_of_the_template(tmp_path: Path) -> None:
    from graphwarden.simulation.replay import build_template, fresh_store

    template = build_template(generate_population(90, seed=6), tmp_path / "template.db")
    # checkpointed: nothing is left in a write-ahead log beside the file that is copied
    wal = template.with_name(template.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    engine = fresh_store(template, tmp_path / "run" / "graphwarden.db")
    engine.dispose()
    assert _people(tmp_path / "run" / "graphwarden.db") == _people(template) == 90


def test_a_template_in_use_is_refused(tmp_path: Path) -> None:
    from graphwarden.core.db import create_store_engine
    from graphwarden.core.errors import StoreError
    from graphwarden.simulation.replay import build_template, checkpoint_store

    template = build_template(generate_population(40, seed=2), tmp_path / "template.db")
    reader = create_store_engine(f"sqlite:///{template}")
    try:
        with reader.connect() as conn:
            conn.exec_driver_sql("BEGIN")
            conn.exec_driver_sql("SELECT count(*) FROM people").scalar()
            conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS scratch (x)")  # a write in flight
            with pytest.raises(StoreError):
                checkpoint_store(template)
            conn.exec_driver_sql("ROLLBACK")
    finally:
        reader.dispose()
    with pytest.raises(InvalidInput):
        checkpoint_store(tmp_path / "absent.db")


def test_a_given_template_gives_the_same_replay_and_is_kept(tmp_path: Path) -> None:
    from graphwarden.simulation.replay import build_template

    population = generate_population(200, seed=8)
    template = build_template(population, tmp_path / "store.db")
    common = {"seed": 8, "installers": 3, "benign_installs": 1, "versions": ("v1.0", "v2.0")}
    stages: list[str] = []
    copied = run_replay(
        ReplayConfig(out=tmp_path / "copied", engine="api", **common),  # type: ignore[arg-type]
        population,
        http_factory=in_process_client,
        progress=lambda stage, done, total: stages.append(stage),
        report=False,
        template=template,
    )
    assert template.exists()
    assert "store" not in stages  # nothing loaded: the runs copied the given store
    bulk = run_replay(
        ReplayConfig(out=tmp_path / "bulk", engine="bulk", **common),  # type: ignore[arg-type]
        population,
        report=False,
    )
    assert copied.to_json()["runs"] == bulk.to_json()["runs"]
