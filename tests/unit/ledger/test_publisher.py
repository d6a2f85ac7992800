"""The head publisher signs the newest records of an idle ledger, and survives failures."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Engine
from tests.ledger_faults import install_write_failure, remove_write_failure
from tests.unit.ledger.builders import SIGNER, make_batch, make_ledger

from graphwarden.core.clock import ManualClock
from graphwarden.core.errors import LedgerWriteError
from graphwarden.ledger.publisher import HeadPublisher
from graphwarden.ledger.queries import latest_head
from graphwarden.ledger.signing import SignedTreeHead
from graphwarden.ledger.verify import verify_ledger


def _wait_for_head(engine: Engine, size: int, timeout_s: float = 10.0) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        head = latest_head(engine)
        if head is not None and head.tree_size == size:
            return head.tree_size
        time.sleep(0.02)
    head = latest_head(engine)
    return -1 if head is None else head.tree_size


def test_the_timer_signs_records_that_no_later_append_would(sqlite_engine: Engine) -> None:
    clock = ManualClock()
    ledger = make_ledger(sqlite_engine, clock)
    ledger.append(make_batch(10))  # the first append signs a head (none was a second old)
    ledger.append(make_batch(7))  # the clock stands still: this one waits unsigned
    with HeadPublisher(ledger, interval_s=0.05) as publisher:
        assert publisher.running
        assert _wait_for_head(sqlite_engine, 17) == 17
    assert not publisher.running
    assert publisher.published == 1
    assert verify_ledger(sqlite_engine, SIGNER.public_key).ok


def test_stop_signs_a_last_head(sqlite_engine: Engine) -> None:
    ledger = make_ledger(sqlite_engine)
    publisher = HeadPublisher(ledger, interval_s=3600)
    publisher.start()
    ledger.append(make_batch(3))
    ledger.append(make_batch(4))
    publisher.stop()
    head = latest_head(sqlite_engine)
    assert head is not None
    assert head.tree_size == 7


def test_a_failed_publish_is_counted_and_retried(sqlite_engine: Engine) -> None:
    ledger = make_ledger(sqlite_engine)
    ledger.append(make_batch(3))
    ledger.append(make_batch(2))
    with sqlite_engine.begin() as conn:  # a real failure: heads cannot be inserted
        conn.exec_driver_sql(
            "CREATE TRIGGER gw_no_heads BEFORE INSERT ON signed_tree_heads "
            "BEGIN SELECT RAISE(ABORT, 'no heads today'); END"
        )
    publisher = HeadPublisher(ledger, interval_s=1.0)
    assert publisher.publish_once() is None
    assert publisher.failures == 1
    with sqlite_engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER gw_no_heads")
    head = publisher.publish_once()
    assert isinstance(head, SignedTreeHead)
    assert head.tree_size == 5


def test_appends_still_fail_closed_while_publishing(sqlite_engine: Engine) -> None:
    ledger = make_ledger(sqlite_engine)
    with HeadPublisher(ledger, interval_s=0.05):
        install_write_failure(sqlite_engine)
        try:
            with pytest.raises(LedgerWriteError):
                ledger.append(make_batch(5))
        finally:
            remove_write_failure(sqlite_engine)
        ledger.append(make_batch(2))
    assert verify_ledger(sqlite_engine, SIGNER.public_key).ok


def test_a_bad_interval_is_refused(sqlite_engine: Engine) -> None:
    with pytest.raises(ValueError, match="positive"):
        HeadPublisher(make_ledger(sqlite_engine), interval_s=0)
