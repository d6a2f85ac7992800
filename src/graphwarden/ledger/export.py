"""Export the ledger to Parquet, partitioned by day, atomically.

Layout (Hive-style, what DuckDB, Spark and Trino read as a partitioned table)::

    OUT/disclosures/day=2014-06-01/part-0.parquet
    OUT/disclosures/day=2014-06-02/part-0.parquet
    OUT/disclosures/_manifest.json      tree size, root, row counts per day

Everything is written under a hidden temporary directory beside the target and renamed into
place at the end, so a reader sees the previous export or the new one, never half of one.
The export covers exactly the records ``0 .. tree_size - 1`` at the moment it starts.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine, text

from graphwarden.core.errors import StoreError
from graphwarden.ledger.records import Disclosure, to_micros

SCHEMA = pa.schema(
    [
        ("seq", pa.int64()),
        ("at", pa.timestamp("us", tz="UTC")),
        ("request_id", pa.string()),
        ("app_id", pa.int64()),
        ("api_version", pa.string()),
        ("owner_id", pa.int64()),
        ("subject_id", pa.int64()),
        ("field", pa.string()),
        ("rule_id", pa.string()),
    ]
)
_DAY_US = 86_400_000_000
_CHUNK = 100_000


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    rows: int
    rows_by_day: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "rows": self.rows, "rows_by_day": self.rows_by_day}


def export_parquet(engine: Engine, out_dir: Path, *, chunk_size: int = _CHUNK) -> ExportResult:
    """Write every record to ``out_dir/disclosures`` as day-partitioned Parquet."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "disclosures"
    tmp = Path(tempfile.mkdtemp(prefix=".disclosures.tmp-", dir=out_dir))
    writers: dict[int, pq.ParquetWriter] = {}
    counts: dict[int, int] = {}
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            size = int(
                conn.execute(text("SELECT next_seq FROM ledger_state WHERE id = 1")).scalar_one()
            )
            result = conn.execute(
                text(
                    "SELECT d.seq, b.at_us, b.request_id, b.app_id, b.api_version, b.owner_id, "
                    "d.subject_id, d.field, d.rule_id FROM disclosures d "
                    "JOIN disclosure_batches b ON b.id = d.batch_id "
                    "WHERE d.seq < :size ORDER BY d.seq"
                ),
                {"size": size},
                execution_options={"stream_results": True, "yield_per": chunk_size},
            )
            for rows in result.partitions():
                by_day: dict[int, list[Any]] = {}
                for row in rows:
                    by_day.setdefault(int(row[1]) // _DAY_US, []).append(row)
                for day, day_rows in by_day.items():
                    writer = writers.get(day)
                    if writer is None:
                        folder = tmp / f"day={_day_name(day)}"
                        folder.mkdir()
                        writer = pq.ParquetWriter(folder / "part-0.parquet", SCHEMA)
                        writers[day] = writer
                    writer.write_table(_table(day_rows))
                    counts[day] = counts.get(day, 0) + len(day_rows)
            root = conn.execute(
                text(
                    "SELECT tree_size, root_hash FROM signed_tree_heads "
                    "ORDER BY tree_size DESC LIMIT 1"
                )
            ).first()
        for writer in writers.values():
            writer.close()
        writers.clear()
        rows_by_day = {_day_name(d): n for d, n in sorted(counts.items())}
        total = sum(counts.values())
        if total != size:
            raise StoreError(f"export read {total} records but the ledger holds {size}")
        manifest = {
            "tree_size": size,
            "latest_signed_head": None
            if root is None
            else {"tree_size": int(root[0]), "root_hash": bytes(root[1]).hex()},
            "rows": total,
            "rows_by_day": rows_by_day,
            "exported_at": datetime.now(UTC).isoformat(),
        }
        (tmp / "_manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        _fsync_tree(tmp)
        _swap_into_place(tmp, target)
    except BaseException:
        for writer in writers.values():
            writer.close()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ExportResult(path=target, rows=total, rows_by_day=rows_by_day)


def _table(rows: list[Any]) -> pa.Table:
    columns = list(zip(*rows, strict=True))
    return pa.table(
        {
            "seq": pa.array(columns[0], pa.int64()),
            "at": pa.array(columns[1], pa.int64()).cast(pa.timestamp("us", tz="UTC")),
            "request_id": pa.array(columns[2], pa.string()),
            "app_id": pa.array(columns[3], pa.int64()),
            "api_version": pa.array(columns[4], pa.string()),
            "owner_id": pa.array(columns[5], pa.int64()),
            "subject_id": pa.array(columns[6], pa.int64()),
            "field": pa.array(columns[7], pa.string()),
            "rule_id": pa.array(columns[8], pa.string()),
        },
        schema=SCHEMA,
    )


def record_of(row: dict[str, Any]) -> Disclosure:
    """A row of the export (as ``pyarrow``'s ``to_pylist`` gives it) back as the ledger's
    record, whose :meth:`~graphwarden.ledger.records.Disclosure.leaf_hash` a verifier checks."""
    fields = {k: v for k, v in row.items() if k in _RECORD_FIELDS}
    return Disclosure(at_us=to_micros(row["at"]), **fields)


_RECORD_FIELDS = frozenset(SCHEMA.names) - {"at"}


def _day_name(day: int) -> str:
    return datetime.fromtimestamp(day * 86_400, UTC).strftime("%Y-%m-%d")


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())


def _swap_into_place(tmp: Path, target: Path) -> None:
    """Rename ``tmp`` to ``target``; an existing export is moved aside first, then removed."""
    old = None
    if target.exists():
        old = target.with_name(f".disclosures.old-{os.getpid()}-{os.urandom(4).hex()}")
        target.rename(old)
    try:
        tmp.rename(target)
    except OSError:
        if old is not None:
            old.rename(target)  # put the previous export back
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


__all__ = ["SCHEMA", "ExportResult", "export_parquet", "record_of"]
