"""Appending to the ledger: atomic batches, fail-closed writes, tree heads, concurrency."""

from __future__ import annotations

import multiprocessing
import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from tests.ledger_faults import install_write_failure, remove_write_failure
from tests.unit.ledger.builders import SIGNER, append_many, make_batch, make_ledger, process_worker

from graphwarden.core.clock import ManualClock
from graphwarden.core.db import create_store_engine
from graphwarden.core.errors import LedgerWriteError
from graphwarden.ledger.interfaces import DisclosureBatch, DisclosureColumns, DisclosureItem
from graphwarden.ledger.merkle import root
from graphwarden.ledger.queries import iter_disclosures, load_heads, tree_size
from graphwarden.ledger.records import Disclosure, to_micros
from graphwarden.ledger.service import SqlDisclosureLedger
from graphwarden.ledger.signing import verify_head
from graphwarden.ledger.verify import verify_ledger


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())


def test_append_returns_a_gap_free_receipt_and_records_every_column(engine: Engine) -> None:
    ledger = make_ledger(engine)
    at = datetime(2014, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)
    first = ledger.append(make_batch(500, at=at, request_id="r-1", app_id=9, owner_id=3))
    second = ledger.append(make_batch(3, request_id="r-2"))
    assert (first.first_seq, first.count, first.tree_size) == (0, 500, 500)
    assert (second.first_seq, second.count, second.tree_size) == (500, 3, 503)
    records = list(iter_disclosures(engine))
    assert [r.seq for r in records] == list(range(503))
    assert records[0] == Disclosure(
        0, to_micros(at), "r-1", 9, "v1.0", 3, 1000, "id", "v1.0/friend-field"
    )
    assert records[0].at == at
    assert [r.seq for r in iter_disclosures(engine, app_id=9)] == list(range(500))
    assert [r.field for r in iter_disclosures(engine, subject_id=1000, app_id=9)] == [
        "id",
        "name",
        "birthday",
        "hometown",
        "location",
    ]
    assert tree_size(engine) == 503
    assert verify_ledger(engine, SIGNER.public_key).ok


def test_empty_batch_writes_nothing(engine: Engine) -> None:
    ledger = make_ledger(engine)
    ledger.append(make_batch(4))
    receipt = ledger.append(make_batch(0))
    assert (receipt.first_seq, receipt.count, receipt.tree_size) == (4, 0, 4)
    assert _count(engine, "disclosure_batches") == 1


def test_a_real_write_failure_raises_and_leaves_nothing_behind(engine: Engine) -> None:
    ledger = make_ledger(engine)
    ledger.append(make_batch(10))
    install_write_failure(engine)
    with pytest.raises(LedgerWriteError, match="injected ledger write failure"):
        ledger.append(make_batch(500, request_id="lost"))
    assert _count(engine, "disclosures") == 10
    assert _count(engine, "disclosure_batches") == 1
    assert tree_size(engine) == 10
    remove_write_failure(engine)
    receipt = ledger.append(make_batch(5, request_id="after"))
    assert receipt.first_seq == 10
    assert verify_ledger(engine, SIGNER.public_key).ok


def test_an_unreachable_store_raises_ledger_write_error(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path}/not-migrated.db")
    with pytest.raises(LedgerWriteError):
        make_ledger(engine).append(make_batch(1))
    engine.dispose()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"api_version": "v9.9"}, "API version"),
        ({"request_id": "x" * 129}, "longer than 128"),
        ({"request_id": "a\x00b"}, "NUL"),
        ({"app_id": 2**63}, "64 bits"),
        ({"at": "yesterday"}, "not a datetime"),
    ],
)
def test_unstorable_batches_are_refused_before_writing(
    sqlite_engine: Engine, change: dict[str, object], message: str
) -> None:
    base = make_batch(2)
    fields = {f: getattr(base, f) for f in DisclosureBatch.__dataclass_fields__}
    fields.update(change)
    with pytest.raises(LedgerWriteError, match=message):
        make_ledger(sqlite_engine).append(DisclosureBatch(**fields))  # type: ignore[arg-type]
    assert _count(sqlite_engine, "disclosures") == 0


@pytest.mark.parametrize(
    "item",
    [
        DisclosureItem(subject_id=2**64, field="name", rule_id="r"),  # type: ignore[arg-type]
        DisclosureItem(subject_id=1, field="", rule_id="r"),  # type: ignore[arg-type]
        DisclosureItem(subject_id=1, field="f" * 65, rule_id="r"),  # type: ignore[arg-type]
        DisclosureItem(subject_id="1", field="name", rule_id="r"),  # type: ignore[arg-type]
    ],
)
def test_unstorable_items_are_refused(sqlite_engine: Engine, item: DisclosureItem) -> None:
    batch = make_batch(3)
    bad = DisclosureBatch(
        batch.request_id,
        batch.at,
        batch.app_id,
        batch.api_version,
        batch.owner_id,
        [*batch.items, item],
    )
    with pytest.raises(LedgerWriteError):
        make_ledger(sqlite_engine).append(bad)
    assert _count(sqlite_engine, "disclosures") == 0


def test_heads_are_signed_every_n_records_and_every_second_of_activity(engine: Engine) -> None:
    clock = ManualClock()
    ledger = make_ledger(engine, clock, head_every=1000)
    ledger.append(make_batch(10))  # the first append: no head for over a second → sign
    for _ in range(5):
        ledger.append(make_batch(500))  # the clock stands still: only the 1,000-record rule
    clock.advance(seconds=1)
    ledger.append(make_batch(7))
    with engine.connect() as conn:
        heads = load_heads(conn)
    assert [h.tree_size for h in heads] == [10, 1010, 2010, 2517]
    for head in heads:
        verify_head(head, SIGNER.public_key)
    leaves = [d.leaf_hash() for d in iter_disclosures(engine)]
    assert [h.root_hash for h in heads] == [root(leaves[: h.tree_size]) for h in heads]
    assert heads[-1].timestamp_us == to_micros(clock.now())
    assert ledger.publish_head() is None  # the newest head already covers everything
    ledger.append(make_batch(3))
    published = ledger.publish_head()
    assert published is not None
    assert published.tree_size == 2520


def test_a_batch_larger_than_the_head_interval_gets_heads_inside_it(sqlite_engine: Engine) -> None:
    ledger = make_ledger(sqlite_engine, head_every=100)
    ledger.append(make_batch(350))
    with sqlite_engine.connect() as conn:
        # the head at 300 was signed just now, so the 1-second rule waits for more activity
        assert [h.tree_size for h in load_heads(conn)] == [100, 200, 300]
    assert verify_ledger(sqlite_engine, SIGNER.public_key).ok


def test_subtree_cache_holds_every_complete_block(sqlite_engine: Engine) -> None:
    ledger = make_ledger(sqlite_engine)
    for _ in range(5):
        ledger.append(make_batch(500))
    leaves = [d.leaf_hash() for d in iter_disclosures(sqlite_engine)]
    with sqlite_engine.connect() as conn:
        rows = conn.exec_driver_sql('SELECT "index", hash FROM ledger_subtrees ORDER BY 1').all()
    assert [(i, bytes(h)) for i, h in rows] == [
        (0, root(leaves[0:1024])),
        (1, root(leaves[1024:2048])),
    ]


def test_concurrent_threads_produce_one_gap_free_verified_sequence(engine: Engine) -> None:
    errors: list[BaseException] = []
    threads = [threading.Thread(target=append_many, args=(engine, w, 15, errors)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    records = list(iter_disclosures(engine))
    assert [r.seq for r in records] == list(range(6 * 15 * 50))
    # each batch is contiguous: no interleaving inside one response
    by_request: dict[str, list[int]] = {}
    for r in records:
        by_request.setdefault(r.request_id, []).append(r.seq)
    assert all(seqs == list(range(seqs[0], seqs[0] + 50)) for seqs in by_request.values())
    report = verify_ledger(engine, SIGNER.public_key)
    assert report.ok, report.error


def test_concurrent_processes_produce_one_gap_free_verified_sequence(store_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=process_worker, args=(store_url, w)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    engine = create_store_engine(store_url)
    try:
        assert [r.seq for r in iter_disclosures(engine)] == list(range(4 * 10 * 50))
        report = verify_ledger(engine, SIGNER.public_key)
        assert report.ok, report.error
    finally:
        engine.dispose()


def test_a_ledger_on_another_synchronous_level_leaves_the_pooled_connection_as_it_was(
    sqlite_engine: Engine,
) -> None:
    ledger = make_ledger(sqlite_engine)
    relaxed = SqlDisclosureLedger(sqlite_engine, SIGNER, ManualClock(), sqlite_synchronous="NORMAL")
    relaxed.append(make_batch(20))
    ledger.append(make_batch(5))
    with sqlite_engine.connect() as conn:
        # 2 = FULL, as create_store_engine sets every connection
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == 2
    assert tree_size(sqlite_engine) == 25
    assert verify_ledger(sqlite_engine, SIGNER.public_key).ok
    with pytest.raises(ValueError, match="FULL or NORMAL"):
        SqlDisclosureLedger(sqlite_engine, SIGNER, ManualClock(), sqlite_synchronous="OFF")  # type: ignore[arg-type]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(-(2**63), 2**63 - 1),
            st.sampled_from(["id", "name", "birthday", "é"]),
            st.text(min_size=1, max_size=12).filter(lambda t: "\x00" not in t),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_columns_and_items_are_the_same_batch(
    sqlite_url: str, rows: list[tuple[int, str, str]]
) -> None:
    """A batch handed over as columns is recorded exactly as the same items one by one."""
    columns = DisclosureColumns(*(list(c) for c in zip(*rows, strict=True)))
    assert list(columns) == [DisclosureItem(*r) for r in rows]
    assert list(columns[1:]) == [DisclosureItem(*r) for r in rows[1:]]
    written = []
    for items in (columns, [DisclosureItem(*r) for r in rows]):
        engine = create_store_engine(sqlite_url)
        try:
            with engine.begin() as conn:
                for table in ("disclosures", "disclosure_batches", "signed_tree_heads"):
                    conn.exec_driver_sql(f"DELETE FROM {table}")
                conn.exec_driver_sql(
                    "UPDATE ledger_state SET next_seq = 0, next_batch_id = 1, tree_size = 0, "
                    "frontier = x'', last_head_size = 0, last_head_at_us = 0"
                )
            make_ledger(engine).append(replace(make_batch(0), items=items))
            with engine.connect() as conn:
                written.append(
                    (
                        conn.exec_driver_sql("SELECT * FROM disclosures ORDER BY seq").all(),
                        conn.exec_driver_sql("SELECT leaf_hashes FROM disclosure_batches").all(),
                    )
                )
        finally:
            engine.dispose()
    assert written[0] == written[1]
    with pytest.raises(ValueError, match="one entry per item"):
        DisclosureColumns([1], ["id"], [])
