"""Disclosure ledger benchmark: append throughput, full verification, inclusion proofs.

    .venv/bin/python benchmarks/bench_ledger.py [--quick] [--verify-records N]

Prints one JSON object: append records/s with batches of 500 (as the Graph API writes them)
on SQLite (synchronous FULL, the durable default, and NORMAL) and PostgreSQL (COPY); the cost of one
500-record append (the Graph API's per-response hot path); time and peak memory (ru_maxrss of
a fresh process doing only the verification) to verify N records (10 million; 200,000 with
--quick); inclusion proof size and time. Floors from the issue: append >= 200,000 records/s
on SQLite; verifying 10 million records <= 60 s in <= 1 GB.

The machine may be shared, so every figure comes with its CPU-time twin (process CPU
seconds of the benchmark or of the verifying child): wall-clock figures fall when other
work competes for the cores, CPU figures much less. For PostgreSQL the CPU figure is the
client's only (the server's work is in another process).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import resource
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from graphwarden.core.clock import ManualClock
from graphwarden.core.db import create_store_engine, upgrade
from graphwarden.ledger.interfaces import DisclosureBatch, DisclosureItem
from graphwarden.ledger.merkle import verify_inclusion
from graphwarden.ledger.queries import prove_inclusion
from graphwarden.ledger.service import SqlDisclosureLedger
from graphwarden.ledger.signing import LedgerSigner
from graphwarden.ledger.verify import verify_ledger

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
FIELDS = ("id", "name", "birthday", "hometown", "location")
BATCH = 500
KEY = bytes(range(32))


def _signer() -> LedgerSigner:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return LedgerSigner(Ed25519PrivateKey.from_private_bytes(KEY))


def _batches(count: int, seed: int) -> list[DisclosureBatch]:
    """A few distinct friend pages (100 friends x 5 fields), reused round-robin."""
    rng = random.Random(seed)
    clock = ManualClock()
    pages = []
    for i in range(count):
        first = rng.randrange(1, 5_000_000)
        items = [
            DisclosureItem(first + k // 5, FIELDS[k % 5], "v1.0/friend-field")  # type: ignore[arg-type]
            for k in range(BATCH)
        ]
        pages.append(
            DisclosureBatch(
                f"req-{i}",
                clock.now(),
                rng.randrange(1, 50),
                "v1.0",  # type: ignore[arg-type]
                rng.randrange(1, 5_000_000),
                items,
            )  # type: ignore[arg-type]
        )
    return pages


def _timed_appends(
    ledger: SqlDisclosureLedger, clock: ManualClock, n_batches: int
) -> tuple[list[float], float, float]:
    """Append ``n_batches`` pages; their sorted latencies, the wall and the CPU seconds."""
    pages = _batches(16, seed=1)
    latencies = []
    started = time.perf_counter()
    cpu_started = time.process_time()
    for i in range(n_batches):
        t = time.perf_counter()
        ledger.append(pages[i % len(pages)])
        latencies.append(time.perf_counter() - t)
        if i % 200 == 0:
            clock.advance(seconds=1)  # heads every second of activity, as in serving
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    latencies.sort()
    return latencies, elapsed, cpu


def _append(url: str, records: int, synchronous: str = "FULL") -> dict[str, Any]:
    engine = create_store_engine(url)
    clock = ManualClock()
    ledger = SqlDisclosureLedger(engine, _signer(), clock, sqlite_synchronous=synchronous)  # type: ignore[arg-type]
    n_batches = records // BATCH
    latencies, elapsed, cpu = _timed_appends(ledger, clock, n_batches)
    engine.dispose()
    return {
        "records": n_batches * BATCH,
        "batch_size": BATCH,
        "seconds": round(elapsed, 3),
        "cpu_seconds": round(cpu, 3),
        "records_per_s": round(n_batches * BATCH / elapsed),
        "records_per_cpu_s": round(n_batches * BATCH / cpu),
        "append_500_median_ms": round(latencies[len(latencies) // 2] * 1000, 3),
        "append_500_p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 3),
        "append_500_cpu_ms": round(cpu / n_batches * 1000, 3),
    }


def _deferred(url: str, records: int) -> dict[str, Any]:
    """Deferred integration: the workers' appends (write only), then the integrator's passes
    over what they wrote (re-read, hash, tree, store the leaf hashes, sign)."""
    engine = create_store_engine(url)
    clock = ManualClock()
    writer = SqlDisclosureLedger(engine, None, clock, integration="deferred")
    n_batches = records // BATCH
    latencies, elapsed, cpu = _timed_appends(writer, clock, n_batches)
    integrator = SqlDisclosureLedger(engine, _signer(), clock, integration="deferred")
    passes = 0
    i_started = time.perf_counter()
    i_cpu_started = time.process_time()
    while integrator.integrate(limit=20_000):  # a pass per ~40 pages, as every 0.2 s at ~200/s
        clock.advance(seconds=0.2)
        passes += 1
    integrator.publish_head()
    i_elapsed = time.perf_counter() - i_started
    i_cpu = time.process_time() - i_cpu_started
    engine.dispose()
    total = n_batches * BATCH
    return {
        "records": total,
        "append_records_per_s": round(total / elapsed),
        "append_records_per_cpu_s": round(total / cpu),
        "append_500_median_ms": round(latencies[len(latencies) // 2] * 1000, 3),
        "append_500_cpu_ms": round(cpu / n_batches * 1000, 3),
        "integrate_passes": passes,
        "integrate_records_per_s": round(total / i_elapsed),
        "integrate_records_per_cpu_s": round(total / i_cpu),
        "integrate_cpu_us_per_record": round(i_cpu / total * 1e6, 2),
    }


def _verify_child(url: str, queue: Any) -> None:
    engine = create_store_engine(url)
    cpu = time.process_time()
    report = verify_ledger(engine, _signer().public_key)
    # this process and the worker processes it started (joined by now)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = time.process_time() - cpu + workers.ru_utime + workers.ru_stime
    engine.dispose()
    queue.put(
        (report.ok, str(report.error), report.records, report.heads, report.seconds, cpu,
         report.notes)
    )  # fmt: skip


def _verify(url: str) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_verify_child, args=(url, queue))
    proc.start()
    ok, error, records, heads, seconds, cpu, notes = queue.get()
    proc.join()
    # ru_maxrss of children: the verifying process only (KiB on Linux)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "ok": ok,
        "error": None if ok else error,
        "records": records,
        "signed_tree_heads": heads,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "records_per_s": round(records / seconds) if seconds else None,
        # the largest single process; the verifier and its workers together hold at most
        # (workers + 1) times this
        "peak_rss_mb": round(peak_kib / 1024, 1),
        "processes": next((int(n.split()[2]) for n in notes if n.startswith("verified by")), 1),
        "notes": notes,
    }


def _proofs(url: str, size: int) -> dict[str, Any]:
    engine = create_store_engine(url)
    rng = random.Random(3)
    times = []
    proof = None
    for _ in range(30):
        seq = rng.randrange(size)
        started = time.perf_counter()
        proof = prove_inclusion(engine, seq)
        times.append(time.perf_counter() - started)
        verify_inclusion(
            seq, proof.head.tree_size, proof.record.leaf_hash(), proof.proof, proof.head.root_hash
        )
    engine.dispose()
    assert proof is not None
    return {
        "tree_size": proof.head.tree_size,
        "hashes": len(proof.proof),
        "proof_bytes": 32 * len(proof.proof),
        "json_bytes": len(json.dumps(proof.to_json())),
        "median_ms": round(statistics.median(times) * 1000, 2),
    }


def _postgres_url() -> tuple[str | None, str | None, Any]:
    try:
        admin = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        schema = f"bench_ledger_{uuid.uuid4().hex[:8]}"
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # PostgreSQL absent: report why, measure the rest
        return None, f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}", None
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    upgrade(url)
    return url, schema, admin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes for a CI smoke run")
    parser.add_argument("--verify-records", type=int, default=None)
    args = parser.parse_args()
    append_n = 100_000 if args.quick else 1_000_000
    pg_n = 50_000 if args.quick else 300_000
    verify_n = args.verify_records or (200_000 if args.quick else 10_000_000)

    out: dict[str, Any] = {"quick": args.quick}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'append.db'}"
        upgrade(url)
        out["append_sqlite"] = _append(url, append_n)
        durl = f"sqlite:///{Path(tmp) / 'deferred.db'}"
        upgrade(durl)
        out["deferred_sqlite"] = _deferred(durl, append_n // 2)
        nurl = f"sqlite:///{Path(tmp) / 'append-normal.db'}"
        upgrade(nurl)
        out["append_sqlite_normal"] = _append(nurl, append_n // 5, "NORMAL")

        pg_url, schema, admin = _postgres_url()
        if pg_url is None:
            out["append_postgres"] = {"skipped": schema}
        else:
            try:
                out["append_postgres"] = _append(pg_url, pg_n)
            finally:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                admin.dispose()

        vurl = f"sqlite:///{Path(tmp) / 'verify.db'}"
        upgrade(vurl)
        built = _append(vurl, verify_n, "NORMAL")  # building the fixture, not measured
        out["verify"] = {"build_records_per_s": built["records_per_s"], **_verify(vurl)}
        out["inclusion_proof"] = _proofs(vurl, built["records"])

    floors = {
        "append_sqlite_records_per_s": 200_000,
        "verify_seconds_for_10m": 60,
        "verify_peak_rss_mb": 1024,
    }
    scale = 10_000_000 / out["verify"]["records"]
    out["floors"] = floors
    append = out["append_sqlite"]
    verify_10m = out["verify"]["seconds"] * scale
    verify_10m_cpu = out["verify"]["cpu_seconds"] * scale
    all_processes_mb = out["verify"]["peak_rss_mb"] * (out["verify"]["processes"] + 1)
    out["ratios"] = {
        "append_sqlite_vs_floor": round(append["records_per_s"] / 200_000, 2),
        "append_sqlite_cpu_vs_floor": round(append["records_per_cpu_s"] / 200_000, 2),
        "append_full_vs_normal": round(
            append["records_per_s"] / out["append_sqlite_normal"]["records_per_s"], 2
        ),
        "verify_10m_seconds_projected": round(verify_10m, 1),
        "verify_10m_cpu_seconds_projected": round(verify_10m_cpu, 1),
        "verify_time_vs_floor": round(verify_10m / 60, 2),
        "verify_cpu_time_vs_floor": round(verify_10m_cpu / 60, 2),
        "verify_memory_vs_floor": round(out["verify"]["peak_rss_mb"] / 1024, 2),
        "verify_memory_all_processes_bound_vs_floor": round(all_processes_mb / 1024, 2),
    }
    out["pass"] = {
        "append_sqlite": append["records_per_s"] >= 200_000,
        "append_sqlite_cpu": append["records_per_cpu_s"] >= 200_000,
        "verify_time": out["verify"]["ok"] and verify_10m <= 60,
        "verify_cpu_time": out["verify"]["ok"] and verify_10m_cpu <= 60,
        "verify_memory": all_processes_mb <= 1024,
    }
    out["load_average_1m"] = round(os.getloadavg()[0], 2)
    out["cpus"] = os.cpu_count()
    if "records_per_s" in out.get("append_postgres", {}):
        out["ratios"]["postgres_vs_sqlite_append"] = round(
            out["append_postgres"]["records_per_s"] / out["append_sqlite"]["records_per_s"], 2
        )
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
