"""Records written but not yet integrated into the Merkle tree, and their leaf hashes.

A ledger that defers integration (``SqlDisclosureLedger(..., integration="deferred")``) makes
each batch durable with an empty ``leaf_hashes`` value and leaves the tree to an integrator:
:func:`read_pending` reads the batches from the tree's size on (whole batches, up to about
``limit`` records), checks that they and their records continue the log without a gap, and
computes every record's leaf hash exactly as an inline append would have
(:func:`~graphwarden.ledger.records.leaf_hashes`). Records are immutable once committed, so
the integrator reads them without holding the write lock and takes it only to store what it
computed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from graphwarden.core.errors import LedgerWriteError, VerificationError
from graphwarden.ledger.records import batch_part, item_part, leaf_hashes

_BATCHES = (
    "SELECT id, first_seq, count, at_us, request_id, app_id, api_version, owner_id "
    "FROM disclosure_batches WHERE first_seq >= {m} AND first_seq < {m} ORDER BY first_seq"
)
_RECORDS = (
    "SELECT seq, batch_id, subject_id, field, rule_id FROM disclosures "
    "WHERE seq >= {m} AND seq < {m} ORDER BY seq"
)


@dataclass(slots=True)
class Pending:
    """Whole batches of records ``[start, end)`` and the leaf hashes they will store."""

    start: int
    end: int
    #: (batch id, the batch's leaf hashes side by side), in seq order
    batches: list[tuple[int, bytes]] = field(default_factory=list)
    #: every record's leaf hash, in seq order
    leaves: list[bytes] = field(default_factory=list)

    @property
    def count(self) -> int:
        return self.end - self.start


def read_pending(cur: Any, marker: str, start: int, limit: int) -> Pending | None:
    """The batches starting in ``[start, start + limit)`` on the driver cursor ``cur`` (whose
    placeholder is ``marker``) with their leaves; ``None`` when no batch starts there.

    Raises ``LedgerWriteError`` if the stored log does not continue from ``start`` as the
    ledger writes it (a gap, a record outside its batch, a value that cannot be encoded):
    records that were changed are never integrated; ``graphwarden ledger verify`` names them.
    """
    cur.execute(_BATCHES.format(m=marker), (start, start + limit))
    batches = cur.fetchall()
    if not batches:
        return None
    last = batches[-1]
    end = int(last[1]) + int(last[2])
    cur.execute(_RECORDS.format(m=marker), (start, end))
    records = cur.fetchall()
    if not records or len(records) != end - start or int(records[-1][0]) != end - 1:
        raise LedgerWriteError(
            f"cannot integrate records {start}..{end - 1}: {len(records)} of {end - start} "
            "are stored; run `graphwarden ledger verify`"
        )
    pending = Pending(start, end)
    # columns transposed once, each distinct (field, rule) encoded once, every check and hash a
    # C-level call per batch: re-reading costs the integrator little more than the hashing
    seqs, batch_ids, subjects, fields, rules = zip(*records, strict=True)
    keys = list(zip(fields, rules, strict=True))
    try:
        parts = {key: item_part(*key) for key in set(keys)}
    except (ValueError, TypeError, AttributeError, OverflowError) as exc:
        raise LedgerWriteError(
            f"cannot integrate records {start}..{end - 1}: {exc}; run `graphwarden ledger verify`"
        ) from None
    if seqs[0] != start:
        raise LedgerWriteError(
            f"cannot integrate records {start}..{end - 1}: record {start} is missing; "
            "run `graphwarden ledger verify`"
        )
    at = start
    for b_id, first_seq, count, at_us, request_id, app_id, version, owner in batches:
        first_seq, count = int(first_seq), int(count)
        if first_seq != at or count < 1:
            raise LedgerWriteError(
                f"cannot integrate batch {b_id}: it starts at seq {first_seq}, the log at {at}; "
                "run `graphwarden ledger verify`"
            )
        lo, hi = first_seq - start, first_seq - start + count
        try:
            if batch_ids[lo:hi].count(b_id) != count:
                raise ValueError(
                    f"a record of seq {first_seq}..{first_seq + count - 1} names another batch"
                )
            shared = batch_part(at_us, request_id, app_id, version, owner)
            items = map(parts.__getitem__, keys[lo:hi])
            leaves = leaf_hashes(first_seq, shared, subjects[lo:hi], items)
        except (ValueError, TypeError, AttributeError, OverflowError, struct.error) as exc:
            raise LedgerWriteError(
                f"cannot integrate batch {b_id}: {exc}; run `graphwarden ledger verify`"
            ) from None
        pending.batches.append((int(b_id), b"".join(leaves)))
        pending.leaves.extend(leaves)
        at = first_seq + count
    return pending


def check_pending(conn: Connection, tree_size: int, next_seq: int) -> int:
    """Check the records written after the tree (``[tree_size, next_seq)``, not yet hashed:
    nothing covers them but their structure) and return how many there are. Raises
    ``VerificationError`` naming the first record or batch that does not continue the log."""
    if next_seq < tree_size:
        raise VerificationError(
            f"the ledger's state says {next_seq} records were written but {tree_size} are in "
            "its tree (the state row was altered)",
            seq=next_seq,
        )
    at = tree_size
    for first, count, stored in conn.execute(
        text(
            "SELECT first_seq, count, leaf_hashes FROM disclosure_batches "
            "WHERE first_seq >= :t ORDER BY first_seq"
        ),
        {"t": tree_size},
    ):
        first, count = int(first), int(count)
        if first != at or count < 1:
            raise VerificationError(
                f"record {min(first, at)} is missing or out of its batch (a batch after the "
                f"tree starts at seq {first}, the log continues at {at})",
                seq=min(first, at),
            )
        if stored:
            raise VerificationError(
                f"the batch at seq {first} lies beyond the tree's size {tree_size} but stores "
                "leaf hashes (the state row was rolled back)",
                seq=first,
            )
        at = first + count
    if at != next_seq:
        raise VerificationError(
            f"the ledger's batches end before seq {at} but its state says {next_seq} records "
            f"were written: records from seq {min(at, next_seq)} were "
            f"{'deleted' if at < next_seq else 'inserted'}",
            seq=min(at, next_seq),
        )
    stray = conn.execute(
        text(
            "SELECT d.seq FROM disclosures d LEFT JOIN disclosure_batches b ON b.id = d.batch_id "
            "WHERE d.seq >= :t AND (b.id IS NULL OR d.seq < b.first_seq "
            "OR d.seq >= b.first_seq + b.count) ORDER BY d.seq LIMIT 1"
        ),
        {"t": tree_size},
    ).first()
    if stray is not None:
        raise VerificationError(
            f"record {int(stray[0])} names a batch that does not hold it", seq=int(stray[0])
        )
    number, low, high = conn.execute(
        text("SELECT count(*), min(seq), max(seq) FROM disclosures WHERE seq >= :t"),
        {"t": tree_size},
    ).one()
    if int(number) != next_seq - tree_size or (
        number and (int(low) != tree_size or int(high) != next_seq - 1)
    ):
        missing = conn.execute(
            text(
                "SELECT min(d.seq + 1) FROM disclosures d WHERE d.seq >= :t AND d.seq + 1 < :n "
                "AND NOT EXISTS (SELECT 1 FROM disclosures e WHERE e.seq = d.seq + 1)"
            ),
            {"t": tree_size, "n": next_seq},
        ).scalar()
        first_bad = tree_size if not number or int(low) != tree_size else missing
        first_bad = next_seq if first_bad is None else int(first_bad)
        raise VerificationError(
            f"record {first_bad} is missing or was inserted after the tree's size {tree_size}",
            seq=first_bad,
        )
    return next_seq - tree_size


__all__ = ["Pending", "check_pending", "read_pending"]
