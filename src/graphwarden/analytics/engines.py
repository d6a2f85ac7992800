"""Where the analytics' Ibis expressions run: DuckDB in this process, or Apache Spark.

Every analytics query (blast radius, notices, what-if, the regulator's list) is an Ibis
expression over two tables: the ledger's Parquet export (:data:`LEDGER_SCHEMA`: one file, or
the export's directory partitioned by day) and a people table (``person_id``, ``country``).
:func:`connect` gives a backend for an engine name and :func:`ledger_table` /
:func:`people_table` open the two tables on it; the expressions never know which engine they
run on.

* ``duckdb`` (default): an in-memory DuckDB database; Parquet is read where it lies.
* ``spark``: Ibis's PySpark backend on one ``SparkSession`` per process, created with the
  master of ``GRAPHWARDEN_SPARK_MASTER`` (``local[2]`` by default; ``spark://host:7077``,
  ``yarn`` or ``k8s://…`` run on a cluster, where the Parquet path must be one every executor
  reads, e.g. ``s3a://`` or HDFS). Needs the ``spark`` extra (``pip install -e '.[spark]'``)
  and a Java 17 runtime.
"""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import ibis

from graphwarden.core.errors import ConfigError, InvalidInput

ENGINES: Final = ("duckdb", "spark")
#: Spark settings for a small job on one machine: few shuffle partitions, no web UI
_SPARK_CONF: Final = {
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "2",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    # off: PySpark's Arrow path for toPandas fails on pandas 3; results here are small
    "spark.sql.execution.arrow.pyspark.enabled": "false",
}
_spark_lock = threading.Lock()
_spark_session: Any = None


def check_engine(name: str) -> str:
    """``name`` if it is a known engine; ``InvalidInput`` otherwise."""
    if name not in ENGINES:
        raise InvalidInput(
            f"the analytics engine must be one of {', '.join(ENGINES)}, not {name!r}"
        )
    return name


def spark_available() -> str | None:
    """``None`` when PySpark can be imported, else why not (for a skip or an error)."""
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        return f"pyspark is not installed ({exc}); pip install -e '.[spark]'"
    return None


def spark_session(master: str = "local[2]") -> Any:
    """The process's one ``SparkSession`` (created on first use with ``master``)."""
    global _spark_session
    why = spark_available()
    if why is not None:
        raise ConfigError(why)
    with _spark_lock:
        if _spark_session is None:
            from pyspark.sql import SparkSession

            builder = SparkSession.builder.master(master).appName("graphwarden-analytics")
            for key, value in _SPARK_CONF.items():
                builder = builder.config(key, value)
            _spark_session = builder.getOrCreate()
            _spark_session.sparkContext.setLogLevel("ERROR")
        return _spark_session


def connect(engine: str = "duckdb", *, spark_master: str = "local[2]") -> Any:
    """An Ibis backend for ``engine`` (``duckdb`` or ``spark``)."""
    check_engine(engine)
    if engine == "spark":
        return ibis.pyspark.connect(spark_session(spark_master))
    return ibis.duckdb.connect()


def _parquet_source(path: Path) -> tuple[str, bool]:
    """(what to read, whether it is a directory of Hive-style partitions)."""
    path = Path(path)
    if path.is_dir():
        if not any(path.rglob("*.parquet")):
            raise InvalidInput(f"no Parquet files under {path}")
        return str(path), True
    if not path.exists():
        raise InvalidInput(f"no ledger export at {path}")
    return str(path), False


def ledger_table(con: Any, path: Path) -> Any:
    """The ledger's records at ``path`` (an export file or an export directory) as an Ibis
    table with the export's columns (a partition column such as ``day`` is dropped)."""
    from graphwarden.analytics.exposure import LEDGER_SCHEMA

    source, directory = _parquet_source(path)
    if directory and con.name == "duckdb":
        t = con.read_parquet(f"{source}/**/*.parquet", hive_partitioning=True)
    else:
        t = con.read_parquet(source)
    missing = [n for n in LEDGER_SCHEMA.names if n not in t.columns]
    if missing:
        raise InvalidInput(f"{path} is not a ledger export: no column {', '.join(missing)}")
    return t.select(*LEDGER_SCHEMA.names)


def people_table(con: Any, path: Path) -> Any:
    """The people table (``person_id``, ``country``) at ``path``."""
    source, _ = _parquet_source(path)
    t = con.read_parquet(source)
    if "person_id" not in t.columns or "country" not in t.columns:
        raise InvalidInput(f"{path} is not a people table (person_id, country)")
    return t.select("person_id", "country")


def materialize(con: Any, expr: Any) -> Any:
    """``expr`` computed once and kept for the connection's life (DuckDB: a temporary table;
    Spark: a cached DataFrame), so several queries over it do not scan the ledger again."""
    if con.name == "duckdb":
        # a temporary table goes with the connection (Ibis's own cache cannot drop its
        # table again on this DuckDB, and its finalizer would raise at exit)
        return con.create_table(f"gw_tmp_{next(_names)}", expr, temp=True)
    return expr.cache()


_names = itertools.count(1)


def as_micros(value: Any) -> int | None:
    """A timestamp as either engine returns it (DuckDB: aware; Spark: naive UTC) in
    microseconds since the epoch."""
    if value is None:
        return None
    if isinstance(value, datetime):
        when = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        delta = when - datetime(1970, 1, 1, tzinfo=UTC)
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return int(value)


__all__ = [
    "ENGINES",
    "as_micros",
    "check_engine",
    "connect",
    "ledger_table",
    "materialize",
    "people_table",
    "spark_available",
    "spark_session",
]
