"""Tables of the disclosure ledger.

Normalised for write speed: one ``disclosure_batches`` row per response (request id, time, app,
API version, token owner, and the RFC 9162 leaf hashes of its records side by side in one
value) and one narrow ``disclosures`` row per field value served (seq, batch, subject, field,
rule). Keeping the leaf hashes with the batch rather than on each record halves what an append
writes: one 16 KB value per 500-record page instead of 500 small ones. Times are integer
microseconds since the Unix epoch so a record's canonical encoding is byte-identical on SQLite
and PostgreSQL.

There are no foreign keys to ``apps`` or ``people`` on purpose: the ledger is an append-only
record of what left, and it must outlive the deletion of the app or person it names.

``ledger_state`` is a single row (id 1) that serialises appends on PostgreSQL (row lock) and
holds the next sequence number and the Merkle frontier, so an append extends the tree without
reading old leaves. ``ledger_subtrees`` caches the hash of every complete, aligned subtree of
``SUBTREE_LEAVES`` leaves so an inclusion or consistency proof reads one block of records plus
``n / SUBTREE_LEAVES`` cached hashes, not the whole log. ``verify`` trusts neither cache: it
recomputes everything from the record columns.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, LargeBinary, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from graphwarden.core.db import Base

_BIGINT = BigInteger().with_variant(Integer, "sqlite")
#: ``ledger_subtrees`` holds every complete aligned subtree of ``2**SUBTREE_LEVEL`` leaves
SUBTREE_LEVEL = 10
SUBTREE_LEAVES = 1 << SUBTREE_LEVEL


class DisclosureBatchRow(Base):
    """One response's worth of disclosures: what all its records share."""

    __tablename__ = "disclosure_batches"

    id: Mapped[int] = mapped_column(_BIGINT, primary_key=True, autoincrement=False)
    request_id: Mapped[str] = mapped_column(String(128))
    #: microseconds since 1970-01-01T00:00:00Z
    at_us: Mapped[int] = mapped_column(BigInteger, index=True)
    app_id: Mapped[int] = mapped_column(BigInteger, index=True)
    api_version: Mapped[str] = mapped_column(String(8))
    owner_id: Mapped[int] = mapped_column(BigInteger, index=True)
    #: the batch's records are seq ``first_seq`` .. ``first_seq + count - 1``
    first_seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    count: Mapped[int] = mapped_column(Integer)
    #: the records' RFC 9162 leaf hashes as written, 32 bytes each in seq order; lets
    #: ``verify`` name an edited record exactly (recomputed from the records and compared,
    #: never trusted)
    leaf_hashes: Mapped[bytes] = mapped_column(LargeBinary)


class DisclosureRow(Base):
    """One field value of one subject that left the platform."""

    __tablename__ = "disclosures"

    seq: Mapped[int] = mapped_column(_BIGINT, primary_key=True, autoincrement=False)
    batch_id: Mapped[int] = mapped_column(BigInteger)
    subject_id: Mapped[int] = mapped_column(BigInteger)
    field: Mapped[str] = mapped_column(String(64))
    rule_id: Mapped[str] = mapped_column(String(128))


class LedgerState(Base):
    """The single row that serialises appends and carries the tree's right edge."""

    __tablename__ = "ledger_state"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    #: the number of records written: the seq the next record gets
    next_seq: Mapped[int] = mapped_column(BigInteger)
    next_batch_id: Mapped[int] = mapped_column(BigInteger)
    #: the number of records integrated into the Merkle tree (``frontier`` is its right
    #: edge); equal to ``next_seq`` when appends integrate as they write, behind it by the
    #: records a separate integrator has not reached yet otherwise
    tree_size: Mapped[int] = mapped_column(BigInteger)
    #: roots of the perfect subtrees along the right edge, largest first, 32 bytes each
    frontier: Mapped[bytes] = mapped_column(LargeBinary)
    last_head_size: Mapped[int] = mapped_column(BigInteger)
    last_head_at_us: Mapped[int] = mapped_column(BigInteger)


class SignedTreeHeadRow(Base):
    """A signed statement of the tree's size and root at a time."""

    __tablename__ = "signed_tree_heads"

    tree_size: Mapped[int] = mapped_column(_BIGINT, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    timestamp_us: Mapped[int] = mapped_column(BigInteger)
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    key_id: Mapped[str] = mapped_column(String(64))


class LedgerSubtreeRow(Base):
    """The hash of leaves ``[index * SUBTREE_LEAVES, (index + 1) * SUBTREE_LEAVES)``."""

    __tablename__ = "ledger_subtrees"

    index: Mapped[int] = mapped_column(_BIGINT, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


__all__ = [
    "SUBTREE_LEAVES",
    "SUBTREE_LEVEL",
    "DisclosureBatchRow",
    "DisclosureRow",
    "LedgerState",
    "LedgerSubtreeRow",
    "SignedTreeHeadRow",
]
