"""The SQL disclosure ledger: append batches, extend the Merkle tree, sign tree heads.

An append is one transaction. It takes the ledger's write lock (SQLite ``BEGIN IMMEDIATE``;
PostgreSQL ``SELECT … FOR UPDATE`` on the one ``ledger_state`` row), reads the next sequence
number and the Merkle frontier from that row, inserts the batch row (carrying its records' leaf
hashes in one value) and one narrow row per record, any completed subtree hashes and signed
tree heads, writes the state back and commits. Either all of it is durable when ``append``
returns, or none of it is and ``LedgerWriteError`` is raised: the caller must then serve
nothing.

It is the Graph API's hot path (one call per response, typically 500 records), so it works on
the driver's own connection rather than through SQLAlchemy's statement layer, computes the
leaves and the tree with C-level ``map`` calls (:func:`~graphwarden.ledger.records.leaf_hashes`,
:meth:`~graphwarden.ledger.merkle.MerkleFrontier.extend`), and writes the records with
multi-row ``INSERT … VALUES`` statements on SQLite (about half the cost of ``executemany``) and
``COPY`` on PostgreSQL. Everything that can be checked without the store (the batch's values,
each distinct ``(field, rule)`` pair) is checked before the lock is taken.

Durability: "log before disclose" means a record must survive anything the response might, so
the ledger's own commits are fully durable by default. PostgreSQL commits are
(``synchronous_commit=on``, one WAL flush per append); on SQLite the ledger's commits run with
``synchronous=FULL`` (one fsync of the write-ahead log per append, i.e. per response) and the
connection goes back to the pool with its previous setting. ``sqlite_synchronous="NORMAL"``
survives a process crash but not an operating-system crash or power loss; it exists for
simulations and benchmarks that rebuild their store anyway.

Tree heads are signed inside the append that makes them due: when the last head is at least
``head_interval_s`` old, and at every ``head_every`` records. :meth:`publish_head` signs one on
demand (at shutdown, on a timer through :class:`~graphwarden.ledger.publisher.HeadPublisher`,
or before proving the newest records).

Integration. With ``integration="inline"`` (the default) an append also hashes its records and
extends the tree, as above. With ``integration="deferred"`` an append only makes the records
durable (their batch's ``leaf_hashes`` left empty) and returns; :meth:`integrate`, run by one
integrator process (:mod:`graphwarden.ledger.integrator`, which ``graphwarden serve`` starts),
hashes what was written since, extends the tree and signs the heads, a fraction of a second
later. This is how Certificate Transparency logs split the work: the request path writes,
the integrator builds and signs, and the API workers need no signing key. Records are
covered by a signed head within about a second either way; until then they are durable but
not yet tamper-evident, in both modes.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import chain, islice, repeat
from typing import Any, Literal

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from graphwarden.core.clock import Clock
from graphwarden.core.errors import LedgerWriteError
from graphwarden.ledger.interfaces import AppendReceipt, DisclosureBatch
from graphwarden.ledger.merkle import MerkleFrontier
from graphwarden.ledger.models import SUBTREE_LEVEL
from graphwarden.ledger.pending import Pending, read_pending
from graphwarden.ledger.records import (
    LeafEncoder,
    batch_part,
    check_value,
    leaf_hashes,
    to_micros,
)
from graphwarden.ledger.signing import LedgerSigner, SignedTreeHead
from graphwarden.ledger.writing import (
    COPY_RECORDS,
    COPY_TYPES,
    LOCK_POSTGRES,
    SQLITE_SYNC_LEVELS,
    STATEMENTS,
    WriteState,
    check_subjects,
    columns_of,
    driver_errors,
    insert_records_sql,
    validate_batch,
    write_error,
)

HEAD_INTERVAL_S = 1.0
HEAD_EVERY = 10_000
#: rows per multi-row INSERT on SQLite: 500 x 5 = 2,500 parameters, well under SQLite's limit
#: of 32,766, and one statement per Graph API page
ROWS_PER_INSERT = 500
#: records an integration pass takes at most (whole batches; bounds its memory and lock time)
INTEGRATE_LIMIT = 100_000
Synchronous = Literal["FULL", "NORMAL"]
Integration = Literal["inline", "deferred"]


class SqlDisclosureLedger:
    """:class:`~graphwarden.ledger.interfaces.DisclosureLedger` on SQLite or PostgreSQL.

    ``sqlite_synchronous`` is the SQLite ``synchronous`` level of the ledger's own commits:
    ``"FULL"`` (the default) survives power loss, ``"NORMAL"`` only a process crash.
    ``integration``: ``"inline"`` (appends extend the tree and sign heads; needs ``signer``) or
    ``"deferred"`` (appends only write; :meth:`integrate` does the rest, where a signer is).

    >>> ledger = SqlDisclosureLedger(engine, LedgerSigner.load_or_create(data_dir), clock)
    ... # doctest: +SKIP
    >>> ledger.append(batch).first_seq  # doctest: +SKIP
    0
    """

    def __init__(
        self,
        engine: Engine,
        signer: LedgerSigner | None,
        clock: Clock,
        *,
        head_interval_s: float = HEAD_INTERVAL_S,
        head_every: int = HEAD_EVERY,
        sqlite_synchronous: Synchronous = "FULL",
        integration: Integration = "inline",
    ) -> None:
        if head_every < 1:
            raise ValueError("head_every must be at least 1")
        if sqlite_synchronous not in ("FULL", "NORMAL"):
            raise ValueError("sqlite_synchronous must be FULL or NORMAL")
        if integration not in ("inline", "deferred"):
            raise ValueError("integration must be inline or deferred")
        if integration == "inline" and signer is None:
            raise ValueError("a ledger that integrates inline signs heads: it needs a signer")
        self.engine = engine
        self.signer = signer
        self.integration: Integration = integration
        self.clock = clock
        self._head_interval_us = int(head_interval_s * 1_000_000)
        self._head_every = head_every
        self._sqlite = engine.dialect.name == "sqlite"
        self._marker = "?" if self._sqlite else "%s"
        self._synchronous = sqlite_synchronous
        self._sql = dict(STATEMENTS)
        if not self._sqlite:
            self._sql = {k: v.replace("?", "%s") for k, v in STATEMENTS.items()}
            self._sql["lock"] = LOCK_POSTGRES
        self._encoder = LeafEncoder()
        self._insert_sql: dict[int, str] = {}
        self.driver_errors = driver_errors(engine)

    # -- writing -------------------------------------------------------------------------

    def append(self, batch: DisclosureBatch) -> AppendReceipt:
        """Make ``batch`` durable, or raise ``LedgerWriteError`` having written nothing."""
        at_us = validate_batch(batch)
        if not batch.items:
            with self._transaction("disclosure records") as cur:
                state = self._lock(cur)
            return AppendReceipt(first_seq=state.next_seq, count=0, tree_size=state.frontier.size)
        subjects, fields, rules = columns_of(batch.items)
        parts = self._item_parts(fields, rules)
        shared = batch_part(
            at_us, batch.request_id, batch.app_id, batch.api_version, batch.owner_id
        )
        if self.integration == "deferred":
            check_subjects(subjects)
        with self._transaction("disclosure records") as cur:
            state = self._lock(cur)
            first_seq = state.next_seq
            columns = (subjects, fields, rules)
            if self.integration == "deferred":
                self._write_batch(cur, state, batch, at_us, columns, b"")
                cur.execute(self._sql["written"], (state.next_seq, state.next_batch_id))
                return AppendReceipt(first_seq, len(subjects), state.frontier.size)
            if state.frontier.size < first_seq:
                # records a deferred writer left: they go into the tree first, in order
                self._integrate_pending(cur, state, first_seq - state.frontier.size)
            try:
                items = map(parts.__getitem__, zip(fields, rules, strict=True))
                leaves = leaf_hashes(first_seq, shared, subjects, items)
            except (struct.error, OverflowError, TypeError) as exc:
                raise LedgerWriteError(
                    f"disclosure subject_id is not a 64-bit integer: {exc}"
                ) from exc
            self._write_batch(cur, state, batch, at_us, columns, b"".join(leaves))
            self._extend(cur, state, leaves)
            self._save_state(cur, state)
        return AppendReceipt(first_seq, len(leaves), state.frontier.size)

    def integrate(self, limit: int = INTEGRATE_LIMIT) -> int:
        """Hash the records written since the tree's size (whole batches, about ``limit``
        records at most), store their leaf hashes, extend the tree and sign the heads that
        fall due; return how many records were integrated (0: nothing was pending, or another
        integrator got there first). Raises ``LedgerWriteError`` having changed nothing when
        the pending records cannot be read or do not continue the log."""
        if self.signer is None:
            raise LedgerWriteError("integrating the tree needs the ledger's signing key")
        # read and hash without the write lock (committed records never change), then take
        # it only to store the result, if no other integrator moved the tree meanwhile
        try:
            with self.engine.connect() as conn:
                cur = conn.connection.driver_connection.cursor()
                try:
                    cur.execute("SELECT tree_size FROM ledger_state WHERE id = 1")
                    row = cur.fetchone()
                    if row is None:
                        raise LedgerWriteError(
                            "the ledger is not initialised: run `graphwarden db upgrade`"
                        )
                    pending = read_pending(cur, self._marker, int(row[0]), limit)
                finally:
                    cur.close()
        except (SQLAlchemyError, OSError, *self.driver_errors) as exc:
            raise write_error("tree integration", exc) from exc
        if pending is None:
            return 0
        with self._transaction("tree integration") as cur:
            state = self._lock(cur)
            if state.frontier.size != pending.start:
                return 0
            self._store_pending(cur, state, pending)
            self._save_state(cur, state)
        return pending.count

    def publish_head(self) -> SignedTreeHead | None:
        """Sign a tree head now if records were appended since the last one.

        Returns the new head, or ``None`` when the latest head already covers every record.
        """
        if self.signer is None:
            raise LedgerWriteError("signing a tree head needs the ledger's signing key")
        # records a deferred writer left go into the tree first (none, for an inline ledger)
        while self.integrate() >= INTEGRATE_LIMIT:
            pass
        with self._transaction("tree head") as cur:
            state = self._lock(cur)
            head = None
            if state.frontier.size > state.last_head_size:
                head = self._make_head(state)
                self._insert_heads(cur, [head])
                self._save_state(cur, state)
        return head

    @contextmanager
    def _transaction(self, what: str) -> Iterator[Any]:
        """A driver cursor inside one write transaction, committed on success; any store
        failure becomes ``LedgerWriteError`` with nothing written."""
        try:
            conn = self.engine.raw_connection()
        except (SQLAlchemyError, OSError, *self.driver_errors) as exc:
            raise write_error(what, exc) from exc
        restore: str | None = None
        try:
            cur = conn.cursor()
            if self._sqlite:
                restore = self._set_synchronous(cur)
                # take the write lock before reading the state, so two writers never read
                # the same next_seq (a deferred transaction would upgrade its lock too late)
                cur.execute("BEGIN IMMEDIATE")
            yield cur
            conn.commit()
        except BaseException as exc:
            try:
                conn.rollback()
            except (SQLAlchemyError, OSError, *self.driver_errors):
                conn.invalidate()  # a connection that cannot roll back is not reused
            if isinstance(exc, (SQLAlchemyError, OSError, *self.driver_errors)):
                raise write_error(what, exc) from exc
            raise
        finally:
            if restore is not None:
                try:
                    conn.cursor().execute(f"PRAGMA synchronous={restore}")
                except (SQLAlchemyError, OSError, *self.driver_errors):
                    conn.invalidate()  # never hand other writers a connection left on FULL
            conn.close()

    def _set_synchronous(self, cur: Any) -> str | None:
        """Switch this connection to the ledger's ``synchronous`` level; return the level to
        restore afterwards (``None`` when it is already the ledger's)."""
        current = SQLITE_SYNC_LEVELS.get(cur.execute("PRAGMA synchronous").fetchone()[0])
        if current == self._synchronous:
            return None
        cur.execute(f"PRAGMA synchronous={self._synchronous}")
        return current or "NORMAL"

    def _lock(self, cur: Any) -> WriteState:
        cur.execute(self._sql["lock"])
        row = cur.fetchone()
        if row is None:
            raise LedgerWriteError("the ledger is not initialised: run `graphwarden db upgrade`")
        next_seq, next_batch_id, tree_size, frontier, head_size, head_at = row
        return WriteState(
            int(next_seq),
            MerkleFrontier.from_bytes(int(tree_size), bytes(frontier)),
            int(next_batch_id),
            int(head_size),
            int(head_at),
        )

    def _item_parts(
        self, fields: Sequence[str], rules: Sequence[str]
    ) -> dict[tuple[str, str], bytes]:
        """The encoded ``(field, rule)`` tail of every distinct pair in the batch, each pair
        checked once (a page of 500 records has a handful)."""
        try:
            distinct = set(zip(fields, rules, strict=True))
        except TypeError as exc:  # an unhashable value: certainly not a string
            raise LedgerWriteError("disclosure field and rule_id must be strings") from exc
        item = self._encoder.item
        parts = {}
        for field, rule in distinct:
            if not isinstance(field, str) or not isinstance(rule, str):
                raise LedgerWriteError("disclosure field and rule_id must be strings")
            check_value("field", field)
            check_value("rule_id", rule)
            parts[field, rule] = item(field, rule)
        return parts

    def _write_batch(
        self,
        cur: Any,
        state: WriteState,
        batch: DisclosureBatch,
        at_us: int,
        columns: tuple[Sequence[int], Sequence[str], Sequence[str]],
        leaves: bytes,
    ) -> None:
        """Insert the batch row (with its records' leaf hashes, or empty ones for the
        integrator to fill) and its records at ``state.next_seq``; advance the state."""
        subjects, fields, rules = columns
        first_seq = state.next_seq
        count = len(subjects)
        batch_id = state.next_batch_id
        cur.execute(
            self._sql["batch"],
            (
                batch_id,
                batch.request_id,
                at_us,
                int(batch.app_id),
                batch.api_version,
                int(batch.owner_id),
                first_seq,
                count,
                leaves,
            ),
        )
        rows = zip(range(first_seq, first_seq + count), repeat(batch_id), subjects, fields, rules)
        if self._sqlite:
            self._insert_records(cur, rows, count)
        else:
            with cur.copy(COPY_RECORDS) as copy:
                copy.set_types(COPY_TYPES)
                for row in rows:
                    copy.write_row(row)
        state.next_seq = first_seq + count
        state.next_batch_id = batch_id + 1

    def _extend(self, cur: Any, state: WriteState, leaves: list[bytes]) -> None:
        """Push ``leaves`` onto the tree; store the completed subtree hashes and the heads
        that fall due (every ``head_every`` records, and when the last is old enough)."""
        frontier = state.frontier
        # blocks complete in order, the first one being the block that holds the old size
        first_block = frontier.size >> SUBTREE_LEVEL
        count = len(leaves)
        every = self._head_every
        blocks: list[bytes] = []
        heads: list[SignedTreeHead] = []
        done = 0
        while done < count:
            due = state.last_head_size + every - frontier.size
            chunk = leaves[done : done + due]
            blocks.extend(frontier.extend(chunk, SUBTREE_LEVEL))
            done += len(chunk)
            if frontier.size - state.last_head_size >= every:
                heads.append(self._make_head(state))
        now_us = to_micros(self.clock.now())
        if (
            frontier.size > state.last_head_size
            and now_us - state.last_head_at_us >= self._head_interval_us
        ):
            heads.append(self._make_head(state, now_us))
        if blocks:
            cur.executemany(
                self._sql["subtrees"], [(first_block + i, b) for i, b in enumerate(blocks)]
            )
        self._insert_heads(cur, heads)

    def _integrate_pending(self, cur: Any, state: WriteState, count: int) -> None:
        """Integrate, under the lock already held, the ``count`` records after the tree."""
        pending = read_pending(cur, self._marker, state.frontier.size, count)
        if pending is None or pending.end != state.frontier.size + count:
            raise LedgerWriteError(
                f"records {state.frontier.size}..{state.frontier.size + count - 1} are not "
                "stored as written; run `graphwarden ledger verify`"
            )
        self._store_pending(cur, state, pending)

    def _store_pending(self, cur: Any, state: WriteState, pending: Pending) -> None:
        cur.executemany(self._sql["leaves"], [(h, b_id) for b_id, h in pending.batches])
        self._extend(cur, state, pending.leaves)

    def _insert_records(self, cur: Any, rows: Iterator[tuple[Any, ...]], count: int) -> None:
        """SQLite: multi-row INSERTs of up to ``ROWS_PER_INSERT`` rows (one statement, and
        one trip through the driver, per 500 rows instead of one per row)."""
        done = 0
        while done < count:
            n = min(ROWS_PER_INSERT, count - done)
            sql = self._insert_sql.get(n)
            if sql is None:
                sql = self._insert_sql.setdefault(n, insert_records_sql(n))
            params = list(chain.from_iterable(islice(rows, n)))
            cur.execute(sql, params)
            done += n

    def _make_head(self, state: WriteState, now_us: int | None = None) -> SignedTreeHead:
        if self.signer is None:
            raise LedgerWriteError("signing a tree head needs the ledger's signing key")
        if now_us is None:
            now_us = to_micros(self.clock.now())
        # never earlier than the previous head: a head older than its predecessor is how
        # verification recognises a rolled-back head
        timestamp = max(now_us, state.last_head_at_us)
        head = self.signer.sign(state.frontier.size, state.frontier.root(), timestamp)
        state.last_head_size = head.tree_size
        state.last_head_at_us = timestamp
        return head

    def _insert_heads(self, cur: Any, heads: list[SignedTreeHead]) -> None:
        if not heads:
            return
        cur.executemany(
            self._sql["heads"],
            [(h.tree_size, h.root_hash, h.timestamp_us, h.signature, h.key_id) for h in heads],
        )

    def _save_state(self, cur: Any, state: WriteState) -> None:
        cur.execute(
            self._sql["state"],
            (
                state.next_seq,
                state.next_batch_id,
                state.frontier.size,
                state.frontier.to_bytes(),
                state.last_head_size,
                state.last_head_at_us,
            ),
        )


__all__ = ["HEAD_EVERY", "HEAD_INTERVAL_S", "SqlDisclosureLedger"]
