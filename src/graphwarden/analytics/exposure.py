"""Exposure computed from a disclosure ledger's Parquet export, with Ibis over DuckDB.

``exposed_users`` are the distinct subjects with at least one record; ``consenting_users``
the people whose consent (token) was used, i.e. the ledger's distinct owners (or a set given
from the consent store); ``non_consenting_exposed`` the exposed who are not among them.
Countries come from a small people table (``person_id``, ``country``) written beside the
ledger. The expressions are Ibis, so the same code runs on another backend when one machine
is not enough; only the connection is DuckDB's.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine

from graphwarden.core.errors import InvalidInput
from graphwarden.ledger.export import SCHEMA as EXPORT_SCHEMA

#: the attributes of a ledger record (``graphwarden.ledger.records.Disclosure``) in the order of
#: the export's columns; ``at_us`` becomes the export's ``at`` timestamp
LEDGER_COLUMNS: tuple[str, ...] = (
    "seq",
    "at_us",
    "request_id",
    "app_id",
    "api_version",
    "owner_id",
    "subject_id",
    "field",
    "rule_id",
)
#: the ledger's records as the analytics read them: the one schema of the ledger's Parquet
#: export (:data:`graphwarden.ledger.export.SCHEMA`), which the api engine's per-app export
#: and the bulk engine's own ledger write too, so one set of queries serves them all
LEDGER_SCHEMA = EXPORT_SCHEMA
_EXPORT_NAMES: tuple[str, ...] = tuple(EXPORT_SCHEMA.names)
#: points kept on a growth curve (enough for a smooth plot)
_CURVE_POINTS = 400


def export_ledger(
    engine: Engine, out: Path, *, app_id: int | None = None, chunk: int = 50_000
) -> int:
    """Write the store's disclosure records (optionally one app's) to ``out`` as Parquet in
    the ledger export schema; returns the number of records. Streams
    :func:`graphwarden.ledger.queries.iter_disclosures`, so memory stays flat.
    """
    from graphwarden.ledger.queries import iter_disclosures

    out.parent.mkdir(parents=True, exist_ok=True)
    row_of = attrgetter(*LEDGER_COLUMNS)  # one C call per record instead of nine getattr
    count = 0
    with pq.ParquetWriter(out, LEDGER_SCHEMA, compression="zstd") as writer:
        rows: list[tuple[Any, ...]] = []
        for record in iter_disclosures(engine, app_id=app_id, chunk_size=chunk):
            rows.append(row_of(record))
            if len(rows) >= chunk:
                count += _write_rows(writer, rows)
                rows = []
        if rows:
            count += _write_rows(writer, rows)
    return count


def _write_rows(writer: pq.ParquetWriter, rows: list[tuple[Any, ...]]) -> int:
    columns: dict[str, Any] = dict(
        zip(_EXPORT_NAMES, map(list, zip(*rows, strict=True)), strict=True)
    )
    columns["at"] = pa.array(columns["at"], pa.int64()).cast(LEDGER_SCHEMA.field("at").type)
    writer.write_table(pa.table(columns, schema=LEDGER_SCHEMA))
    return len(rows)


def write_people(out: Path, country: npt.NDArray[np.uint8], country_names: Sequence[str]) -> Path:
    """The people table analytics join against: ``person_id`` (index + 1) and ``country``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    names = pa.array(list(country_names), pa.string())
    table = pa.table(
        {
            "person_id": np.arange(1, country.size + 1, dtype=np.int64),
            "country": names.take(pa.array(country.astype(np.int32))),
        }
    )
    pq.write_table(table, out, compression="zstd")
    return out


@dataclass(frozen=True)
class ExposureRun:
    """One version's exposure, as ``summary.json`` carries it."""

    version: str
    consenting_users: int
    exposed_users: int
    non_consenting_exposed: int
    disclosures: int
    #: field -> {"people": distinct subjects, "disclosures": records}
    by_field: dict[str, dict[str, int]] = field(default_factory=dict)
    #: country -> {"exposed": ..., "non_consenting": ...}
    by_country: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "consenting_users": self.consenting_users,
            "exposed_users": self.exposed_users,
            "non_consenting_exposed": self.non_consenting_exposed,
            "disclosures": self.disclosures,
            "by_field": self.by_field,
            "by_country": self.by_country,
        }


@contextmanager
def quiet_backend() -> Iterator[None]:
    """Silence the deprecation notices DuckDB's Python API raises at Ibis's calls (third-party
    code we cannot change; the test suite turns warnings into errors)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"duckdb(\..*)?")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"ibis(\..*)?")
        yield


def _connect() -> Any:
    return ibis.duckdb.connect()


def _ledger(con: Any, path: Path) -> Any:
    if not path.exists():
        raise InvalidInput(f"no ledger export at {path}")
    return con.read_parquet(str(path))


def exposure_run(
    version: str,
    ledger: Path,
    people: Path,
    *,
    consenting: Iterable[int] | None = None,
) -> ExposureRun:
    """Exposure of one run from its ledger export and people table.

    ``consenting``: person ids who authorized the app (from the consent store); default: the
    ledger's distinct owners.
    """
    with quiet_backend():
        return _exposure_run(version, ledger, people, consenting=consenting)


def _exposure_run(
    version: str,
    ledger: Path,
    people: Path,
    *,
    consenting: Iterable[int] | None = None,
) -> ExposureRun:
    """The body of :func:`exposure_run`."""
    con = _connect()
    t = _ledger(con, ledger)
    ppl = con.read_parquet(str(people))
    if consenting is None:
        owners = t.select(person_id=t.owner_id).distinct()
    else:
        ids = sorted({int(p) for p in consenting})
        owners = ibis.memtable(pa.table({"person_id": pa.array(ids, pa.int64())}))
    subjects = t.select(person_id=t.subject_id).distinct()
    non_consenting = subjects.anti_join(owners, "person_id")
    disclosures = int(t.count().execute())
    exposed = int(subjects.count().execute())
    consenting_n = int(owners.count().execute())
    non_consenting_n = int(non_consenting.count().execute())

    per_field = (
        t.group_by("field")
        .aggregate(people=t.subject_id.nunique(), disclosures=t.count())
        .order_by("field")
        .to_pyarrow()
        .to_pylist()
    )
    by_field = {
        r["field"]: {"people": int(r["people"]), "disclosures": int(r["disclosures"])}
        for r in per_field
    }
    flagged = subjects.left_join(non_consenting.mutate(nc=ibis.literal(1)), "person_id").select(
        subjects.person_id, "nc"
    )
    joined = flagged.join(ppl, flagged.person_id == ppl.person_id)
    per_country = (
        joined.group_by("country")
        .aggregate(exposed=joined.count(), non_consenting=joined.nc.fill_null(0).sum())
        .order_by(ibis.desc("exposed"))
        .to_pyarrow()
        .to_pylist()
    )
    by_country = {
        str(r["country"]): {
            "exposed": int(r["exposed"]),
            "non_consenting": int(r["non_consenting"] or 0),
        }
        for r in per_country
    }
    return ExposureRun(
        version=version,
        consenting_users=consenting_n,
        exposed_users=exposed,
        non_consenting_exposed=non_consenting_n,
        disclosures=disclosures,
        by_field=by_field,
        by_country=by_country,
    )


@dataclass(frozen=True)
class GrowthCurve:
    """Cumulative distinct exposed people against ledger sequence and API calls."""

    seq: list[int]
    calls: list[int]
    exposed: list[int]
    #: distinct owners (installers whose token was used) so far
    installers: list[int]

    def to_json(self) -> dict[str, list[int]]:
        return {
            "seq": self.seq,
            "calls": self.calls,
            "exposed": self.exposed,
            "installers": self.installers,
        }


def growth_curve(ledger: Path) -> GrowthCurve:
    """How the harvest grew: after each record (sampled), how many distinct people had left,
    and how many API responses it took (distinct request ids in ledger order)."""
    with quiet_backend():
        return _growth_curve(ledger)


def _growth_curve(ledger: Path) -> GrowthCurve:
    con = _connect()
    t = _ledger(con, ledger)
    firsts = t.group_by("subject_id").aggregate(first=t.seq.min()).to_pyarrow()
    starts = t.group_by("request_id").aggregate(first=t.seq.min()).to_pyarrow()
    owners = t.group_by("owner_id").aggregate(first=t.seq.min()).to_pyarrow()
    owner_starts = np.sort(np.asarray(owners.column("first").to_numpy(), dtype=np.int64))
    first_seq = np.sort(np.asarray(firsts.column("first").to_numpy(), dtype=np.int64))
    call_starts = np.sort(np.asarray(starts.column("first").to_numpy(), dtype=np.int64))
    if first_seq.size == 0:
        return GrowthCurve(seq=[0], calls=[0], exposed=[0], installers=[0])
    total = int(t.count().execute())
    points = np.unique(np.linspace(0, total - 1, num=min(_CURVE_POINTS, total)).astype(np.int64))
    exposed = np.searchsorted(first_seq, points, side="right")
    calls = np.searchsorted(call_starts, points, side="right")
    owners_so_far = np.searchsorted(owner_starts, points, side="right")
    return GrowthCurve(
        seq=[int(p) + 1 for p in points],
        calls=[int(c) for c in calls],
        exposed=[int(e) for e in exposed],
        installers=[int(o) for o in owners_so_far],
    )


__all__ = [
    "LEDGER_COLUMNS",
    "LEDGER_SCHEMA",
    "ExposureRun",
    "GrowthCurve",
    "export_ledger",
    "exposure_run",
    "growth_curve",
    "quiet_backend",
    "write_people",
]
