"""What a ledger append checks before it takes the lock, and the SQL it writes with.

The statements are in qmark style; PostgreSQL (psycopg, format style) gets ``?`` replaced by
``%s``. :class:`WriteState` is the state row as an append or an integration pass holds it.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine

from graphwarden.core.errors import LedgerWriteError
from graphwarden.core.types import API_VERSIONS
from graphwarden.ledger.interfaces import DisclosureBatch, DisclosureColumns
from graphwarden.ledger.merkle import MerkleFrontier
from graphwarden.ledger.records import check_value, to_micros

LOCK_SQLITE = (
    "SELECT next_seq, next_batch_id, tree_size, frontier, last_head_size, last_head_at_us "
    "FROM ledger_state WHERE id = 1"
)
LOCK_POSTGRES = LOCK_SQLITE + " FOR UPDATE"
_INSERT_BATCH = (
    "INSERT INTO disclosure_batches (id, request_id, at_us, app_id, api_version, owner_id, "
    "first_seq, count, leaf_hashes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_RECORD_COLUMNS = "seq, batch_id, subject_id, field, rule_id"
COPY_RECORDS = f"COPY disclosures ({_RECORD_COLUMNS}) FROM STDIN (FORMAT BINARY)"
COPY_TYPES = ["int8", "int8", "int8", "text", "text"]
_INSERT_SUBTREES = 'INSERT INTO ledger_subtrees ("index", hash) VALUES (?, ?)'
_INSERT_HEADS = (
    "INSERT INTO signed_tree_heads (tree_size, root_hash, timestamp_us, signature, key_id) "
    "VALUES (?, ?, ?, ?, ?)"
)
_SAVE_STATE = (
    "UPDATE ledger_state SET next_seq = ?, next_batch_id = ?, tree_size = ?, frontier = ?, "
    "last_head_size = ?, last_head_at_us = ? WHERE id = 1"
)
_SAVE_WRITTEN = "UPDATE ledger_state SET next_seq = ?, next_batch_id = ? WHERE id = 1"
_SET_LEAVES = "UPDATE disclosure_batches SET leaf_hashes = ? WHERE id = ?"
STATEMENTS = {
    "lock": LOCK_SQLITE,
    "batch": _INSERT_BATCH,
    "subtrees": _INSERT_SUBTREES,
    "heads": _INSERT_HEADS,
    "state": _SAVE_STATE,
    "written": _SAVE_WRITTEN,
    "leaves": _SET_LEAVES,
}
SQLITE_SYNC_LEVELS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


def insert_records_sql(rows: int) -> str:
    """``INSERT INTO disclosures … VALUES (…), (…), …`` for ``rows`` rows (SQLite)."""
    values = ", ".join(["(?, ?, ?, ?, ?)"] * rows)
    return f"INSERT INTO disclosures ({_RECORD_COLUMNS}) VALUES {values}"  # noqa: S608


class WriteState:
    """The state row: records written (``next_seq``), the tree over the integrated ones
    (``frontier``, of ``frontier.size`` records) and the newest head."""

    __slots__ = ("frontier", "last_head_at_us", "last_head_size", "next_batch_id", "next_seq")

    def __init__(
        self,
        next_seq: int,
        frontier: MerkleFrontier,
        next_batch_id: int,
        head_size: int,
        head_at: int,
    ) -> None:
        self.next_seq = next_seq
        self.frontier = frontier
        self.next_batch_id = next_batch_id
        self.last_head_size = head_size
        self.last_head_at_us = head_at


def driver_errors(engine: Engine) -> tuple[type[BaseException], ...]:
    """The driver's own base exception (``sqlite3.Error``, ``psycopg.Error``): the ledger
    talks to the driver directly, so its errors arrive unwrapped."""
    error = getattr(engine.dialect.loaded_dbapi, "Error", None)
    return (error,) if isinstance(error, type) and issubclass(error, BaseException) else ()


def write_error(what: str, exc: BaseException) -> LedgerWriteError:
    return LedgerWriteError(
        f"{what} could not be written: {exc.__class__.__name__}: {first_line(exc)}"
    )


def columns_of(items: Sequence[Any]) -> tuple[Sequence[int], Sequence[str], Sequence[str]]:
    """Subjects, fields and rules as three sequences (one C-level transpose, or none when the
    batch already holds columns)."""
    if isinstance(items, DisclosureColumns):
        return items.subjects, items.fields, items.rules
    try:
        subjects, fields, rules = zip(*items, strict=True)
    except (TypeError, ValueError) as exc:
        raise LedgerWriteError(
            "disclosure items must be (subject_id, field, rule_id) triples"
        ) from exc
    return subjects, fields, rules


def check_subjects(subjects: Sequence[Any]) -> None:
    """Refuse what the leaf encoding would refuse (a deferred append hashes nothing, so it
    checks here, in one C-level call, that every subject id packs as a 64-bit integer)."""
    try:
        struct.pack(f">{len(subjects)}q", *subjects)
    except (struct.error, OverflowError, TypeError) as exc:
        raise LedgerWriteError(f"disclosure subject_id is not a 64-bit integer: {exc}") from exc


def validate_batch(batch: DisclosureBatch) -> int:
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
    # items are checked per distinct (field, rule) pair in ``_item_parts``, and subject ids
    # by the leaf encoder, which refuses anything that is not a 64-bit integer
    return at_us


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else ""


__all__ = [
    "COPY_RECORDS",
    "COPY_TYPES",
    "LOCK_POSTGRES",
    "SQLITE_SYNC_LEVELS",
    "STATEMENTS",
    "WriteState",
    "check_subjects",
    "columns_of",
    "driver_errors",
    "first_line",
    "insert_records_sql",
    "validate_batch",
    "write_error",
]
