"""Bulk load of a generated population into the SQL store, and bulk read of the graph back.

Person index ``i`` of a population is stored as ``people.id = i + 1``; page index ``p`` as
``pages.id = p + 1``. Friendships are written in both directions (two rows each), as the
store expects, in primary-key order (the CSR is sorted), so every insert appends to the
clustered key. Work is chunked so memory stays flat whatever the population size, and the
whole load is one transaction: a failure leaves nothing behind.

PostgreSQL is fed with ``COPY ... FROM STDIN``: CSV written by Arrow for the profile tables,
binary rows preformatted by numpy for the id-pair tables (friendships, likes). The id-pair
tables are loaded with their primary key, foreign keys and secondary indexes set aside and
re-added after the COPY, inside the same transaction: one sort builds each index and one join
validates each foreign key, instead of a B-tree descent and a parent lookup per row.

SQLite runs the load with ``foreign_keys`` off (the pragma only takes effect outside a
transaction) and verifies referential integrity before committing; id pairs go in through
``json_each`` (one statement per million rows, parsed in C), and secondary indexes are
dropped and rebuilt in the same transaction.

The loader refuses a store that already holds people unless ``replace=True``, which first
deletes the people, pages and everything hanging off them.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, Table, func, select
from sqlalchemy.exc import SQLAlchemyError

from graphwarden.core.errors import StoreError
from graphwarden.graph.bulk import BulkGraph
from graphwarden.graph.fields import AUDIENCE_FIELDS, FIELD_BY_NAME, AppsOthersUse
from graphwarden.graph.interfaces import PROFILE_TEXT_COLUMNS
from graphwarden.graph.models import (
    Friendship,
    Like,
    Page,
    Person,
    apps_others_use,
    field_audiences,
)

PEOPLE_CHUNK = 20_000
ENTRY_CHUNK = 1_000_000
#: tables of id pairs, loaded through the fast paths (binary COPY, ``json_each``)
_PAIR_TABLES = frozenset({"friendships", "likes"})
#: index builds after a COPY sort in memory when they can
_PG_INDEX_MEMORY = ["SET LOCAL maintenance_work_mem = '512MB'"]

#: the ``people`` columns a population provides as text (id and platform switch aside)
PROFILE_COLUMNS: tuple[str, ...] = PROFILE_TEXT_COLUMNS


class BulkPopulation(Protocol):
    """What the loader needs of a population (``simulation.Population`` provides it)."""

    n: int
    indptr: npt.NDArray[np.int64]
    indices: npt.NDArray[np.int32]
    audience: npt.NDArray[np.uint8]
    shares: npt.NDArray[np.uint8]
    platform_enabled: npt.NDArray[np.bool_]
    likes_indptr: npt.NDArray[np.int64]
    likes_indices: npt.NDArray[np.int32]

    @property
    def n_pages(self) -> int: ...

    def page_names(self, start: int = 0, stop: int | None = None) -> list[str]: ...

    def page_category_names(self, start: int = 0, stop: int | None = None) -> list[str]: ...

    def profile_columns(self, start: int, stop: int) -> dict[str, list[str | None]]: ...


@dataclass(slots=True)
class LoadReport:
    """Rows written per table and how long it took."""

    backend: str
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def records(self) -> int:
        return sum(self.rows.values())

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "rows": dict(self.rows),
            "records": self.records,
            "seconds": round(self.seconds, 3),
            "records_per_second": round(self.records_per_second, 1),
        }


# --- row batches ------------------------------------------------------------------------------


Batch = tuple[list[str], dict[str, Sequence[Any]]]


def _people_batches(pop: BulkPopulation) -> Iterator[Batch]:
    cols = ["id", *PROFILE_COLUMNS, "platform_enabled"]
    for a in range(0, pop.n, PEOPLE_CHUNK):
        b = min(a + PEOPLE_CHUNK, pop.n)
        data: dict[str, Sequence[Any]] = {"id": list(range(a + 1, b + 1))}
        data.update(pop.profile_columns(a, b))
        data["platform_enabled"] = pop.platform_enabled[a:b].tolist()
        yield cols, data


def _audience_batches(pop: BulkPopulation) -> Iterator[Batch]:
    cols = ["person_id", *AUDIENCE_FIELDS]
    for a in range(0, pop.n, PEOPLE_CHUNK * 5):
        b = min(a + PEOPLE_CHUNK * 5, pop.n)
        data: dict[str, Sequence[Any]] = {"person_id": list(range(a + 1, b + 1))}
        for name in AUDIENCE_FIELDS:
            data[name] = pop.audience[a:b, FIELD_BY_NAME[name].index].astype(np.int16).tolist()
        yield cols, data


def _sharing_batches(pop: BulkPopulation) -> Iterator[Batch]:
    cols = ["person_id", *[c.label for c in AppsOthersUse]]
    for a in range(0, pop.n, PEOPLE_CHUNK * 5):
        b = min(a + PEOPLE_CHUNK * 5, pop.n)
        data: dict[str, Sequence[Any]] = {"person_id": list(range(a + 1, b + 1))}
        bits = pop.shares[a:b]
        for c in AppsOthersUse:
            data[c.label] = ((bits >> int(c)) & 1).astype(bool).tolist()
        yield cols, data


def _page_batches(pop: BulkPopulation) -> Iterator[Batch]:
    for a in range(0, pop.n_pages, PEOPLE_CHUNK * 5):
        b = min(a + PEOPLE_CHUNK * 5, pop.n_pages)
        yield (
            ["id", "name", "category"],
            {
                "id": list(range(a + 1, b + 1)),
                "name": pop.page_names(a, b),
                "category": pop.page_category_names(a, b),
            },
        )


def _csr_batches(
    indptr: npt.NDArray[np.int64], indices: npt.NDArray[np.int32], cols: list[str]
) -> Iterator[tuple[list[str], dict[str, npt.NDArray[np.int64]]]]:
    """(row id, column id) pairs of a CSR, both 1-based, about ``ENTRY_CHUNK`` at a time."""
    n = indptr.size - 1
    a = 0
    while a < n:
        # as many rows as fit in one chunk (at least one)
        b = int(np.searchsorted(indptr, indptr[a] + ENTRY_CHUNK, side="right")) - 1
        b = min(max(b, a + 1), n)
        lo, hi = int(indptr[a]), int(indptr[b])
        rows = np.repeat(np.arange(a + 1, b + 1, dtype=np.int64), np.diff(indptr[a : b + 1]))
        yield cols, {cols[0]: rows, cols[1]: indices[lo:hi].astype(np.int64) + 1}
        a = b


# --- writers ----------------------------------------------------------------------------------


Writer = Callable[[Table, list[str], dict[str, Any]], int]


def _sqlite_writer(dbapi: Any) -> Writer:
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


def _postgres_writer(dbapi: Any) -> Writer:
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


PairWriter = Callable[[Table, list[str], npt.NDArray[np.int64], npt.NDArray[np.int64]], int]

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


def _postgres_pair_writer(dbapi: Any) -> PairWriter:
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


def _sqlite_pair_writer(dbapi: Any) -> PairWriter:
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


@dataclass(frozen=True, slots=True)
class _SetAside:
    """Constraints and indexes of a table dropped for a bulk load, and how to re-add them."""

    drop: list[str]
    restore: list[str]


def _pg_set_aside(dbapi: Any, table: str) -> _SetAside:
    """Drop the primary key, foreign keys and plain indexes of an empty ``table``."""
    with dbapi.cursor() as cur:
        cur.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")  # noqa: S608 - a table name
        if cur.fetchone()[0]:
            return _SetAside(drop=[], restore=[])  # rows already there: keep checking each
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
    return _SetAside(drop=drop, restore=restore)


def _sqlite_set_aside(dbapi: Any, table: str) -> _SetAside:
    """Drop the secondary indexes of ``table`` (rebuilt by one sort after the load)."""
    found = dbapi.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
        "AND sql IS NOT NULL",
        (table,),
    ).fetchall()
    return _SetAside(
        drop=[f'DROP INDEX "{name}"' for name, _ in found], restore=[sql for _, sql in found]
    )


def _run(dbapi: Any, statements: list[str]) -> None:
    for statement in statements:
        dbapi.execute(statement)


def _sqlite_check_references(dbapi: Any, tables: list[str]) -> None:
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


@contextmanager
def _raw_connection(engine: Engine) -> Iterator[tuple[Any, str]]:
    backend = engine.dialect.name
    raw = engine.raw_connection()
    dbapi = getattr(raw, "driver_connection", None) or raw.dbapi_connection
    if backend == "sqlite":
        # only outside a transaction does the pragma act; integrity is verified before commit
        dbapi.execute("PRAGMA foreign_keys=OFF")
        cache = dbapi.execute("PRAGMA cache_size").fetchone()[0]
        dbapi.execute("PRAGMA cache_size=-262144")  # 256 MiB for the B-tree inserts
        dbapi.execute("BEGIN")  # index drops and rebuilds belong to the load's transaction
    try:
        yield dbapi, backend
        raw.commit()
    except BaseException:
        raw.rollback()
        raise
    finally:
        if backend == "sqlite":
            dbapi.execute(f"PRAGMA cache_size={int(cache)}")
            dbapi.execute("PRAGMA foreign_keys=ON")
        raw.close()


def _tables() -> list[tuple[str, Table]]:
    return [
        ("pages", Page.__table__),  # type: ignore[list-item]
        ("people", Person.__table__),  # type: ignore[list-item]
        ("field_audiences", field_audiences),
        ("apps_others_use", apps_others_use),
        ("friendships", Friendship.__table__),  # type: ignore[list-item]
        ("likes", Like.__table__),  # type: ignore[list-item]
    ]


def people_count(engine: Engine) -> int:
    """How many people the store holds."""
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(select(func.count()).select_from(Person.__table__)).scalar_one()
            )
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read the people table: {exc.__class__.__name__}") from exc


def clear_population(engine: Engine) -> None:
    """Delete every person and page and the rows hanging off them."""
    try:
        with engine.begin() as conn:
            for _, table in reversed(_tables()):
                conn.execute(table.delete())
    except SQLAlchemyError as exc:
        raise StoreError(f"could not clear the store: {exc.__class__.__name__}: {exc}") from exc


def load_population(
    engine: Engine,
    population: BulkPopulation,
    *,
    replace: bool = False,
    progress: bool = False,
) -> LoadReport:
    """Write ``population`` into the (migrated) store behind ``engine``.

    Raises ``StoreError`` when the store already holds people and ``replace`` is false.
    """
    existing = people_count(engine)
    if existing and not replace:
        raise StoreError(
            f"the store already holds {existing:,} people: load into an empty store "
            "or replace them (--replace)"
        )
    if existing:
        clear_population(engine)
    pop = population
    plan: list[tuple[str, Table, int, Iterator[Batch] | Iterator[Any]]] = []
    tables = dict(_tables())
    plan.append(("pages", tables["pages"], pop.n_pages, _page_batches(pop)))
    plan.append(("people", tables["people"], pop.n, _people_batches(pop)))
    plan.append(("field_audiences", tables["field_audiences"], pop.n, _audience_batches(pop)))
    plan.append(("apps_others_use", tables["apps_others_use"], pop.n, _sharing_batches(pop)))
    plan.append(
        (
            "friendships",
            tables["friendships"],
            int(pop.indices.size),
            _csr_batches(pop.indptr, pop.indices, ["person_id", "friend_id"]),
        )
    )
    plan.append(
        (
            "likes",
            tables["likes"],
            int(pop.likes_indices.size),
            _csr_batches(pop.likes_indptr, pop.likes_indices, ["person_id", "page_id"]),
        )
    )
    started = time.perf_counter()
    report = LoadReport(backend=engine.dialect.name)
    try:
        with _raw_connection(engine) as (dbapi, backend), _progress(progress) as advance:
            postgres = backend == "postgresql"
            write = _postgres_writer(dbapi) if postgres else _sqlite_writer(dbapi)
            write_pairs = _postgres_pair_writer(dbapi) if postgres else _sqlite_pair_writer(dbapi)
            for name, table, total, batches in plan:
                report.rows[name] = 0
                pairs = name in _PAIR_TABLES
                aside = _SetAside(drop=[], restore=[])
                if pairs:
                    aside = (_pg_set_aside if postgres else _sqlite_set_aside)(dbapi, name)
                    _run(dbapi, _PG_INDEX_MEMORY if postgres and aside.drop else [])
                    _run(dbapi, aside.drop)
                for cols, data in batches:
                    if pairs:
                        written = write_pairs(table, cols, data[cols[0]], data[cols[1]])
                    else:
                        written = write(table, cols, data)
                    report.rows[name] += written
                    advance(name, total, written)
                _run(dbapi, aside.restore)
            if postgres:
                _advance_sequences(dbapi)
            else:
                _sqlite_check_references(dbapi, [name for name, *_ in plan])
    except SQLAlchemyError as exc:
        raise StoreError(f"bulk load failed: {exc.__class__.__name__}: {exc}") from exc
    except Exception as exc:
        # driver errors (sqlite3, psycopg) are not SQLAlchemy's: report them the same way
        if exc.__class__.__module__.split(".")[0] in ("sqlite3", "psycopg"):
            raise StoreError(f"bulk load failed: {exc.__class__.__name__}: {exc}") from exc
        raise
    report.seconds = time.perf_counter() - started
    return report


def _advance_sequences(dbapi: Any) -> None:
    """After COPY with explicit ids, make the id sequences continue past them."""
    with dbapi.cursor() as cur:
        for table in ("people", "pages"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false) "
                f"WHERE pg_get_serial_sequence('{table}', 'id') IS NOT NULL"
            )


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str, int, int], None]]:
    if not enabled:
        yield lambda _name, _total, _n: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    tasks: dict[str, Any] = {}
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    ) as bar:

        def advance(name: str, total: int, n: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(f"loading {name}", total=total)
            bar.advance(tasks[name], n)

        yield advance


# --- reading back -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredGraph:
    """The store's friendship graph in CSR form, with the id and country of each row."""

    graph: BulkGraph
    person_ids: npt.NDArray[np.int64]
    country: npt.NDArray[np.str_]


def read_graph(engine: Engine, *, fetch: int = 500_000) -> StoredGraph:
    """Read people and friendships from the store into CSR arrays (row = rank of the id)."""
    try:
        with engine.connect() as conn:
            people = conn.execute(
                select(Person.__table__.c.id, Person.__table__.c.country).order_by(
                    Person.__table__.c.id
                )
            ).all()
            ids = np.array([p[0] for p in people], dtype=np.int64)
            country = np.array([p[1] or "" for p in people], dtype="U2")
            f = Friendship.__table__.c
            result = conn.execution_options(stream_results=True, yield_per=fetch).execute(
                select(f.person_id, f.friend_id)
            )
            a_parts: list[npt.NDArray[np.int64]] = []
            b_parts: list[npt.NDArray[np.int64]] = []
            for part in result.partitions(fetch):
                arr = np.array(part, dtype=np.int64).reshape(-1, 2)
                a_parts.append(arr[:, 0])
                b_parts.append(arr[:, 1])
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read the graph: {exc.__class__.__name__}: {exc}") from exc
    a = np.concatenate(a_parts) if a_parts else np.empty(0, dtype=np.int64)
    b = np.concatenate(b_parts) if b_parts else np.empty(0, dtype=np.int64)
    graph = BulkGraph.from_edges(ids.size, np.searchsorted(ids, a), np.searchsorted(ids, b))
    return StoredGraph(graph=graph, person_ids=ids, country=country)


__all__ = [
    "PROFILE_COLUMNS",
    "BulkPopulation",
    "LoadReport",
    "StoredGraph",
    "clear_population",
    "load_population",
    "people_count",
    "read_graph",
]
