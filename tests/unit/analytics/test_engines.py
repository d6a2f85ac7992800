"""DuckDB and Spark run the same Ibis expressions and agree on every query (a small ledger).

The Spark leg needs the ``spark`` extra (pyspark) and Java; CI installs both. One
SparkSession serves the whole test session (local[2], few shuffle partitions)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from graphwarden.analytics.blast import affected_people, blast_radius
from graphwarden.analytics.engines import connect, ledger_table, people_table, spark_available
from graphwarden.analytics.exposure import LEDGER_SCHEMA


def _ledger(folder: Path, seed: int) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    n = 3000
    fields = np.array(["id", "name", "birthday", "likes", "religion", "work"])
    table = pa.table(
        {
            "seq": np.arange(n, dtype=np.int64),
            "at": pa.array(1_400_000_000_000_000 + np.arange(n, dtype=np.int64) * 7_000_000).cast(
                LEDGER_SCHEMA.field("at").type
            ),
            "request_id": [f"r{i // 10}" for i in range(n)],
            "app_id": rng.integers(1, 4, size=n),
            "api_version": ["v1.0"] * n,
            "owner_id": rng.integers(1, 40, size=n),
            "subject_id": rng.integers(1, 400, size=n),
            "field": fields[rng.integers(0, fields.size, size=n)],
            "rule_id": ["v1.0/x"] * n,
        },
        schema=LEDGER_SCHEMA,
    )
    # partitioned by day, as the ledger's export writes it
    days = folder / "disclosures"
    for half, part in enumerate((table.slice(0, n // 2), table.slice(n // 2))):
        (days / f"day=2014-05-{13 + half}").mkdir(parents=True)
        pq.write_table(part, days / f"day=2014-05-{13 + half}" / "part-0.parquet")
    people = folder / "people.parquet"
    pq.write_table(
        pa.table({"person_id": np.arange(1, 400, dtype=np.int64),
                  "country": np.array(["US", "GB", "IN"])[np.arange(399) % 3]}),
        people,
    )  # fmt: skip
    return days, people


def _figures(engine: str, ledger: Path, people: Path, apps: tuple[int, ...] = (2,)) -> list[object]:
    con = connect(engine)
    t, p = ledger_table(con, ledger), people_table(con, people)
    out: list[object] = []
    for app in apps:
        out.append(blast_radius(con, t, p, app, 2500).to_json())
        out.append([a.to_json() for a in affected_people(con, t, p, app, 2500)])
    return out


# py4j leaves its gateway sockets to the garbage collector
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
# PySpark's toPandas passes pandas 3 a deprecated keyword (third-party code)
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
@pytest.mark.slow
def test_duckdb_and_spark_agree_on_every_query(tmp_path: Path) -> None:
    why = spark_available()
    if why is not None:
        pytest.skip(why)
    ledger, people = _ledger(tmp_path, seed=7)
    duck = _figures("duckdb", ledger, people)
    spark = _figures("spark", ledger, people)
    assert duck == spark
    assert duck[0]["records"] > 0  # type: ignore[index]


def test_duckdb_reads_the_partitioned_export_and_a_single_file_alike(tmp_path: Path) -> None:
    ledger, people = _ledger(tmp_path, seed=8)
    single = tmp_path / "one.parquet"
    pq.write_table(pq.read_table(ledger).select(LEDGER_SCHEMA.names), single)
    apps = (1, 2, 3)
    assert _figures("duckdb", ledger, people, apps) == _figures("duckdb", single, people, apps)
