"""Bulk load of a generated population into the SQL store, and bulk read of the graph back.

Person index ``i`` of a population is stored as ``people.id = i + 1``; page index ``p`` as
``pages.id = p + 1``. Friendships are written in both directions (two rows each), as the
store expects, in primary-key order (the CSR is sorted), so every insert appends to the
clustered key. Work is chunked so memory stays flat whatever the population size, and the
whole load is one transaction: a failure leaves nothing behind.

This module holds the public API, the row batches cut from a population, the connection and
transaction handling, and the load plan that drives a backend; the backends hold the writes:

- :mod:`graphwarden.graph.loader_postgres`: ``COPY ... FROM STDIN`` (CSV by Arrow for the
  profile tables, binary rows by numpy for the id-pair tables, which are loaded with their
  primary key, foreign keys and secondary indexes set aside and re-added after the COPY,
  inside the same transaction).
- :mod:`graphwarden.graph.loader_sqlite`: id pairs through ``json_each``, secondary indexes
  dropped and rebuilt in the same transaction. SQLite runs the load with ``foreign_keys`` off
  (the pragma only takes effect outside a transaction, so it is set here, on the raw
  connection) and verifies referential integrity before committing.

The loader refuses a store that already holds people unless ``replace=True``, which first
deletes the people, pages and everything hanging off them.
"""

from __future__ import annotations

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
from graphwarden.graph.loader_backend import SetAside
from graphwarden.graph.loader_postgres import (
    PG_INDEX_MEMORY,
    advance_sequences,
    pg_set_aside,
    postgres_pair_writer,
    postgres_writer,
)
from graphwarden.graph.loader_sqlite import (
    sqlite_check_references,
    sqlite_pair_writer,
    sqlite_set_aside,
    sqlite_writer,
)
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


# --- loading ----------------------------------------------------------------------------------


def _run(dbapi: Any, statements: list[str]) -> None:
    for statement in statements:
        dbapi.execute(statement)


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
            write = postgres_writer(dbapi) if postgres else sqlite_writer(dbapi)
            write_pairs = postgres_pair_writer(dbapi) if postgres else sqlite_pair_writer(dbapi)
            for name, table, total, batches in plan:
                report.rows[name] = 0
                pairs = name in _PAIR_TABLES
                aside = SetAside(drop=[], restore=[])
                if pairs:
                    aside = (pg_set_aside if postgres else sqlite_set_aside)(dbapi, name)
                    _run(dbapi, PG_INDEX_MEMORY if postgres and aside.drop else [])
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
                advance_sequences(dbapi)
            else:
                sqlite_check_references(dbapi, [name for name, *_ in plan])
    except SQLAlchemyError as exc:
        raise StoreError(f"bulk load failed: {exc.__class__.__name__}: {exc}") from exc
    except Exception as exc:
        # driver errors (sqlite3, psycopg) are not SQLAlchemy's: report them the same way
        if exc.__class__.__module__.split(".")[0] in ("sqlite3", "psycopg"):
            raise StoreError(f"bulk load failed: {exc.__class__.__name__}: {exc}") from exc
        raise
    report.seconds = time.perf_counter() - started
    return report


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
