"""Verify the whole ledger with the public key alone, naming the first bad record or head.

One streaming pass in seq order, in constant memory: each record's leaf is recomputed from
its columns and its batch's columns (the stored leaf hash is compared, never trusted), the
leaf is pushed onto a :class:`~graphwarden.ledger.merkle.MerkleFrontier`, and as the stream
passes the size of each signed tree head the recomputed root must equal the signed one.

What is caught, and how it is named:

* an edited record (any column), or an edited batch → the record's seq (its leaf no longer
  matches the leaf hash written with it); if the leaf hash was rewritten too, the first
  signed head past it (its root no longer matches);
* a deleted record → the missing seq; an inserted one → the first seq that moved, or the seq
  past the end of the signed tree; rows swapped → the smaller seq;
* a forged head (bad signature, foreign key) → that head; a head that goes back in time or a
  deleted newest head → that head (the state row records the newest head's size);
* ``trusted`` heads (kept by a monitor from an earlier run): a log shorter than one, or with
  a different root at its size, is a rollback or a fork, named by that head.

Records newer than the newest signed head are checked against the state row only; a head is
signed at least every second of activity and every 10,000 records.

The stream itself is :func:`graphwarden.ledger.recompute.recompute`. A long log is checked by
several processes (:mod:`graphwarden.ledger.parallel`) when the caller does not hold the
connection; whatever they find, the one-pass verifier runs again to name it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from graphwarden.core.errors import StoreError, VerificationError
from graphwarden.ledger import parallel
from graphwarden.ledger.merkle import MerkleFrontier
from graphwarden.ledger.pending import check_pending
from graphwarden.ledger.recompute import CHUNK, LeafSink, recompute
from graphwarden.ledger.service import HEAD_EVERY
from graphwarden.ledger.signing import SignedTreeHead, verify_head

#: a log this long is verified by several processes (when ``workers`` is not given)
PARALLEL_MIN_RECORDS = 1_000_000


@dataclass(slots=True)
class VerifyReport:
    """What ``verify`` saw; ``error`` is the first problem, or ``None`` when all is well."""

    records: int = 0
    #: records written after the tree's size, waiting for the integrator (checked for gaps
    #: only: no leaf hash or head covers them yet)
    pending: int = 0
    batches: int = 0
    heads: int = 0
    latest_head_size: int = 0
    seconds: float = 0.0
    error: VerificationError | None = None
    root_hash: bytes = b""
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "records": self.records,
            "batches": self.batches,
            "signed_tree_heads": self.heads,
            "latest_head_size": self.latest_head_size,
            "unsigned_records": max(0, self.records - self.latest_head_size),
            "pending_records": self.pending,
            "root_hash": self.root_hash.hex(),
            "seconds": round(self.seconds, 3),
            "error": None if self.error is None else str(self.error),
            "bad_seq": None if self.error is None else self.error.seq,
            "bad_head": None if self.error is None else self.error.head,
            "notes": self.notes,
        }


@dataclass(frozen=True, slots=True)
class _Options:
    trusted: Sequence[SignedTreeHead]
    max_head_gap: int | None
    chunk_size: int
    block_level: int | None


def verify_ledger(
    engine: Engine,
    public_key: Ed25519PublicKey,
    *,
    trusted: Sequence[SignedTreeHead] = (),
    max_head_gap: int | None = HEAD_EVERY,
    chunk_size: int = CHUNK,
    workers: int | None = None,
    block_level: int | None = None,
) -> VerifyReport:
    """Recompute every leaf and every signed head; report the first bad item.

    ``max_head_gap`` is the most records the ledger lets pass between two heads (its
    ``head_every``): a wider gap means a head was deleted. ``None`` skips that check.

    ``workers`` is how many processes recompute the log. By default a log of at least
    ``PARALLEL_MIN_RECORDS`` records in a file or server database gets one per CPU (at most
    4), each checking a range of whole blocks of ``2**block_level`` leaves (by default
    :func:`graphwarden.ledger.parallel.block_level`); a smaller log,
    or ``workers=1``, is checked in one pass. Either way the report is the same: if the
    parallel pass finds anything wrong, one sequential pass names the first bad item.
    """
    options = _Options(trusted, max_head_gap, chunk_size, block_level)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                # one snapshot for all the streams, so a concurrent append cannot tear the view
                conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            count = _worker_count(engine, workers)
            if count > 1:
                report = _verify_parallel(
                    engine, conn, public_key, options, count, forced=workers is not None
                )
                if report is not None:
                    return report
            return verify_connection(
                conn, public_key, trusted=trusted, max_head_gap=max_head_gap, chunk_size=chunk_size
            )
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read the ledger: {exc.__class__.__name__}") from exc


def _worker_count(engine: Engine, workers: int | None) -> int:
    if workers is not None:
        return max(1, workers)
    database = engine.url.database
    if engine.dialect.name == "sqlite" and (not database or database == ":memory:"):
        return 1  # another process cannot see this database
    return min(os.cpu_count() or 1, 4)


def verify_connection(
    conn: Connection,
    public_key: Ed25519PublicKey,
    *,
    trusted: Sequence[SignedTreeHead] = (),
    max_head_gap: int | None = HEAD_EVERY,
    chunk_size: int = CHUNK,
) -> VerifyReport:
    """:func:`verify_ledger` on an open connection (inside the caller's transaction)."""
    started = time.perf_counter()
    report = VerifyReport()
    try:
        _verify(conn, public_key, trusted, max_head_gap, chunk_size, report)
    except VerificationError as exc:
        report.error = exc
    report.seconds = time.perf_counter() - started
    return report


_State = tuple[int, bytes, int, int]  # tree_size, frontier, last_head_size, next_seq
_Check = tuple[int, SignedTreeHead, str]


def _verify(
    conn: Connection,
    public_key: Ed25519PublicKey,
    trusted: Sequence[SignedTreeHead],
    max_head_gap: int | None,
    chunk_size: int,
    report: VerifyReport,
) -> None:
    state, checks = _preamble(conn, public_key, trusted, max_head_gap, report)
    by_size: dict[int, list[_Check]] = {}
    for check in checks:
        by_size.setdefault(check[0], []).append(check)

    def reached(size: int, frontier: MerkleFrontier) -> None:
        root = frontier.root()
        for check in by_size[size]:
            _check_root(root, check)

    sink = LeafSink(sorted(by_size), reached)
    driver = conn.connection.driver_connection
    # records after the tree's size wait for the integrator: the tree stops where it does
    end = state[0] if state[3] != state[0] else None
    report.batches = recompute(driver, conn.dialect.name == "postgresql", sink, chunk_size, hi=end)
    _finish(state, checks, sink.frontier, report)
    _finish_pending(conn, state, report)


def _preamble(
    conn: Connection,
    public_key: Ed25519PublicKey,
    trusted: Sequence[SignedTreeHead],
    max_head_gap: int | None,
    report: VerifyReport,
) -> tuple[_State, list[_Check]]:
    """Read the state row and the heads, check every signature and the gaps between heads;
    return the state and the checkpoints (every stored and trusted head, in size order)."""
    row = conn.execute(
        text("SELECT tree_size, frontier, last_head_size, next_seq FROM ledger_state WHERE id = 1")
    ).first()
    if row is None:
        raise VerificationError("the ledger state row is missing")
    state = (int(row[0]), bytes(row[1]), int(row[2]), int(row[3]))
    heads = [
        SignedTreeHead(int(r[0]), bytes(r[1]), int(r[2]), bytes(r[3]), str(r[4]))
        for r in conn.execute(
            text(
                "SELECT tree_size, root_hash, timestamp_us, signature, key_id "
                "FROM signed_tree_heads ORDER BY tree_size"
            )
        )
    ]
    report.heads = len(heads)
    previous: SignedTreeHead | None = None
    for head in heads:
        verify_head(head, public_key)
        gap = head.tree_size - (0 if previous is None else previous.tree_size)
        if max_head_gap is not None and gap > max_head_gap:
            raise VerificationError(
                f"{gap} records precede the tree head of size {head.tree_size} without a head, "
                f"more than the {max_head_gap} allowed (a head was deleted)",
                head=head.tree_size,
            )
        if previous is not None and head.timestamp_us < previous.timestamp_us:
            raise VerificationError(
                f"tree head of size {head.tree_size} is older than the head of size "
                f"{previous.tree_size} (rolled back)",
                head=head.tree_size,
            )
        previous = head
    report.latest_head_size = heads[-1].tree_size if heads else 0
    if state[2] != report.latest_head_size:
        raise VerificationError(
            f"the newest signed head should be of size {state[2]}, the newest stored is "
            f"of size {report.latest_head_size} (a head was deleted or added)",
            head=max(state[2], report.latest_head_size),
        )
    for witness in trusted:
        verify_head(witness, public_key)
    checks = sorted(
        [(h.tree_size, h, "signed") for h in heads]
        + [(h.tree_size, h, "trusted") for h in trusted],
        key=lambda c: c[0],
    )
    return state, checks


def _finish(
    state: _State, checks: list[_Check], frontier: MerkleFrontier, report: VerifyReport
) -> None:
    """The checks after the stream: heads past the end, the state row's size and edge."""
    size = frontier.size
    report.records = size
    report.root_hash = frontier.root()
    for tree_size, _head, kind in checks:
        if tree_size > size:
            raise VerificationError(
                f"the {kind} tree head of size {tree_size} covers records from seq {size} on, "
                "which are missing (the log was truncated or rolled back)",
                seq=size,
                head=tree_size,
            )
    stored_size = state[0]
    if stored_size != size:
        what = "inserted" if size > stored_size else "deleted"
        first = min(size, stored_size)
        raise VerificationError(
            f"the ledger holds {size} records but its state says {stored_size}: "
            f"records from seq {first} were {what}",
            seq=first,
        )
    if state[1] != frontier.to_bytes():
        raise VerificationError(
            f"records after the newest signed head (from seq {report.latest_head_size}) do not "
            "match the tree's stored right edge",
            seq=report.latest_head_size,
        )
    if size > report.latest_head_size:
        report.notes.append(
            f"{size - report.latest_head_size} records are newer than the newest signed head"
        )


def _finish_pending(conn: Connection, state: _State, report: VerifyReport) -> None:
    if state[3] == state[0]:
        return
    report.pending = check_pending(conn, state[0], state[3])
    report.notes.append(
        f"{report.pending} records are written but not yet integrated into the tree "
        "(the integrator hashes and signs them within about a second)"
    )


def _verify_parallel(
    engine: Engine,
    conn: Connection,
    public_key: Ed25519PublicKey,
    options: _Options,
    workers: int,
    forced: bool,
) -> VerifyReport | None:
    """The log checked by ``workers`` processes (:mod:`graphwarden.ledger.parallel`), or
    ``None`` when the sequential pass must decide: the log is small, or anything at all
    was wrong (the sequential pass then names the first bad item in log order)."""
    started = time.perf_counter()
    report = VerifyReport()
    try:
        state, checks = _preamble(conn, public_key, options.trusted, options.max_head_gap, report)
    except VerificationError:
        return None
    if not forced and state[0] < PARALLEL_MIN_RECORDS:
        return None
    snapshot = None
    if conn.dialect.name == "postgresql":
        # the workers read the very snapshot this transaction reads
        snapshot = str(conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one())
    sizes = sorted({c[0] for c in checks})
    try:
        combined = parallel.run(
            engine.url.render_as_string(hide_password=False),
            state[0],
            sizes,
            workers,
            level=options.block_level,
            chunk_size=options.chunk_size,
            snapshot=snapshot,
            end=state[0] if state[3] != state[0] else None,
        )
    except (OSError, RuntimeError, SQLAlchemyError, BrokenProcessPool) as exc:
        report.notes.append(f"parallel verification unavailable ({exc.__class__.__name__})")
        return None
    if combined is None:
        return None
    for size, head, _kind in checks:
        if size <= combined.size and combined.roots[size] != head.root_hash:
            return None
    report.batches = combined.batches
    try:
        _finish(state, checks, combined.frontier, report)
        _finish_pending(conn, state, report)
    except VerificationError:
        return None
    report.notes.append(f"verified by {workers} processes")
    report.seconds = time.perf_counter() - started
    return report


def _check_root(root: bytes, check: tuple[int, SignedTreeHead, str]) -> None:
    tree_size, head, kind = check
    if root != head.root_hash:
        raise VerificationError(
            f"the {kind} tree head of size {tree_size} does not match the records before it "
            "(a record and its stored leaf hash were both rewritten, or the log forked)",
            head=tree_size,
        )


__all__ = ["VerifyReport", "verify_connection", "verify_ledger"]
