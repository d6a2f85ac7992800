"""The SQLite side of the population loader.

Profile tables go in through ``executemany``; id pairs (friendships, likes) one million at a
time as ``INSERT ... SELECT value >> 32, value & 4294967295 FROM json_each(?)`` (one JSON
array parsed by SQLite in C: about twice ``executemany``). Secondary indexes of the id-pair
tables are dropped and rebuilt in the load's transaction. The load runs with ``foreign_keys``
off (see ``graphwarden.graph.loader``), so :func:`sqlite_check_references` verifies every
reference of the loaded tables before the commit.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Table

from graphwarden.core.errors import StoreError
from graphwarden.graph.loader_backend import PairWriter, SetAside, Writer


def sqlite_writer(dbapi: Any) -> Writer:
    """Column batches through ``executemany``."""

    def write(table: Table, cols: list[str], data: dict[str, Any]) -> int:
        columns = [data[c].tolist() if isinstance(data[c], np.ndarray) else data[c] for c in cols]
        sql = (
            f"INSERT INTO {table.name} ({', '.join(cols)}) "  # noqa: S608 - names from metadata
            f"VALUES ({', '.join('?' for _ in cols)})"
        )
        rows = list(zip(*columns, strict=True))
        dbapi.executemany(sql, rows)
        return len(rows)

    return write


def sqlite_pair_writer(dbapi: Any) -> PairWriter:
    """Id pairs as one ``json_each`` INSERT per batch."""

    def write(
        table: Table, cols: list[str], a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]
    ) -> int:
        # one JSON array of (a << 32 | b) parsed by SQLite in C: about twice executemany
        packed = (a << 32) | b
        sql = (
            f"INSERT INTO {table.name} ({', '.join(cols)}) "  # noqa: S608 - names from metadata
            "SELECT value >> 32, value & 4294967295 FROM json_each(?)"
        )
        dbapi.execute(sql, (json.dumps(packed.tolist()),))
        return int(a.size)

    return write


def sqlite_set_aside(dbapi: Any, table: str) -> SetAside:
    """Drop the secondary indexes of ``table`` (rebuilt by one sort after the load)."""
    found = dbapi.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
        "AND sql IS NOT NULL",
        (table,),
    ).fetchall()
    return SetAside(
        drop=[f'DROP INDEX "{name}"' for name, _ in found], restore=[sql for _, sql in found]
    )


def sqlite_check_references(dbapi: Any, tables: list[str]) -> None:
    """Verify the foreign keys of the tables loaded with enforcement off.

    People and page ids are written as ``1..n``: when a parent table's ids are contiguous, a
    child column inside ``[min, max]`` proves every reference (one scan instead of one lookup
    per row). Otherwise SQLite's own ``foreign_key_check`` decides.
    """
    parents: dict[str, tuple[int, int, int]] = {}
    for table in tables:
        for fk in dbapi.execute(f"PRAGMA foreign_key_list({table})").fetchall():
            parent, column, target = fk[2], fk[3], fk[4]
            if parent not in parents:
                parents[parent] = dbapi.execute(
                    f"SELECT count(*), min({target}), max({target}) FROM {parent}"  # noqa: S608
                ).fetchone()
            count, lo, hi = parents[parent]
            if count and hi - lo + 1 == count:
                bad = dbapi.execute(
                    f"SELECT 1 FROM {table} WHERE {column} < ? OR {column} > ? LIMIT 1",  # noqa: S608
                    (lo, hi),
                ).fetchone()
            elif not count:
                bad = dbapi.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone()  # noqa: S608
            else:
                bad = dbapi.execute(f"PRAGMA foreign_key_check({table})").fetchone()
            if bad is not None:
                raise StoreError(f"bulk load broke a reference from {table} to {parent}")


__all__ = ["sqlite_check_references", "sqlite_pair_writer", "sqlite_set_aside", "sqlite_writer"]
