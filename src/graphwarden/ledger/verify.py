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

import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from graphwarden.core.errors import StoreError, VerificationError
from graphwarden.ledger.merkle import MerkleFrontier
from graphwarden.ledger.records import LeafEncoder, batch_part
from graphwarden.ledger.service import HEAD_EVERY
from graphwarden.ledger.signing import SignedTreeHead, verify_head

CHUNK = 20_000
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


def _stream(
    conn: Connection,
    frontier: MerkleFrontier,
    checks: list[tuple[int, SignedTreeHead, str]],
    chunk_size: int,
    report: VerifyReport,
) -> None:
    encoder = LeafEncoder()
    item_part = encoder.item
    # per-statement options: ``Connection.execution_options`` would change the caller's
    # connection for good (and on PostgreSQL turn every later statement into a cursor)
    stream = {"stream_results": True, "yield_per": chunk_size}
    batches = conn.execute(
        text(
            "SELECT id, first_seq, count, at_us, request_id, app_id, api_version, owner_id "
            "FROM disclosure_batches ORDER BY first_seq"
        ),
        execution_options=stream,
    ).partitions()
    batch_rows = (row for part in batches for row in part)
    records = conn.execute(
        text(
            "SELECT seq, batch_id, subject_id, field, rule_id, leaf_hash "
            "FROM disclosures ORDER BY seq"
        ),
        execution_options=stream,
    ).partitions()
    check_index = 0
    n_checks = len(checks)
    next_check = checks[0][0] if checks else -1
    while check_index < n_checks and next_check == 0:  # a head of the empty tree
        _check_root(frontier, checks[check_index])
        check_index += 1
        next_check = checks[check_index][0] if check_index < n_checks else -1

    expected = 0
    batch_id = -1
    batch_end = 0
    shared = b""
    n_batches = 0
    try:
        for part in records:
            leaves: list[bytes] = []
            for seq, rec_batch, subject, field_, rule, stored in part:
                if seq != expected:
                    raise VerificationError(
                        f"record {expected} is missing (the next stored record is {seq})",
                        seq=expected,
                    )
                while seq >= batch_end:
                    batch = next(batch_rows, None)
                    if batch is None:
                        raise VerificationError(f"record {seq} belongs to no batch", seq=seq)
                    b_id, first_seq, count, at_us, request_id, app_id, version, owner = batch
                    if first_seq != batch_end or count < 1:
                        raise VerificationError(
                            f"batch {b_id} claims records {first_seq}..{first_seq + count - 1} "
                            f"but the previous batch ended before {batch_end}",
                            seq=min(first_seq, batch_end),
                        )
                    n_batches += 1
                    batch_id = b_id
                    batch_end = first_seq + count
                    shared = batch_part(at_us, request_id, app_id, version, owner)
                if rec_batch != batch_id:
                    raise VerificationError(
                        f"record {seq} names batch {rec_batch} but lies in batch {batch_id}",
                        seq=seq,
                    )
                leaf = sha256(
                    b"\x00\x01"
                    + pack_u64(seq)
                    + shared
                    + pack_i64(subject)
                    + item_part(field_, rule)
                ).digest()
                if leaf != stored:
                    raise VerificationError(
                        f"record {seq} was altered: its columns no longer hash to its leaf",
                        seq=seq,
                    )
                leaves.append(leaf)
                expected += 1
                if expected == next_check:
                    # the frontier lags behind by the leaves of this chunk: catch it up first
                    frontier.extend(leaves)
                    leaves = []
                    while check_index < n_checks and checks[check_index][0] == expected:
                        _check_root(frontier, checks[check_index])
                        check_index += 1
                    next_check = checks[check_index][0] if check_index < n_checks else -1
            frontier.extend(leaves)
    except (struct.error, TypeError, AttributeError, ValueError) as exc:
        # a column rewritten to a value of the wrong type (SQLite stores what it is given)
        raise VerificationError(
            f"record {expected} holds a malformed value: {exc}", seq=expected
        ) from None
    if expected < batch_end:
        raise VerificationError(
            f"record {expected} is missing (its batch {batch_id} runs to {batch_end - 1})",
            seq=expected,
        )
    extra = next(batch_rows, None)
    if extra is not None:
        raise VerificationError(
            f"batch {extra[0]} claims records from seq {extra[1]} that do not exist",
            seq=int(extra[1]),
        )
    report.batches = n_batches


def _check_root(frontier: MerkleFrontier, check: tuple[int, SignedTreeHead, str]) -> None:
    tree_size, head, kind = check
    if frontier.root() != head.root_hash:
        raise VerificationError(
            f"the {kind} tree head of size {tree_size} does not match the records before it "
            "(a record and its stored leaf hash were both rewritten, or the log forked)",
            head=tree_size,
        )


__all__ = ["VerifyReport", "verify_connection", "verify_ledger"]
