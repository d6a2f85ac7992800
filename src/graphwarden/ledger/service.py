"""The SQL disclosure ledger: append batches, extend the Merkle tree, sign tree heads.

An append is one transaction. It takes the ledger's write lock (SQLite ``BEGIN IMMEDIATE``;
PostgreSQL ``SELECT … FOR UPDATE`` on the one ``ledger_state`` row), reads the next sequence
number and the Merkle frontier from that row, inserts the batch row and one narrow row per
record with ``executemany``, any completed subtree hashes and signed tree heads, writes the
state back and commits. Either all of it is durable when ``append`` returns, or none of it
is and ``LedgerWriteError`` is raised: the caller must then serve nothing.

Tree heads are signed inside the append that makes them due: when the last head is at least
``head_interval_s`` old, and at every ``head_every`` records. :meth:`publish_head` signs one on
demand (at shutdown, on a timer, or before proving the newest records).
"""

from __future__ import annotations

import struct
from hashlib import sha256
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from graphwarden.core.clock import Clock
from graphwarden.core.errors import LedgerWriteError
from graphwarden.core.types import API_VERSIONS
from graphwarden.ledger.interfaces import AppendReceipt, DisclosureBatch
from graphwarden.ledger.merkle import MerkleFrontier
from graphwarden.ledger.models import SUBTREE_LEVEL
from graphwarden.ledger.records import LeafEncoder, batch_part, check_value, to_micros
from graphwarden.ledger.signing import LedgerSigner, SignedTreeHead

HEAD_INTERVAL_S = 1.0
HEAD_EVERY = 10_000

# statements in qmark style; PostgreSQL (psycopg, format style) gets "?" replaced by "%s"
_LOCK_SQLITE = (
    "SELECT next_seq, next_batch_id, frontier, last_head_size, last_head_at_us "
    "FROM ledger_state WHERE id = 1"
)
_LOCK_POSTGRES = _LOCK_SQLITE + " FOR UPDATE"
_INSERT_BATCH = (
    "INSERT INTO disclosure_batches (id, request_id, at_us, app_id, api_version, owner_id, "
    "first_seq, count) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_RECORDS = (
    "INSERT INTO disclosures (seq, batch_id, subject_id, field, rule_id, leaf_hash) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
_INSERT_SUBTREES = 'INSERT INTO ledger_subtrees ("index", hash) VALUES (?, ?)'
_INSERT_HEADS = (
    "INSERT INTO signed_tree_heads (tree_size, root_hash, timestamp_us, signature, key_id) "
    "VALUES (?, ?, ?, ?, ?)"
)
_SAVE_STATE = (
    "UPDATE ledger_state SET next_seq = ?, next_batch_id = ?, frontier = ?, "
    "last_head_size = ?, last_head_at_us = ? WHERE id = 1"
)
_STATEMENTS = {
    "lock": _LOCK_SQLITE,
    "batch": _INSERT_BATCH,
    "records": _INSERT_RECORDS,
    "subtrees": _INSERT_SUBTREES,
    "heads": _INSERT_HEADS,
    "state": _SAVE_STATE,
}

# struct packing is about twice as fast as int.to_bytes in the per-record loops
pack_u64 = struct.Struct(">Q").pack
pack_i64 = struct.Struct(">q").pack


class _State:
    __slots__ = ("frontier", "last_head_at_us", "last_head_size", "next_batch_id")

    def __init__(
        self, frontier: MerkleFrontier, next_batch_id: int, head_size: int, head_at: int
    ) -> None:
        self.frontier = frontier
        self.next_batch_id = next_batch_id
        self.last_head_size = head_size
        self.last_head_at_us = head_at


class SqlDisclosureLedger:
    """:class:`~graphwarden.ledger.interfaces.DisclosureLedger` on SQLite or PostgreSQL.

    >>> ledger = SqlDisclosureLedger(engine, LedgerSigner.load_or_create(data_dir), clock)
    ... # doctest: +SKIP
    >>> ledger.append(batch).first_seq  # doctest: +SKIP
    0
    """

    def __init__(
        self,
        engine: Engine,
        signer: LedgerSigner,
        clock: Clock,
        *,
        head_interval_s: float = HEAD_INTERVAL_S,
        head_every: int = HEAD_EVERY,
    ) -> None:
        if head_every < 1:
            raise ValueError("head_every must be at least 1")
        self.engine = engine
        self.signer = signer
        self.clock = clock
        self._head_interval_us = int(head_interval_s * 1_000_000)
        self._head_every = head_every
        self._sqlite = engine.dialect.name == "sqlite"
        self._sql = dict(_STATEMENTS)
        if not self._sqlite:
            self._sql = {k: v.replace("?", "%s") for k, v in _STATEMENTS.items()}
            self._sql["lock"] = _LOCK_POSTGRES
        self._encoder = LeafEncoder()

    # -- writing -------------------------------------------------------------------------

    def append(self, batch: DisclosureBatch) -> AppendReceipt:
        """Make ``batch`` durable, or raise ``LedgerWriteError`` having written nothing."""
        at_us = _validate(batch)
        shared = batch_part(
            at_us, batch.request_id, batch.app_id, batch.api_version, batch.owner_id
        )
        try:
            with self.engine.connect() as conn:
                try:
                    state = self._lock(conn)
                    receipt = self._append_locked(conn, state, batch, at_us, shared)
                    conn.commit()
                except BaseException:
                    conn.rollback()
                    raise
        except LedgerWriteError:
            raise
        except (SQLAlchemyError, OSError) as exc:
            raise LedgerWriteError(
                f"disclosure records could not be written: {exc.__class__.__name__}: "
                f"{_first_line(exc)}"
            ) from exc
        return receipt

    def publish_head(self) -> SignedTreeHead | None:
        """Sign a tree head now if records were appended since the last one.

        Returns the new head, or ``None`` when the latest head already covers every record.
        """
        try:
            with self.engine.connect() as conn:
                try:
                    state = self._lock(conn)
                    head = None
                    if state.frontier.size > state.last_head_size:
                        head = self._sign(conn, state)
                        self._save_state(conn, state)
                    conn.commit()
                except BaseException:
                    conn.rollback()
                    raise
        except (SQLAlchemyError, OSError) as exc:
            raise LedgerWriteError(
                f"tree head could not be written: {exc.__class__.__name__}: {_first_line(exc)}"
            ) from exc
        return head

    def _lock(self, conn: Connection) -> _State:
        if self._sqlite:
            # take the write lock before reading the state, so two writers never read the
            # same next_seq (a deferred transaction would upgrade its lock too late)
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        row = conn.exec_driver_sql(self._sql["lock"]).first()
        if row is None:
            raise LedgerWriteError("the ledger is not initialised: run `graphwarden db upgrade`")
        next_seq, next_batch_id, frontier, head_size, head_at = row
        return _State(
            MerkleFrontier.from_bytes(int(next_seq), bytes(frontier)),
            int(next_batch_id),
            int(head_size),
            int(head_at),
        )

    def _append_locked(
        self,
        conn: Connection,
        state: _State,
        batch: DisclosureBatch,
        at_us: int,
        shared: bytes,
    ) -> AppendReceipt:
        frontier = state.frontier
        first_seq = frontier.size
        if not batch.items:
            return AppendReceipt(first_seq=first_seq, count=0, tree_size=first_seq)
        batch_id = state.next_batch_id
        item_part = self._encoder.item
        every = self._head_every
        rows: list[tuple[Any, ...]] = []
        leaves: list[bytes] = []
        seq = first_seq
        try:
            for item in batch.items:
                subject = item.subject_id
                field = item.field
                rule = item.rule_id
                leaf = sha256(
                    b"\x00\x01"
                    + pack_u64(seq)
                    + shared
                    + pack_i64(subject)
                    + item_part(field, rule)
                ).digest()
                rows.append((seq, batch_id, subject, field, rule, leaf))
                leaves.append(leaf)
                seq += 1
        except (struct.error, OverflowError, AttributeError, TypeError) as exc:
            raise LedgerWriteError(f"disclosure subject_id is not a 64-bit integer: {exc}") from exc

        # extend the tree, signing a head at every ``head_every`` records on the way
        blocks: list[bytes] = []
        heads: list[SignedTreeHead] = []
        done = 0
        while done < len(leaves):
            due = state.last_head_size + every - frontier.size
            chunk = leaves[done : done + due]
            blocks.extend(frontier.extend(chunk, SUBTREE_LEVEL))
            done += len(chunk)
            if frontier.size - state.last_head_size >= every:
                heads.append(self._make_head(state))
        # blocks complete in order, the first one being the block that holds first_seq
        first_block = first_seq >> SUBTREE_LEVEL
        subtrees = [(first_block + i, block) for i, block in enumerate(blocks)]
        now_us = to_micros(self.clock.now())
        if seq > state.last_head_size and now_us - state.last_head_at_us >= self._head_interval_us:
            heads.append(self._make_head(state, now_us))

        sql = self._sql
        conn.exec_driver_sql(
            sql["batch"],
            (
                batch_id,
                batch.request_id,
                at_us,
                int(batch.app_id),
                batch.api_version,
                int(batch.owner_id),
                first_seq,
                len(rows),
            ),
        )
        conn.exec_driver_sql(sql["records"], rows)
        if subtrees:
            conn.exec_driver_sql(sql["subtrees"], subtrees)
        self._insert_heads(conn, heads)
        state.next_batch_id = batch_id + 1
        self._save_state(conn, state)
        return AppendReceipt(first_seq=first_seq, count=len(rows), tree_size=frontier.size)

    def _make_head(self, state: _State, now_us: int | None = None) -> SignedTreeHead:
        if now_us is None:
            now_us = to_micros(self.clock.now())
        # never earlier than the previous head: a head older than its predecessor is how
        # verification recognises a rolled-back head
        timestamp = max(now_us, state.last_head_at_us)
        head = self.signer.sign(state.frontier.size, state.frontier.root(), timestamp)
        state.last_head_size = head.tree_size
        state.last_head_at_us = timestamp
        return head

    def _sign(self, conn: Connection, state: _State) -> SignedTreeHead:
        head = self._make_head(state)
        self._insert_heads(conn, [head])
        return head

    def _insert_heads(self, conn: Connection, heads: list[SignedTreeHead]) -> None:
        if not heads:
            return
        conn.exec_driver_sql(
            self._sql["heads"],
            [(h.tree_size, h.root_hash, h.timestamp_us, h.signature, h.key_id) for h in heads],
        )

    def _save_state(self, conn: Connection, state: _State) -> None:
        conn.exec_driver_sql(
            self._sql["state"],
            (
                state.frontier.size,
                state.next_batch_id,
                state.frontier.to_bytes(),
                state.last_head_size,
                state.last_head_at_us,
            ),
        )


def _validate(batch: DisclosureBatch) -> int:
    """Refuse, before touching the store, anything that could not be stored exactly."""
    check_value("request_id", batch.request_id)
    if not isinstance(batch.request_id, str):
        raise LedgerWriteError("disclosure request_id must be a string")
    if batch.api_version not in API_VERSIONS:
        raise LedgerWriteError(f"unknown API version {batch.api_version!r}")
    for name, value in (("app_id", batch.app_id), ("owner_id", batch.owner_id)):
        if not isinstance(value, int):
            raise LedgerWriteError(f"disclosure {name} must be an integer")
        check_value(name, value)
    try:
        at_us = to_micros(batch.at)
    except (TypeError, AttributeError, OverflowError) as exc:
        raise LedgerWriteError(f"disclosure time {batch.at!r} is not a datetime") from exc
    seen: set[tuple[str, str]] = set()
    for item in batch.items:
        # subject ids are checked in the append loop, where ``to_bytes`` refuses non-integers
        # and values beyond 64 bits at no extra cost
        key = (item.field, item.rule_id)
        if key not in seen:  # (field, rule) pairs repeat; check each distinct pair once
            if not isinstance(item.field, str) or not isinstance(item.rule_id, str):
                raise LedgerWriteError("disclosure field and rule_id must be strings")
            check_value("field", item.field)
            check_value("rule_id", item.rule_id)
            seen.add(key)
    return at_us


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else ""


__all__ = ["HEAD_EVERY", "HEAD_INTERVAL_S", "SqlDisclosureLedger"]
