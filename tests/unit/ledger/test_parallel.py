"""Verification in several processes: the ranges join into exactly the sequential result,
and no tampering gets past it (whatever it finds, the sequential pass names)."""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.unit.ledger.builders import SIGNER
from tests.unit.ledger.test_verify import HEAD_EVERY, TAMPERINGS, Log, Tamper, _build, _latest_head

from graphwarden.core.db import create_store_engine, upgrade
from graphwarden.ledger import parallel
from graphwarden.ledger.merkle import MerkleFrontier
from graphwarden.ledger.verify import verify_ledger


@pytest.fixture(scope="module")
def log_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Log]]:
    path = tmp_path_factory.mktemp("parallel") / "ledger.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = create_store_engine(url)
    log = _build(engine, seed=11)
    engine.dispose()
    return path, log


def _copy(path: Path, tmp_path: Path) -> Engine:
    target = tmp_path / "copy.db"
    shutil.copy(path, target)
    return create_store_engine(f"sqlite:///{target}")


@pytest.mark.parametrize(("workers", "level"), [(2, 1), (2, 3), (3, 6), (4, 7), (2, 9), (5, 12)])
def test_ranges_join_into_the_sequential_tree(
    log_file: tuple[Path, Log], workers: int, level: int
) -> None:
    path, log = log_file
    url = f"sqlite:///{path}"
    engine = create_store_engine(url)
    with engine.connect() as conn:
        heads = {
            int(s): bytes(r)
            for s, r in conn.exec_driver_sql("SELECT tree_size, root_hash FROM signed_tree_heads")
        }
        state = bytes(conn.exec_driver_sql("SELECT frontier FROM ledger_state").scalar_one())
    engine.dispose()
    sizes = sorted(heads)
    # the workers' job, run here one range after another
    results = [
        parallel.check_range(
            url, lo, hi, [s for s in sizes if s > lo and (hi is None or s <= hi)], level
        )
        for lo, hi in parallel.split(log.size, workers, level)
    ]
    combined = parallel.combine(results, sizes, level)
    assert combined is not None
    assert combined.size == log.size
    assert combined.batches == len(log.batches)
    assert combined.roots == heads
    assert combined.frontier.to_bytes() == state
    assert combined.frontier.root() == MerkleFrontier.from_bytes(log.size, state).root()


def test_split_cuts_on_block_boundaries() -> None:
    assert parallel.split(10, 2, 3) == [(0, None)]  # one block: nothing to share
    assert parallel.split(100, 2, 3) == [(0, 48), (48, None)]
    assert parallel.split(10_000_000, 2, 20) == [(0, 4 << 20), (4 << 20, None)]
    for lo, _hi in parallel.split(12345, 3, 4)[1:]:
        assert lo % 16 == 0


def test_a_range_that_reports_a_problem_stops_the_parallel_pass(
    log_file: tuple[Path, Log], tmp_path: Path
) -> None:
    path, log = log_file
    engine = _copy(path, tmp_path)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE disclosures SET field = 'email' WHERE seq = 700")
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    results = [
        parallel.check_range(url, lo, hi, [], 6) for lo, hi in parallel.split(log.size, 2, 6)
    ]
    assert [r.error is not None for r in results] == [False, True]
    assert parallel.combine(results, [], 6) is None


def test_the_intact_log_verifies_in_parallel_as_in_one_pass(log_file: tuple[Path, Log]) -> None:
    path, _log = log_file
    engine = create_store_engine(f"sqlite:///{path}")
    try:
        sequential = verify_ledger(engine, SIGNER.public_key, max_head_gap=HEAD_EVERY, workers=1)
        both = verify_ledger(
            engine, SIGNER.public_key, max_head_gap=HEAD_EVERY, workers=2, block_level=6
        )
    finally:
        engine.dispose()
    assert sequential.ok, sequential.error
    assert both.ok, both.error
    assert "verified by 2 processes" in both.notes
    for name in ("records", "batches", "heads", "latest_head_size", "root_hash"):
        assert getattr(both, name) == getattr(sequential, name), name


@pytest.mark.parametrize("tamper", TAMPERINGS, ids=lambda t: t.__name__)
def test_no_tampering_gets_past_the_parallel_pass(
    log_file: tuple[Path, Log], tmp_path: Path, tamper: Tamper
) -> None:
    path, log = log_file
    engine = _copy(path, tmp_path)
    try:
        rng = random.Random(tamper.__name__)
        with engine.begin() as conn:  # committed: the workers read it from other processes
            trusted = [_latest_head(conn)]
            kind, where = tamper(conn, log, rng)
        if kind == "skip":
            pytest.skip("this deletion left the heads around it close enough: nothing was lost")
        report = verify_ledger(
            engine,
            SIGNER.public_key,
            trusted=trusted,
            max_head_gap=HEAD_EVERY,
            workers=2,
            block_level=6,
        )
    finally:
        engine.dispose()
    assert report.error is not None, f"{tamper.__name__} went unnoticed"
    assert "verified by 2 processes" not in report.notes
    if kind == "seq":
        assert report.error.seq == where, str(report.error)
    elif kind == "head":
        assert report.error.head == where, str(report.error)
    else:  # a rollback is named by the trusted head it falls short of
        assert kind == "rollback"
        assert report.error.head == trusted[0].tree_size, str(report.error)


def test_blocks_give_every_worker_at_least_sixteen() -> None:
    assert parallel.block_level(10_000_000, 2) == 18
    assert parallel.block_level(100, 4) == 1
    assert parallel.block_level(10**12, 2) == parallel.BLOCK_LEVEL
    for size, workers in ((10_000_000, 2), (3_000_000, 4), (1_000_000, 3)):
        level = parallel.block_level(size, workers)
        assert (size >> level) >= 16 * workers


def test_postgres_workers_share_the_parent_snapshot(postgres_url: str) -> None:
    engine = create_store_engine(postgres_url)
    try:
        log = _build(engine, seed=5)
        report = verify_ledger(
            engine, SIGNER.public_key, max_head_gap=HEAD_EVERY, workers=2, block_level=6
        )
        assert report.ok, report.error
        assert "verified by 2 processes" in report.notes
        assert report.records == log.size
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE disclosures SET field = 'email' WHERE seq = 900")
        report = verify_ledger(
            engine, SIGNER.public_key, max_head_gap=HEAD_EVERY, workers=2, block_level=6
        )
        assert report.error is not None
        assert report.error.seq == 900
    finally:
        engine.dispose()
