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
"""

from __future__ import annotations

import contextlib
import struct
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from graphwarden.core.errors import StoreError, VerificationError
from graphwarden.ledger.merkle import MerkleFrontier
from graphwarden.ledger.records import batch_part, item_part, leaf_hashes
from graphwarden.ledger.service import HEAD_EVERY
from graphwarden.ledger.signing import SignedTreeHead, verify_head

CHUNK = 20_000  # records per fetch: ~2 MB of rows, a few hundred µs of Python per chunk
# struct packing is about twice as fast as int.to_bytes in the per-record loop
pack_u64 = struct.Struct(">Q").pack
pack_i64 = struct.Struct(">q").pack


@dataclass(slots=True)
class VerifyReport:
    """What ``verify`` saw; ``error`` is the first problem, or ``None`` when all is well."""

    records: int = 0
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
            "root_hash": self.root_hash.hex(),
            "seconds": round(self.seconds, 3),
            "error": None if self.error is None else str(self.error),
            "bad_seq": None if self.error is None else self.error.seq,
            "bad_head": None if self.error is None else self.error.head,
            "notes": self.notes,
        }


def verify_ledger(
    engine: Engine,
    public_key: Ed25519PublicKey,
    *,
    trusted: Sequence[SignedTreeHead] = (),
    max_head_gap: int | None = HEAD_EVERY,
    chunk_size: int = CHUNK,
) -> VerifyReport:
    """Recompute every leaf and every signed head; report the first bad item.

    ``max_head_gap`` is the most records the ledger lets pass between two heads (its
    ``head_every``): a wider gap means a head was deleted. ``None`` skips that check.
    """
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                # one snapshot for all the streams, so a concurrent append cannot tear the view
                conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            return verify_connection(
                conn, public_key, trusted=trusted, max_head_gap=max_head_gap, chunk_size=chunk_size
            )
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read the ledger: {exc.__class__.__name__}") from exc


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


def _verify(
    conn: Connection,
    public_key: Ed25519PublicKey,
    trusted: Sequence[SignedTreeHead],
    max_head_gap: int | None,
    chunk_size: int,
    report: VerifyReport,
) -> None:
    state = conn.execute(
        text("SELECT next_seq, frontier, last_head_size FROM ledger_state WHERE id = 1")
    ).first()
    if state is None:
        raise VerificationError("the ledger state row is missing")
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
    if int(state[2]) != report.latest_head_size:
        raise VerificationError(
            f"the newest signed head should be of size {int(state[2])}, the newest stored is "
            f"of size {report.latest_head_size} (a head was deleted or added)",
            head=max(int(state[2]), report.latest_head_size),
        )
    for witness in trusted:
        verify_head(witness, public_key)
    # checkpoints: every stored head and every trusted head, in size order
    checks = sorted(
        [(h.tree_size, h, "signed") for h in heads]
        + [(h.tree_size, h, "trusted") for h in trusted],
        key=lambda c: c[0],
    )
    frontier = MerkleFrontier()
    _stream(conn, frontier, checks, chunk_size, report)

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
    stored_size = int(state[0])
    if stored_size != size:
        what = "inserted" if size > stored_size else "deleted"
        first = min(size, stored_size)
        raise VerificationError(
            f"the ledger holds {size} records but its state says {stored_size}: "
            f"records from seq {first} were {what}",
            seq=first,
        )
    if bytes(state[1]) != frontier.to_bytes():
        raise VerificationError(
            f"records after the newest signed head (from seq {report.latest_head_size}) do not "
            "match the tree's stored right edge",
            seq=report.latest_head_size,
        )
    if size > report.latest_head_size:
        report.notes.append(
            f"{size - report.latest_head_size} records are newer than the newest signed head"
        )


class _Checkpoints:
    """The signed and trusted heads, in size order, as the stream reaches them."""

    __slots__ = ("_checks", "_index", "next_size")

    def __init__(self, checks: list[tuple[int, SignedTreeHead, str]]) -> None:
        self._checks = checks
        self._index = 0
        self.next_size = checks[0][0] if checks else -1

    def check(self, frontier: MerkleFrontier) -> None:
        """Check every head of exactly ``frontier.size`` records against its root."""
        checks = self._checks
        while self._index < len(checks) and checks[self._index][0] == frontier.size:
            _check_root(frontier, checks[self._index])
            self._index += 1
        self.next_size = checks[self._index][0] if self._index < len(checks) else -1

    def extend(self, frontier: MerkleFrontier, leaves: list[bytes]) -> None:
        """Push ``leaves``, checking each head whose size the stream passes on the way."""
        done = 0
        while (
            self.next_size >= 0
            and frontier.size <= self.next_size <= frontier.size + len(leaves) - done
        ):
            take = self.next_size - frontier.size
            frontier.extend(leaves[done : done + take])
            done += take
            self.check(frontier)
        frontier.extend(leaves[done:] if done else leaves)


class _Batch:
    """The batch the stream is in: its id, its records' end and its shared encoding."""

    __slots__ = ("count", "end", "id", "shared")

    def __init__(self) -> None:
        self.id = -1
        self.end = 0
        self.count = 0
        self.shared = b""


def _stream(
    conn: Connection,
    frontier: MerkleFrontier,
    checks: list[tuple[int, SignedTreeHead, str]],
    chunk_size: int,
    report: VerifyReport,
) -> None:
    """Recompute every leaf from the stored columns, in seq order, checking as it goes.

    Works a chunk of records at a time: the columns are transposed once, each batch's slice
    of the chunk is hashed with C-level ``map`` calls (:func:`leaf_hashes`) and compared with
    the stored leaf hashes as one list comparison. Only a slice where something is wrong is
    walked record by record (:func:`_first_bad_record`), to name the first bad record exactly.
    """
    driver = conn.connection.driver_connection
    assert driver is not None  # an open SQLAlchemy connection always has one
    postgres = conn.dialect.name == "postgresql"
    batch_cur = _cursor(driver, postgres, "gw_verify_batches", chunk_size)
    batch_cur.execute(
        "SELECT id, first_seq, count, at_us, request_id, app_id, api_version, owner_id "
        "FROM disclosure_batches ORDER BY first_seq"
    )
    batch_rows = _rows(batch_cur, chunk_size)
    record_cur = _cursor(driver, postgres, "gw_verify_records", chunk_size)
    record_cur.execute(
        "SELECT seq, batch_id, subject_id, field, rule_id, leaf_hash FROM disclosures ORDER BY seq"
    )
    heads = _Checkpoints(checks)
    heads.check(frontier)  # heads of the empty tree
    parts: dict[tuple[Any, Any], bytes] = {}
    batch = _Batch()
    n_batches = 0
    expected = 0
    try:
        while True:
            rows = record_cur.fetchmany(chunk_size)
            if not rows:
                break
            seqs, batch_ids, subjects, fields, rules, stored = zip(*rows, strict=True)
            n = len(rows)
            gap: VerificationError | None = None
            # seq is the primary key and the rows come in seq order, so the chunk is gap-free
            # exactly when it starts and ends where it should
            if seqs[0] != expected or seqs[-1] != expected + n - 1:
                n = next((i for i, s in enumerate(seqs) if s != expected + i), n)
                gap = VerificationError(
                    f"record {expected + n} is missing (the next stored record is {seqs[n]})",
                    seq=expected + n,
                )
            keys = list(zip(fields, rules, strict=True))
            if len(parts) > 100_000:  # bounded: (field, rule) pairs are few in practice
                parts.clear()
            for key in set(keys).difference(parts):
                # a malformed value stays out: the slice holding it is walked and named
                with contextlib.suppress(TypeError, AttributeError, ValueError, OverflowError):
                    parts[key] = item_part(*key)
            pos = 0
            while pos < n:
                seq = expected + pos
                while seq >= batch.end:
                    n_batches += 1
                    _next_batch(batch, next(batch_rows, None), seq)
                end = min(n, batch.end - expected)
                if heads.next_size > seq:
                    # a head is checked before any record after it is looked at, so the first
                    # bad item is named in log order
                    end = min(end, heads.next_size - expected)
                leaves = _slice_leaves(batch, seq, subjects, keys, parts, pos, end)
                if (
                    leaves is None
                    or batch_ids[pos:end].count(batch.id) != end - pos
                    or leaves != list(stored[pos:end])
                ):
                    _first_bad_record(batch, rows[pos:end])
                    raise AssertionError("a slice that failed its check passed record by record")
                heads.extend(frontier, leaves)
                pos = end
            expected += n
            if gap is not None:
                raise gap  # after the records before the gap, which come first
        extra = next(batch_rows, None) if expected >= batch.end else None
    finally:
        record_cur.close()
        batch_cur.close()
    if expected < batch.end:
        raise VerificationError(
            f"record {expected} is missing (its batch {batch.id} runs to {batch.end - 1})",
            seq=expected,
        )
    if extra is not None:
        raise VerificationError(
            f"batch {extra[0]} claims records from seq {extra[1]} that do not exist",
            seq=int(extra[1]),
        )
    report.batches = n_batches


def _cursor(driver: Any, postgres: bool, name: str, chunk_size: int) -> Any:
    """A driver cursor that streams: server-side (named) on PostgreSQL, where a plain cursor
    would load the whole table into memory; SQLite cursors step lazily anyway."""
    if postgres:
        cur = driver.cursor(name=name)
        cur.itersize = chunk_size
        return cur
    return driver.cursor()


def _rows(cur: Any, chunk_size: int) -> Iterator[tuple[Any, ...]]:
    while rows := cur.fetchmany(chunk_size):
        yield from rows


def _next_batch(batch: _Batch, row: tuple[Any, ...] | None, seq: int) -> None:
    """Move ``batch`` to the next stored batch, which must start where the last one ended."""
    if row is None:
        raise VerificationError(f"record {seq} belongs to no batch", seq=seq)
    b_id, first_seq, count, at_us, request_id, app_id, version, owner = row
    if first_seq != batch.end or count < 1:
        raise VerificationError(
            f"batch {b_id} claims records {first_seq}..{first_seq + count - 1} "
            f"but the previous batch ended before {batch.end}",
            seq=min(first_seq, batch.end),
        )
    try:
        shared = batch_part(at_us, request_id, app_id, version, owner)
    except (TypeError, AttributeError, ValueError, OverflowError) as exc:
        raise VerificationError(
            f"record {first_seq} holds a malformed value in its batch: {exc}", seq=first_seq
        ) from None
    batch.id = b_id
    batch.end = first_seq + count
    batch.count = count
    batch.shared = shared


def _slice_leaves(
    batch: _Batch,
    first_seq: int,
    subjects: Sequence[Any],
    keys: list[tuple[Any, Any]],
    parts: dict[tuple[Any, Any], bytes],
    lo: int,
    hi: int,
) -> list[bytes] | None:
    """The recomputed leaves of ``[lo, hi)`` of the chunk, or ``None`` if a value there
    cannot be encoded."""
    try:
        items = map(parts.__getitem__, keys[lo:hi])
        return leaf_hashes(first_seq, batch.shared, subjects[lo:hi], items)
    except (KeyError, struct.error, TypeError, OverflowError):
        return None


def _first_bad_record(batch: _Batch, rows: Sequence[tuple[Any, ...]]) -> None:
    """Walk the records of one batch's slice one by one and raise for the first bad one."""
    for seq, rec_batch, subject, field_, rule, stored in rows:
        if rec_batch != batch.id:
            raise VerificationError(
                f"record {seq} names batch {rec_batch} but lies in batch {batch.id}", seq=seq
            )
        try:
            leaf = sha256(
                b"\x00\x01"
                + pack_u64(seq)
                + batch.shared
                + pack_i64(subject)
                + item_part(field_, rule)
            ).digest()
        except (struct.error, TypeError, AttributeError, ValueError, OverflowError) as exc:
            # a column rewritten to a value of the wrong type (SQLite stores what it is given)
            raise VerificationError(
                f"record {seq} holds a malformed value: {exc}", seq=seq
            ) from None
        if leaf != stored:
            raise VerificationError(
                f"record {seq} was altered: its columns no longer hash to its leaf", seq=seq
            )


def _check_root(frontier: MerkleFrontier, check: tuple[int, SignedTreeHead, str]) -> None:
    tree_size, head, kind = check
    if frontier.root() != head.root_hash:
        raise VerificationError(
            f"the {kind} tree head of size {tree_size} does not match the records before it "
            "(a record and its stored leaf hash were both rewritten, or the log forked)",
            head=tree_size,
        )


__all__ = ["VerifyReport", "verify_connection", "verify_ledger"]
