"""Recompute the Merkle leaves of a range of stored records, checking them as the stream goes.

The engine of :mod:`graphwarden.ledger.verify`. Records are read in seq order in chunks of
``chunk_size`` through a driver cursor (server-side on PostgreSQL); each chunk's columns are
transposed once, each batch's slice of the chunk is hashed with C-level ``map`` calls
(:func:`~graphwarden.ledger.records.leaf_hashes`) and compared with the slice of the leaf hashes
its batch stored in one bytes comparison. Only a slice that fails is walked record by record
(:func:`_first_bad_record`), so the first bad record is named exactly.

The leaves go to a :class:`LeafSink`, which extends a frontier and stops at every checkpoint
size (a signed or trusted head) before any later record is looked at, so problems are named in
log order. The sequential verifier's sink compares the root at each checkpoint; a parallel
worker's sink (:mod:`graphwarden.ledger.parallel`) keeps the subtree roots its parent needs.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Callable, Iterator, Sequence
from hashlib import sha256
from itertools import chain
from typing import Any

from graphwarden.core.errors import VerificationError
from graphwarden.ledger.merkle import MerkleFrontier
from graphwarden.ledger.records import batch_part, item_part, leaf_hashes

CHUNK = 20_000  # records per fetch: ~2 MB of rows, a few hundred µs of Python per chunk
#: batches per fetch: each row carries its records' leaf hashes (16 KB for a 500-record page)
BATCH_CHUNK = 256
# struct packing is about twice as fast as int.to_bytes in the per-record loop
pack_u64 = struct.Struct(">Q").pack
pack_i64 = struct.Struct(">q").pack

_BATCH_COLUMNS = (
    "id, first_seq, count, at_us, request_id, app_id, api_version, owner_id, leaf_hashes"
)
_RECORD_COLUMNS = "seq, batch_id, subject_id, field, rule_id"


class LeafSink:
    """Takes the recomputed leaves of ``[base, …)`` in order and stops at checkpoint sizes.

    ``sizes`` are absolute tree sizes, ascending; ``reached(size)`` is called when the
    leaves of exactly ``size`` records have been pushed (before any later leaf). ``capture``
    (a level) collects the roots of the aligned subtrees of ``2**capture`` leaves completed
    on the way into :attr:`blocks`; ``base`` must then be a multiple of that size.
    """

    __slots__ = (
        "_index",
        "_sizes",
        "base",
        "blocks",
        "capture",
        "frontier",
        "next_size",
        "reached",
    )

    def __init__(
        self,
        sizes: Sequence[int],
        reached: Callable[[int, MerkleFrontier], None],
        *,
        base: int = 0,
        capture: int = -1,
    ) -> None:
        self.frontier = MerkleFrontier()
        self.base = base
        self.capture = capture
        self.blocks: list[bytes] = []
        self.reached = reached
        self._sizes = list(sizes)
        self._index = 0
        self.next_size = -1
        self._advance()

    @property
    def size(self) -> int:
        """The absolute tree size the pushed leaves reach."""
        return self.base + self.frontier.size

    def _advance(self) -> None:
        sizes = self._sizes
        while self._index < len(sizes) and sizes[self._index] <= self.size:
            if sizes[self._index] == self.size:
                self.reached(self.size, self.frontier)
            self._index += 1
        self.next_size = sizes[self._index] if self._index < len(sizes) else -1

    def extend(self, leaves: list[bytes]) -> None:
        """Push ``leaves``; the caller never passes a checkpoint size inside one call."""
        self.blocks.extend(self.frontier.extend(leaves, self.capture))
        if self.size == self.next_size:
            self._advance()


class _Batch:
    """The batch the stream is in: its id, its records' first seq and end, its shared
    encoding and the leaf hashes it stored."""

    __slots__ = ("end", "first", "id", "leaves", "shared")

    def __init__(self, end: int = 0) -> None:
        self.id = -1
        self.first = end
        self.end = end
        self.shared = b""
        self.leaves = b""

    def stored(self, lo: int, hi: int) -> bytes:
        """The stored leaf hashes of records ``[lo, hi)`` of this batch, side by side."""
        return self.leaves[32 * (lo - self.first) : 32 * (hi - self.first)]


def recompute(
    driver: Any,
    postgres: bool,
    sink: LeafSink,
    chunk_size: int = CHUNK,
    *,
    lo: int = 0,
    hi: int | None = None,
) -> int:
    """Recompute and check records ``[lo, hi)`` (to the end of the log when ``hi`` is
    ``None``) on the driver connection ``driver``; return the number of batches that start
    in the range. Raises ``VerificationError`` naming the first bad record or head.

    With ``hi`` set, the range must hold exactly ``hi - lo`` records, and batches running on
    past ``hi`` are left to whoever checks the next range. With ``hi`` ``None`` the log must
    end where its last batch ends, with no batch beyond it.
    """
    batch_cur = _cursor(driver, postgres, "gw_recompute_batches", BATCH_CHUNK)
    record_cur = _cursor(driver, postgres, "gw_recompute_records", chunk_size)
    try:
        return _recompute(batch_cur, record_cur, sink, chunk_size, lo, hi)
    finally:
        record_cur.close()
        batch_cur.close()


def _recompute(
    batch_cur: Any, record_cur: Any, sink: LeafSink, chunk_size: int, lo: int, hi: int | None
) -> int:
    mark = "%s" if _paramstyle(record_cur) else "?"
    batch = _Batch()
    if lo == 0:
        batch_cur.execute(f"SELECT {_BATCH_COLUMNS} FROM disclosure_batches ORDER BY first_seq")  # noqa: S608
        batch_rows: Iterator[tuple[Any, ...]] = _rows(batch_cur, BATCH_CHUNK)
    else:
        # start in the batch that holds ``lo``: the one that starts last at or before it
        batch_cur.execute(
            f"SELECT {_BATCH_COLUMNS} FROM disclosure_batches WHERE first_seq <= {mark} "  # noqa: S608
            "ORDER BY first_seq DESC LIMIT 1",
            (lo,),
        )
        first = batch_cur.fetchall()
        batch.end = int(first[0][1]) if first else lo
        batch_cur.execute(
            f"SELECT {_BATCH_COLUMNS} FROM disclosure_batches WHERE first_seq > {mark} "  # noqa: S608
            + ("" if hi is None else f"AND first_seq < {mark} ")
            + "ORDER BY first_seq",
            (lo,) if hi is None else (lo, hi),
        )
        batch_rows = chain(first, _rows(batch_cur, BATCH_CHUNK))
    record_cur.execute(
        f"SELECT {_RECORD_COLUMNS} FROM disclosures WHERE seq >= {mark} "  # noqa: S608
        + ("" if hi is None else f"AND seq < {mark} ")
        + "ORDER BY seq",
        (lo,) if hi is None else (lo, hi),
    )
    parts: dict[tuple[Any, Any], bytes] = {}
    n_batches = 0
    expected = lo
    while True:
        rows = record_cur.fetchmany(chunk_size)
        if not rows:
            break
        seqs, batch_ids, subjects, fields, rules = zip(*rows, strict=True)
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
                row = next(batch_rows, None)
                if row is not None and row[1] >= lo:
                    n_batches += 1
                _next_batch(batch, row, seq)
            end = min(n, batch.end - expected)
            if sink.next_size > seq:
                # a head is checked before any record after it is looked at, so the first
                # bad item is named in log order
                end = min(end, sink.next_size - expected)
            leaves = _slice_leaves(batch, seq, subjects, keys, parts, pos, end)
            if (
                leaves is None
                or batch_ids[pos:end].count(batch.id) != end - pos
                or b"".join(leaves) != batch.stored(seq, seq + end - pos)
            ):
                _first_bad_record(batch, rows[pos:end])
                raise AssertionError("a slice that failed its check passed record by record")
            sink.extend(leaves)
            pos = end
        expected += n
        if gap is not None:
            raise gap  # after the records before the gap, which come first
    if hi is not None:
        if expected != hi:
            raise VerificationError(
                f"record {expected} is missing (the range ends before {hi})", seq=expected
            )
        return n_batches
    if expected < batch.end:
        raise VerificationError(
            f"record {expected} is missing (its batch {batch.id} runs to {batch.end - 1})",
            seq=expected,
        )
    extra = next(batch_rows, None)
    if extra is not None:
        raise VerificationError(
            f"batch {extra[0]} claims records from seq {extra[1]} that do not exist",
            seq=int(extra[1]),
        )
    return n_batches


def _paramstyle(cur: Any) -> bool:
    """``True`` for a driver that takes ``%s`` placeholders (psycopg), ``False`` for ``?``."""
    return type(cur).__module__.startswith("psycopg")


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
    b_id, first_seq, count, at_us, request_id, app_id, version, owner, leaves = row
    if first_seq != batch.end or count < 1:
        raise VerificationError(
            f"batch {b_id} claims records {first_seq}..{first_seq + count - 1} "
            f"but the previous batch ended before {batch.end}",
            seq=min(first_seq, batch.end),
        )
    leaves = bytes(leaves) if isinstance(leaves, (bytes, bytearray, memoryview)) else b""
    if len(leaves) != 32 * count:
        raise VerificationError(
            f"batch {b_id} was altered: it stores {len(leaves) // 32} leaf hashes "
            f"for its {count} records",
            seq=first_seq,
        )
    try:
        shared = batch_part(at_us, request_id, app_id, version, owner)
    except (TypeError, AttributeError, ValueError, OverflowError) as exc:
        raise VerificationError(
            f"record {first_seq} holds a malformed value in its batch: {exc}", seq=first_seq
        ) from None
    batch.id = b_id
    batch.first = first_seq
    batch.end = first_seq + count
    batch.shared = shared
    batch.leaves = leaves


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
    for seq, rec_batch, subject, field_, rule in rows:
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
        if leaf != batch.stored(seq, seq + 1):
            raise VerificationError(
                f"record {seq} was altered: its columns no longer hash to its leaf", seq=seq
            )


__all__ = ["BATCH_CHUNK", "CHUNK", "LeafSink", "recompute"]
