"""Reading the ledger: records, tree heads, statistics, and inclusion / consistency proofs.

Proofs are computed from stored leaf hashes with the subtree cache (``ledger_subtrees``): a
proof for one record reads the 1,024-leaf block that holds it plus one cached hash per other
block, so proving against a 10-million-record tree reads ~10,000 small rows, not the log.
Proof *verification* trusts none of this: a proof checks against a signed tree head alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, text

from graphwarden.core.errors import InvalidInput, NotFound
from graphwarden.ledger.merkle import (
    EMPTY_ROOT,
    RangeHash,
    consistency_proof,
    inclusion_proof,
    node_hash,
    subtree_root,
)
from graphwarden.ledger.models import SUBTREE_LEAVES
from graphwarden.ledger.records import Disclosure
from graphwarden.ledger.signing import SignedTreeHead

_RECORD_COLUMNS = (
    "d.seq, b.at_us, b.request_id, b.app_id, b.api_version, b.owner_id, d.subject_id, "
    "d.field, d.rule_id"
)


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """A record, its leaf index and the audit path to a signed tree head."""

    record: Disclosure
    proof: list[bytes]
    head: SignedTreeHead

    def to_json(self) -> dict[str, Any]:
        """The offline-checkable form printed by ``graphwarden ledger prove``."""
        r = self.record
        return {
            "format": "graphwarden-inclusion-proof-v1",
            "record": {
                "seq": r.seq,
                "at_us": r.at_us,
                "request_id": r.request_id,
                "app_id": r.app_id,
                "api_version": r.api_version,
                "owner_id": r.owner_id,
                "subject_id": r.subject_id,
                "field": r.field,
                "rule_id": r.rule_id,
            },
            "leaf_index": r.seq,
            "leaf_hash": r.leaf_hash().hex(),
            "proof": [h.hex() for h in self.proof],
            "tree_head": self.head.to_json(),
        }


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    first: SignedTreeHead
    second: SignedTreeHead
    proof: list[bytes]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": "graphwarden-consistency-proof-v1",
            "first": self.first.to_json(),
            "second": self.second.to_json(),
            "proof": [h.hex() for h in self.proof],
        }


@dataclass(frozen=True, slots=True)
class LedgerStats:
    records: int
    batches: int
    tree_heads: int
    latest_head_size: int
    latest_head_at_us: int | None
    apps: int
    subjects: int
    first_at_us: int | None
    last_at_us: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "batches": self.batches,
            "tree_heads": self.tree_heads,
            "latest_head_size": self.latest_head_size,
            "latest_head_at_us": self.latest_head_at_us,
            "unsigned_records": self.records - self.latest_head_size,
            "apps": self.apps,
            "subjects": self.subjects,
            "first_at_us": self.first_at_us,
            "last_at_us": self.last_at_us,
        }


def _head(row: Any) -> SignedTreeHead:
    return SignedTreeHead(
        tree_size=int(row[0]),
        root_hash=bytes(row[1]),
        timestamp_us=int(row[2]),
        signature=bytes(row[3]),
        key_id=str(row[4]),
    )


_HEAD_COLUMNS = "tree_size, root_hash, timestamp_us, signature, key_id"


def load_heads(conn: Connection, max_size: int | None = None) -> list[SignedTreeHead]:
    """Every stored tree head, smallest first (optionally only those up to ``max_size``)."""
    sql = f"SELECT {_HEAD_COLUMNS} FROM signed_tree_heads"  # noqa: S608 - constant columns
    params: dict[str, int] = {}
    if max_size is not None:
        sql += " WHERE tree_size <= :max_size"
        params["max_size"] = max_size
    return [_head(r) for r in conn.execute(text(sql + " ORDER BY tree_size"), params)]


def latest_head(engine: Engine) -> SignedTreeHead | None:
    """The newest signed tree head, or ``None`` before the first."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                f"SELECT {_HEAD_COLUMNS} FROM signed_tree_heads "  # noqa: S608
                "ORDER BY tree_size DESC LIMIT 1"
            )
        ).first()
    return None if row is None else _head(row)


def head_at(engine: Engine, tree_size: int) -> SignedTreeHead:
    """The signed head of exactly ``tree_size`` records; ``NotFound`` if none was signed."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                f"SELECT {_HEAD_COLUMNS} FROM signed_tree_heads "  # noqa: S608
                "WHERE tree_size = :n"
            ),
            {"n": tree_size},
        ).first()
    if row is None:
        raise NotFound(f"no signed tree head of size {tree_size}")
    return _head(row)


def tree_size(engine: Engine) -> int:
    """The number of records in the ledger (the seq the next record gets)."""
    with engine.connect() as conn:
        return int(
            conn.execute(text("SELECT next_seq FROM ledger_state WHERE id = 1")).scalar_one()
        )


def tree_size_of(engine: Engine) -> tuple[int, int]:
    """``(records written, records integrated into the tree)``: equal unless a deferred
    ledger's integrator has not reached the newest records yet."""
    with engine.connect() as conn:
        row = conn.execute(text("SELECT next_seq, tree_size FROM ledger_state WHERE id = 1")).one()
    return int(row[0]), int(row[1])


def get_disclosure(conn: Connection, seq: int) -> Disclosure:
    row = conn.execute(
        text(
            f"SELECT {_RECORD_COLUMNS} FROM disclosures d "  # noqa: S608 - constant columns
            "JOIN disclosure_batches b ON b.id = d.batch_id WHERE d.seq = :seq"
        ),
        {"seq": seq},
    ).first()
    if row is None:
        raise NotFound(f"no disclosure record with seq {seq}")
    return _disclosure(row)


def _disclosure(row: Any) -> Disclosure:
    return Disclosure(
        seq=int(row[0]),
        at_us=int(row[1]),
        request_id=str(row[2]),
        app_id=int(row[3]),
        api_version=str(row[4]),
        owner_id=int(row[5]),
        subject_id=int(row[6]),
        field=str(row[7]),
        rule_id=str(row[8]),
    )


def iter_disclosures(
    engine: Engine,
    *,
    app_id: int | None = None,
    owner_id: int | None = None,
    subject_id: int | None = None,
    since_us: int | None = None,
    until_us: int | None = None,
    chunk_size: int = 10_000,
) -> Iterator[Disclosure]:
    """Stream disclosure records in seq order, optionally filtered (for analytics).

    Filters on app, owner and time use the batch indexes; ``until_us`` is exclusive.

    >>> sum(1 for _ in iter_disclosures(engine, app_id=7))  # doctest: +SKIP
    500
    """
    clauses: list[str] = []
    params: dict[str, int] = {}
    for column, value in (
        ("b.app_id", app_id),
        ("b.owner_id", owner_id),
        ("d.subject_id", subject_id),
    ):
        if value is not None:
            name = column.split(".")[1]
            clauses.append(f"{column} = :{name}")
            params[name] = int(value)
    if since_us is not None:
        clauses.append("b.at_us >= :since_us")
        params["since_us"] = since_us
    if until_us is not None:
        clauses.append("b.at_us < :until_us")
        params["until_us"] = until_us
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    sql = (
        f"SELECT {_RECORD_COLUMNS} FROM disclosure_batches b "  # noqa: S608 - fixed clauses
        f"JOIN disclosures d ON d.batch_id = b.id{where} ORDER BY d.seq"
    )
    with engine.connect() as conn:
        result = conn.execute(
            text(sql), params, execution_options={"stream_results": True, "yield_per": chunk_size}
        )
        for rows in result.partitions():
            for row in rows:
                yield _disclosure(row)


def stats(engine: Engine) -> LedgerStats:
    """Counts for ``graphwarden ledger stats``."""
    with engine.connect() as conn:
        records = int(conn.execute(text("SELECT count(*) FROM disclosures")).scalar_one())
        b = conn.execute(
            text(
                "SELECT count(*), count(DISTINCT app_id), min(at_us), max(at_us) "
                "FROM disclosure_batches"
            )
        ).one()
        subjects = int(
            conn.execute(text("SELECT count(DISTINCT subject_id) FROM disclosures")).scalar_one()
        )
        h = conn.execute(
            text("SELECT count(*), max(tree_size), max(timestamp_us) FROM signed_tree_heads")
        ).one()
    return LedgerStats(
        records=records,
        batches=int(b[0]),
        tree_heads=int(h[0]),
        latest_head_size=int(h[1] or 0),
        latest_head_at_us=None if h[2] is None else int(h[2]),
        apps=int(b[1]),
        subjects=subjects,
        first_at_us=None if b[2] is None else int(b[2]),
        last_at_us=None if b[3] is None else int(b[3]),
    )


class StoredTree:
    """``MTH(D[lo:hi])`` answered from stored leaf hashes and the subtree cache."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._blocks: dict[int, bytes] = {}
        self._leaves: dict[int, list[bytes]] = {}

    def _block(self, index: int) -> bytes:
        if not self._blocks:
            # one query for every cached block (32 bytes per 1,024 records): a proof needs
            # up to log2(n) of them, scattered, and one round trip each would dominate
            rows = self._conn.execute(text('SELECT "index", hash FROM ledger_subtrees'))
            self._blocks = {int(i): bytes(h) for i, h in rows}
        cached = self._blocks.get(index)
        if cached is None:
            cached = subtree_root(self._block_leaves(index))
            self._blocks[index] = cached
        return cached

    def _block_leaves(self, index: int) -> list[bytes]:
        leaves = self._leaves.get(index)
        if leaves is None:
            lo = index * SUBTREE_LEAVES
            hi = lo + SUBTREE_LEAVES
            # the batches holding [lo, hi): the one that starts last at or before lo, and
            # every one starting inside
            rows = self._conn.execute(
                text(
                    "SELECT first_seq, leaf_hashes FROM disclosure_batches WHERE first_seq >= "
                    "coalesce((SELECT max(first_seq) FROM disclosure_batches "
                    "WHERE first_seq <= :lo), :lo) AND first_seq < :hi ORDER BY first_seq"
                ),
                {"lo": lo, "hi": hi},
            ).all()
            leaves = []
            for first, blob in rows:
                start, data = max(lo, int(first)), bytes(blob)
                for seq in range(start, min(hi, int(first) + len(data) // 32)):
                    offset = 32 * (seq - int(first))
                    leaves.append(data[offset : offset + 32])
            self._leaves[index] = leaves
        return leaves

    def range_hash(self, lo: int, hi: int) -> bytes:
        """``MTH(D[lo:hi])``; aligned whole blocks come from the cache."""
        size = hi - lo
        if size <= 0:
            return EMPTY_ROOT
        if size == SUBTREE_LEAVES and lo % SUBTREE_LEAVES == 0:
            return self._block(lo // SUBTREE_LEAVES)
        if size < SUBTREE_LEAVES and lo // SUBTREE_LEAVES == (hi - 1) // SUBTREE_LEAVES:
            block = lo // SUBTREE_LEAVES
            base = block * SUBTREE_LEAVES
            return subtree_root(self._block_leaves(block), lo - base, hi - base)
        split = 1 << ((size - 1).bit_length() - 1)
        return node_hash(self.range_hash(lo, lo + split), self.range_hash(lo + split, hi))


def _resolve_head(conn: Connection, tree_size_: int | None) -> SignedTreeHead:
    if tree_size_ is None:
        heads = conn.execute(
            text(
                f"SELECT {_HEAD_COLUMNS} FROM signed_tree_heads "  # noqa: S608
                "ORDER BY tree_size DESC LIMIT 1"
            )
        ).first()
        if heads is None:
            raise NotFound("the ledger has no signed tree head yet")
        return _head(heads)
    row = conn.execute(
        text(f"SELECT {_HEAD_COLUMNS} FROM signed_tree_heads WHERE tree_size = :n"),  # noqa: S608
        {"n": tree_size_},
    ).first()
    if row is None:
        raise NotFound(f"no signed tree head of size {tree_size_}")
    return _head(row)


def prove_inclusion(engine: Engine, seq: int, tree_size_: int | None = None) -> InclusionProof:
    """An inclusion proof for record ``seq`` against the signed head of ``tree_size_``
    records (default: the newest head). ``NotFound`` if the record or head does not exist,
    ``InvalidInput`` if the head does not cover the record."""
    if seq < 0:
        raise InvalidInput(f"seq must be non-negative, got {seq}")
    with engine.connect() as conn:
        head = _resolve_head(conn, tree_size_)
        if seq >= head.tree_size:
            raise InvalidInput(
                f"record {seq} is not covered by the tree head of size {head.tree_size} "
                "(it is newer; a head is signed within a second of activity)"
            )
        record = get_disclosure(conn, seq)
        tree: RangeHash = StoredTree(conn).range_hash
        proof = inclusion_proof(seq, head.tree_size, tree)
    return InclusionProof(record=record, proof=proof, head=head)


def prove_consistency(engine: Engine, first: int, second: int) -> ConsistencyProof:
    """A consistency proof between the signed heads of sizes ``first`` and ``second``."""
    if not 0 <= first <= second:
        raise InvalidInput(f"need 0 <= first <= second, got {first} and {second}")
    with engine.connect() as conn:
        h1 = _resolve_head(conn, first)
        h2 = _resolve_head(conn, second)
        proof = consistency_proof(first, second, StoredTree(conn).range_hash)
    return ConsistencyProof(first=h1, second=h2, proof=proof)


__all__ = [
    "ConsistencyProof",
    "InclusionProof",
    "LedgerStats",
    "StoredTree",
    "get_disclosure",
    "head_at",
    "iter_disclosures",
    "latest_head",
    "load_heads",
    "prove_consistency",
    "prove_inclusion",
    "stats",
    "tree_size",
    "tree_size_of",
]
