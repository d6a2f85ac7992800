"""The PostgreSQL side of the population loader: ``COPY ... FROM STDIN``.

Profile tables go in as CSV written by Arrow (``FORMAT csv``). The id-pair tables
(friendships, likes) go in as ``FORMAT binary`` rows preformatted by numpy as one structured
array, with the (empty) table's primary key, foreign keys and plain indexes read from
``pg_constraint`` / ``pg_index``, dropped before the COPY and re-added after it inside the same
transaction (with :data:`PG_INDEX_MEMORY`): one sort builds each index and one join validates
each foreign key, instead of a B-tree descent and a parent lookup per row. After the load the
id sequences are moved past the loaded ids.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Table

from graphwarden.core.errors import StoreError
from graphwarden.graph.loader_backend import PairWriter, SetAside, Writer

#: index builds after a COPY sort in memory when they can
PG_INDEX_MEMORY = ["SET LOCAL maintenance_work_mem = '512MB'"]


def postgres_writer(dbapi: Any) -> Writer:
    """Column batches as CSV written by Arrow, through ``COPY ... (FORMAT csv)``."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    options = pacsv.WriteOptions(include_header=False)

    def write(table: Table, cols: list[str], data: dict[str, Any]) -> int:
        arrow = pa.table({c: data[c] for c in cols})
        buf = io.BytesIO()
        pacsv.write_csv(arrow, buf, write_options=options)
        sql = f"COPY {table.name} ({', '.join(cols)}) FROM STDIN (FORMAT csv)"
        with dbapi.cursor() as cur, cur.copy(sql) as copy:
            copy.write(buf.getbuffer())
        return int(arrow.num_rows)

    return write


#: the header of PostgreSQL's binary COPY format: signature, flags, extension length
_PG_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_PG_COPY_TRAILER = b"\xff\xff"


def _pg_pair_rows(
    a: npt.NDArray[np.int64], b: npt.NDArray[np.int64], widths: tuple[int, int]
) -> bytes:
    """Binary COPY tuples of two integer columns: field count, then (length, value) each."""
    dtype = np.dtype(
        [
            ("fields", ">i2"),
            ("len_a", ">i4"),
            ("a", f">i{widths[0]}"),
            ("len_b", ">i4"),
            ("b", f">i{widths[1]}"),
        ]
    )
    rows = np.empty(a.size, dtype=dtype)
    rows["fields"] = 2
    rows["len_a"] = widths[0]
    rows["a"] = a
    rows["len_b"] = widths[1]
    rows["b"] = b
    return rows.tobytes()


def _pg_column_widths(dbapi: Any, table: str, cols: list[str]) -> tuple[int, int]:
    """Byte width (4 or 8) of two integer columns, as the binary format needs them exact."""
    with dbapi.cursor() as cur:
        cur.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped",
            (table,),
        )
        types = dict(cur.fetchall())
    width = {"bigint": 8, "integer": 4}
    try:
        return width[types[cols[0]]], width[types[cols[1]]]
    except KeyError as exc:  # pragma: no cover - the migrations define both as integers
        raise StoreError(f"{table}.{cols}: not integer columns ({types})") from exc


def postgres_pair_writer(dbapi: Any) -> PairWriter:
    """Id pairs as binary COPY rows (each table's column widths are read once)."""
    widths: dict[str, tuple[int, int]] = {}

    def write(
        table: Table, cols: list[str], a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]
    ) -> int:
        if table.name not in widths:
            widths[table.name] = _pg_column_widths(dbapi, table.name, cols)
        sql = f"COPY {table.name} ({', '.join(cols)}) FROM STDIN (FORMAT binary)"
        with dbapi.cursor() as cur, cur.copy(sql) as copy:
            copy.write(_PG_COPY_HEADER)
            copy.write(_pg_pair_rows(a, b, widths[table.name]))
            copy.write(_PG_COPY_TRAILER)
        return int(a.size)

    return write


def pg_set_aside(dbapi: Any, table: str) -> SetAside:
    """Drop the primary key, foreign keys and plain indexes of an empty ``table``."""
    with dbapi.cursor() as cur:
        cur.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")  # noqa: S608 - a table name
        if cur.fetchone()[0]:
            return SetAside(drop=[], restore=[])  # rows already there: keep checking each
        cur.execute(
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('p', 'f')",
            (table,),
        )
        constraints = cur.fetchall()
        cur.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = %s::regclass AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            (table,),
        )
        indexes = cur.fetchall()
    drop = [f'ALTER TABLE {table} DROP CONSTRAINT "{name}"' for name, _, _ in constraints]
    drop += [f"DROP INDEX {name}" for name, _ in indexes]
    # the primary key first (one sort), then the indexes, then the foreign keys (one join each)
    restore = [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
        for name, kind, definition in sorted(constraints, key=lambda c: c[1] != "p")
    ]
    restore[1:1] = [definition for _, definition in indexes]
    return SetAside(drop=drop, restore=restore)


def advance_sequences(dbapi: Any) -> None:
    """After COPY with explicit ids, make the id sequences continue past them."""
    with dbapi.cursor() as cur:
        for table in ("people", "pages"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false) "
                f"WHERE pg_get_serial_sequence('{table}', 'id') IS NOT NULL"
            )


__all__ = [
    "PG_INDEX_MEMORY",
    "advance_sequences",
    "pg_set_aside",
    "postgres_pair_writer",
    "postgres_writer",
]
