"""Deferred integration: appends only write; the integrator builds the same tree an inline
ledger would, signs heads, never integrates what was changed, and verify sees the pending
tail for what it is."""

from __future__ import annotations

import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from tests.ledger_faults import install_write_failure, remove_write_failure
from tests.unit.ledger.builders import SIGNER, make_batch, make_ledger

from graphwarden.core.clock import ManualClock
from graphwarden.core.errors import LedgerWriteError
from graphwarden.ledger.integrator import Integrator
from graphwarden.ledger.queries import latest_head, load_heads, tree_size_of
from graphwarden.ledger.service import SqlDisclosureLedger
from graphwarden.ledger.signing import SignedTreeHead
from graphwarden.ledger.verify import verify_ledger


def deferred(engine: Engine, clock: ManualClock | None = None) -> SqlDisclosureLedger:
    """A ledger as an API worker holds it: no signing key, appends only write."""
    return SqlDisclosureLedger(engine, None, clock or ManualClock(), integration="deferred")


def integrating(engine: Engine, clock: ManualClock | None = None) -> SqlDisclosureLedger:
    """A ledger as the integrator holds it."""
    return SqlDisclosureLedger(engine, SIGNER, clock or ManualClock(), integration="deferred")


def _state(engine: Engine) -> tuple[int, int, bytes]:
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT next_seq, tree_size, frontier FROM ledger_state WHERE id = 1")
        ).one()
    return int(row[0]), int(row[1]), bytes(row[2])


def _blobs(engine: Engine) -> list[bytes]:
    with engine.connect() as conn:
        return [
            bytes(r[0])
            for r in conn.execute(
                text("SELECT leaf_hashes FROM disclosure_batches ORDER BY first_seq")
            )
        ]


def _heads(engine: Engine) -> list[SignedTreeHead]:
    with engine.connect() as conn:
        return load_heads(conn)


def _reset(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in ("disclosures", "disclosure_batches", "signed_tree_heads", "ledger_subtrees"):
            conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(
            text(
                "UPDATE ledger_state SET next_seq = 0, next_batch_id = 1, tree_size = 0, "
                "frontier = :f, last_head_size = 0, last_head_at_us = 0"
            ),
            {"f": b""},
        )


def test_a_deferred_append_writes_records_and_leaves_the_tree(engine: Engine) -> None:
    receipt = deferred(engine).append(make_batch(500, request_id="r-1"))
    assert (receipt.first_seq, receipt.count, receipt.tree_size) == (0, 500, 0)
    assert _state(engine)[:2] == (500, 0)
    assert _blobs(engine) == [b""]
    report = verify_ledger(engine, SIGNER.public_key)
    assert report.ok, report.error
    assert (report.records, report.pending) == (0, 500)
    assert any("not yet integrated" in note for note in report.notes)

    assert integrating(engine).integrate() == 500
    assert _state(engine)[:2] == (500, 500)
    assert len(_blobs(engine)[0]) == 500 * 32
    report = verify_ledger(engine, SIGNER.public_key)
    assert report.ok
    assert (report.records, report.pending) == (500, 0)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    sizes=st.lists(st.integers(1, 700), min_size=1, max_size=8),
    cuts=st.lists(st.booleans(), min_size=8, max_size=8),
)
def test_deferred_then_integrated_is_the_tree_an_inline_ledger_builds(
    engine: Engine, sizes: list[int], cuts: list[bool]
) -> None:
    """Whenever the integrator passes, the stored leaves, the tree's edge and every head root
    are the ones inline appends of the same batches produce."""
    results = []
    for mode in ("inline", "deferred"):
        _reset(engine)
        clock = ManualClock()
        writer = make_ledger(engine, clock, head_every=1000) if mode == "inline" else None
        worker = deferred(engine, clock)
        integrator = SqlDisclosureLedger(
            engine, SIGNER, clock, integration="deferred", head_every=1000
        )
        for i, size in enumerate(sizes):
            batch = make_batch(size, request_id=f"r-{i}", first_subject=10 * i)
            (writer or worker).append(batch)
            if writer is None and cuts[i]:
                integrator.integrate(limit=400)
        if writer is None:
            integrator.publish_head()
        else:
            writer.publish_head()
        heads = {h.tree_size: h.root_hash for h in _heads(engine)}
        results.append((_blobs(engine), _state(engine), heads))
        assert verify_ledger(engine, SIGNER.public_key).ok
    (inline_blobs, inline_state, inline_heads), (blobs, state, heads) = results
    assert blobs == inline_blobs
    assert state == inline_state
    # heads fall at the same 1,000-record marks; shared sizes have the same root
    for size in set(heads) & set(inline_heads):
        assert heads[size] == inline_heads[size]
    assert max(heads) == max(inline_heads) == sum(sizes)


def test_an_inline_append_integrates_what_deferred_writers_left(engine: Engine) -> None:
    deferred(engine).append(make_batch(30, request_id="a"))
    deferred(engine).append(make_batch(20, request_id="b"))
    receipt = make_ledger(engine).append(make_batch(10, request_id="c"))
    assert (receipt.first_seq, receipt.tree_size) == (50, 60)
    assert [len(b) for b in _blobs(engine)] == [30 * 32, 20 * 32, 10 * 32]
    assert verify_ledger(engine, SIGNER.public_key).ok


def test_workers_need_no_key_but_integrating_does(engine: Engine) -> None:
    ledger = deferred(engine)
    ledger.append(make_batch(5))
    with pytest.raises(LedgerWriteError, match="signing key"):
        ledger.integrate()
    with pytest.raises(LedgerWriteError, match="signing key"):
        ledger.publish_head()
    with pytest.raises(ValueError, match="needs a signer"):
        SqlDisclosureLedger(engine, None, ManualClock())
    with pytest.raises(LedgerWriteError, match="64-bit"):
        ledger.append(make_batch(1, first_subject=2**63))
    assert _state(engine)[:2] == (5, 0)


def test_a_failed_deferred_append_writes_nothing(engine: Engine) -> None:
    ledger = deferred(engine)
    ledger.append(make_batch(3))
    install_write_failure(engine)
    try:
        with pytest.raises(LedgerWriteError):
            ledger.append(make_batch(500))
    finally:
        remove_write_failure(engine)
    assert _state(engine)[:2] == (3, 0)
    assert integrating(engine).integrate() == 3


def test_changed_pending_records_are_never_integrated_and_verify_names_them(
    engine: Engine,
) -> None:
    ledger = deferred(engine)
    for i in range(3):
        ledger.append(make_batch(10, request_id=f"r-{i}"))
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM disclosures WHERE seq = 14"))
    before = _state(engine)
    with pytest.raises(LedgerWriteError, match="ledger verify"):
        integrating(engine).integrate()
    assert _state(engine) == before
    assert _blobs(engine) == [b"", b"", b""]
    report = verify_ledger(engine, SIGNER.public_key)
    assert not report.ok
    assert report.error is not None
    assert report.error.seq == 14


def test_a_rolled_back_tree_size_is_found(engine: Engine) -> None:
    ledger = deferred(engine)
    ledger.append(make_batch(10))
    integrating(engine).publish_head()
    ledger.append(make_batch(10, request_id="later"))
    with engine.begin() as conn:  # pretend the first batch was never integrated
        conn.execute(text("UPDATE ledger_state SET tree_size = 0, frontier = :f"), {"f": b""})
    report = verify_ledger(engine, SIGNER.public_key)
    assert not report.ok


def test_the_integrator_signs_heads_while_traffic_runs_and_after_it_stops(
    engine: Engine,
) -> None:
    clock = ManualClock()
    worker = deferred(engine, clock)
    integrator = Integrator(integrating(engine, clock), interval_s=0.02)
    stop = threading.Event()
    thread = threading.Thread(target=integrator.run, args=(stop,))
    thread.start()
    try:
        for i in range(40):
            worker.append(make_batch(100, request_id=f"r-{i}"))
            clock.advance(milliseconds=100)
            if i in (19, 39):  # mid-traffic, and after the traffic stops
                _wait_for_head(engine, 100 * (i + 1))
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert tree_size_of(engine) == (4000, 4000)
    heads = _heads(engine)
    assert heads[-1].tree_size == 4000
    assert heads[0].tree_size <= 2000  # signed while the traffic ran
    assert integrator.stats.records == 4000
    assert integrator.stats.failures == 0
    assert verify_ledger(engine, SIGNER.public_key).ok


def _wait_for_head(engine: Engine, size: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        head = latest_head(engine)
        if head is not None and head.tree_size >= size:
            return
        time.sleep(0.01)
    raise AssertionError(f"no head of {size} records within 20 s")


def test_two_integrators_at_once_build_one_tree(engine: Engine) -> None:
    worker = deferred(engine)
    for i in range(30):
        worker.append(make_batch(37, request_id=f"r-{i}"))
    errors: list[BaseException] = []

    def run() -> None:
        try:
            ledger = integrating(engine)
            while ledger.integrate(limit=100):
                pass
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    integrating(engine).publish_head()
    assert tree_size_of(engine) == (30 * 37, 30 * 37)
    assert verify_ledger(engine, SIGNER.public_key).ok


def test_an_integrator_is_only_for_a_deferred_ledger_with_a_key(engine: Engine) -> None:
    with pytest.raises(ValueError, match="deferred"):
        Integrator(make_ledger(engine))
    with pytest.raises(ValueError, match="signing key"):
        Integrator(deferred(engine))
    with pytest.raises(ValueError, match="positive"):
        Integrator(integrating(engine), interval_s=0)
