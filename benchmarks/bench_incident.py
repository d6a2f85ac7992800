"""Benchmark of the incident blast radius: one app's exact figures over a synthetic ledger
export (the export's schema, partitioned by day) of 100 million and 1 billion records, on
DuckDB, with the same 100M query on Spark local mode reported beside it as a ratio.

    .venv/bin/python benchmarks/bench_incident.py [--quick] [--sizes 100000000,1000000000]
        [--dir DIR] [--no-spark] [--keep]

The synthetic export is written by DuckDB itself (``COPY`` from ``range()`` to partitioned
Parquet) under ``--dir`` (default: a directory in the system temp dir), reused when present,
and removed at the end unless ``--keep``. One app in ten records is the app under
investigation. Floors: 100M records ≤ 10 s, 1B ≤ 120 s (DuckDB, two cores). ``--quick``:
2 million records, Spark on the same size. Peak memory is the process's maximum resident
set (DuckDB runs in-process). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

FLOORS_S = {100_000_000: 10.0, 1_000_000_000: 120.0}
APP = 1
FIELDS = (
    "id", "name", "first_name", "last_name", "gender", "birthday", "hometown", "location",
    "country", "relationship_status", "religion", "political", "education", "work", "likes",
)  # fmt: skip
PEOPLE = 50_000_000


def _peak_rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _load() -> float:
    return round(os.getloadavg()[0], 1)


def generate(folder: Path, records: int) -> dict[str, Any]:
    """Write ``records`` synthetic ledger records under ``folder/disclosures`` (reused when
    its marker says the same size) and a people table."""
    import duckdb

    marker = folder / "_complete.json"
    if marker.exists() and json.loads(marker.read_text()).get("records") == records:
        return {"generated": False, "seconds": 0.0}
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    started = time.perf_counter()
    con = duckdb.connect()
    fields = "[" + ", ".join(f"'{f}'" for f in FIELDS) + "]"
    people = min(PEOPLE, max(records // 20, 1000))
    # the statement is built from integers and constants only
    con.execute(
        f"""
        COPY (
          SELECT i AS seq,
                 make_timestamptz(1401606000000000 + i * 10000) AS at,
                 'r' || (i // 100)::VARCHAR AS request_id,
                 CASE WHEN i % 10 = 0 THEN {APP} ELSE 2 + (i * 7919) % 999 END::BIGINT AS app_id,
                 'v1.0' AS api_version,
                 (1 + hash(i // 100) % {people})::BIGINT AS owner_id,
                 (1 + hash(i) % {people})::BIGINT AS subject_id,
                 {fields}[1 + (i % {len(FIELDS)})] AS field,
                 'v1.0/friend-field' AS rule_id,
                 strftime(make_timestamptz(1401606000000000 + i * 10000), '%Y-%m-%d') AS day
          FROM range({records}) t(i)
        ) TO '{folder / "disclosures"}'
        (FORMAT parquet, PARTITION_BY (day), COMPRESSION zstd, ROW_GROUP_SIZE 1000000)
        """  # noqa: S608
    )
    con.execute(
        f"""COPY (SELECT i + 1 AS person_id,
                         (['US','GB','IN','BR','DE','FR'])[1 + i % 6] AS country
                  FROM range({people}) t(i))
            TO '{folder / "people.parquet"}' (FORMAT parquet)"""  # noqa: S608
    )
    con.close()
    marker.write_text(json.dumps({"records": records}))
    return {"generated": True, "seconds": round(time.perf_counter() - started, 1)}


def blast(folder: Path, engine: str) -> dict[str, Any]:
    from graphwarden.analytics.blast import blast_radius
    from graphwarden.analytics.engines import connect, ledger_table, people_table

    con = connect(engine)
    cpu = _cpu_seconds()
    started = time.perf_counter()
    result = blast_radius(
        con,
        ledger_table(con, folder / "disclosures"),
        people_table(con, folder / "people.parquet"),
        APP,
    )
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        # CPU time of this process (DuckDB's threads run in it; Spark's JVM does not)
        "cpu_seconds": round(_cpu_seconds() - cpu, 2),
        "records": result.records,
        "people": result.people,
        "non_consenting": result.non_consenting,
        "installers": result.consenting,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 million records (CI smoke)")
    parser.add_argument("--sizes", default="100000000,1000000000")
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the synthetic exports")
    args = parser.parse_args()
    sizes = [2_000_000] if args.quick else [int(s) for s in args.sizes.split(",") if s]
    base = args.dir or Path(tempfile.gettempdir()) / "graphwarden-bench-incident"
    out: dict[str, Any] = {"benchmark": "incident_blast_radius", "app_share": 0.1, "runs": []}
    spark_size = sizes[0] if args.quick else 100_000_000
    try:
        for size in sizes:
            folder = base / str(size)
            gen = generate(folder, size)
            run: dict[str, Any] = {"records_in_ledger": size, "generate": gen,
                                   "load_average": _load()}  # fmt: skip
            run["duckdb"] = blast(folder, "duckdb")
            floor = FLOORS_S.get(size)
            if floor is not None:
                run["floor_s"] = floor
                run["meets_floor"] = run["duckdb"]["seconds"] <= floor
            run["peak_rss_mib"] = _peak_rss_mib()
            if size == spark_size and not args.no_spark:
                from graphwarden.analytics.engines import spark_available

                why = spark_available()
                if why is None:
                    run["spark_local"] = blast(folder, "spark")
                    run["spark_agrees"] = {
                        k: v for k, v in run["spark_local"].items() if "seconds" not in k
                    } == {k: v for k, v in run["duckdb"].items() if "seconds" not in k}
                    run["spark_over_duckdb"] = round(
                        run["spark_local"]["seconds"] / max(run["duckdb"]["seconds"], 1e-9), 1
                    )
                else:
                    run["spark_local"] = {"skipped": why}
            out["runs"].append(run)
            print(json.dumps(run), file=sys.stderr)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
