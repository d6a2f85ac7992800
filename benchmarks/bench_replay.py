"""Benchmark of the quiz-2014 replay: the api engine (every call through OAuth, the HTTP Graph
API and the ledger) and the bulk engine (the policy's bulk face over population arrays).

    .venv/bin/python benchmarks/bench_replay.py [--quick | --full] [--engines api,bulk]
        [--api-users N] [--bulk-users N]

Default and ``--quick``: api on 5,000 people, bulk on 200,000. ``--full``: api on 100,000
(floor: 10 minutes) and bulk on 10,000,000 (floor: 10 minutes). Install rate 0.002, seed 1,
versions v1.0, v2.0, v3.0. ``replay_seconds`` is what the floor applies to: the whole
``run_replay`` (for the api engine: loading the population into the template store once,
the three runs on copies of it, the exports and the summaries), population generation
excluded (reported beside it). A size that fails (e.g. out of memory) is reported with its
error, and the bulk engine then tries a tenth of the size, so the JSON says the largest that
ran. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

FLOOR_S = 600.0
#: the demo's promise: its replay (after populating) within two minutes
DEMO_FLOOR_S = 120.0


def _peak_rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _engine_run(engine: str, users: int, rate: float, out: Path) -> dict[str, Any]:
    from graphwarden.server import in_process_client
    from graphwarden.simulation.population import generate_population
    from graphwarden.simulation.replay import ReplayConfig, run_replay
    from graphwarden.simulation.scenarios import installer_count

    started = time.perf_counter()
    population = generate_population(users, 1, preset_name="2014")
    generated = time.perf_counter() - started
    config = ReplayConfig(
        out=out,
        seed=1,
        installers=installer_count(users, None, rate),
        engine=engine,  # type: ignore[arg-type]
    )
    begun, cpu = time.perf_counter(), time.process_time()
    summary = run_replay(
        config,
        population,
        http_factory=in_process_client if engine == "api" else None,
        report=False,
    )
    seconds = time.perf_counter() - begun
    records = sum(r.exposure.disclosures for r in summary.runs)
    runs_seconds = sum(r.seconds for r in summary.runs)
    return {
        "engine": engine,
        "people": users,
        "installers": summary.installers,
        "generate_seconds": round(generated, 2),
        "replay_seconds": round(seconds, 2),
        "replay_cpu_seconds": round(time.process_time() - cpu, 2),
        "store_seconds": (
            round(summary.store_seconds, 2) if summary.store_seconds is not None else None
        ),
        "runs_seconds": round(runs_seconds, 2),
        "per_version_seconds": {r.exposure.version: round(r.seconds, 2) for r in summary.runs},
        "disclosures": records,
        "disclosures_per_second": round(records / runs_seconds, 1) if runs_seconds else None,
        "v1_exposed": summary.runs[0].exposure.exposed_users,
        "non_consenting_exposed": {
            r.exposure.version: r.exposure.non_consenting_exposed for r in summary.runs
        },
        "peak_rss_mib": _peak_rss_mib(),
        "floor_seconds": FLOOR_S,
        "ratio_to_floor": round(seconds / FLOOR_S, 3),
    }


def _child(engine: str, users: int, rate: float, out: str, conn: Any) -> None:
    try:
        conn.send(_engine_run(engine, users, rate, Path(out)))
    except Exception as exc:  # reported in the JSON, not as a traceback
        conn.send({"error": f"{type(exc).__name__}: {exc}"[:300]})
    finally:
        conn.close()


def _isolated(engine: str, users: int, rate: float, out: Path) -> dict[str, Any]:
    """One size in its own process, so running out of memory (the kernel's kill) is
    reported as a failure instead of ending the benchmark; peak memory is that size's."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(engine, users, rate, str(out), send))
    child.start()
    send.close()
    try:
        answer: dict[str, Any] = receive.recv()
    except EOFError:
        answer = {}
    child.join()
    if not answer:
        answer = {"error": f"the run ended with exit code {child.exitcode} (out of memory?)"}
    return answer


def _attempt(engine: str, users: int, rate: float, tmp: Path, shrink: bool) -> dict[str, Any]:
    """Run ``engine`` at ``users``; on failure, note it and (``shrink``) try a tenth."""
    failures: list[dict[str, Any]] = []
    while True:
        result = _isolated(engine, users, rate, tmp / f"{engine}-{users}")
        if "error" not in result:
            if failures:
                result["failed_larger"] = failures
            return result
        failures.append({"people": users, "error": result["error"]})
        if not shrink or users < 100_000:
            return {"engine": engine, "failed": failures}
        users //= 10


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true")
    mode.add_argument("--full", action="store_true")
    parser.add_argument("--install-rate", type=float, default=0.002)
    parser.add_argument("--engines", default="api,bulk", help="comma-separated: api, bulk")
    parser.add_argument("--api-users", type=int, default=None)
    parser.add_argument("--bulk-users", type=int, default=None)
    args = parser.parse_args(argv)
    api_users, bulk_users = (100_000, 10_000_000) if args.full else (5_000, 200_000)
    api_users = args.api_users or api_users
    bulk_users = args.bulk_users or bulk_users
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if not engines or any(e not in ("api", "bulk") for e in engines):
        parser.error("--engines takes api, bulk or both")
    at_floor_sizes = api_users >= 100_000 and bulk_users >= 10_000_000
    result: dict[str, Any] = {
        "mode": "full" if args.full else "quick",
        "install_rate": args.install_rate,
        "floors": {
            "api_100k_seconds": FLOOR_S,
            "bulk_10m_seconds": FLOOR_S,
            "demo_20k_replay_seconds": DEMO_FLOOR_S,
        },
        "note": None if at_floor_sizes else "not the floors' sizes",
    }
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as tmp:
        if "api" in engines:
            result["api"] = _attempt("api", api_users, args.install_rate, Path(tmp), False)
        if "bulk" in engines:
            result["bulk"] = _attempt("bulk", bulk_users, args.install_rate, Path(tmp), True)
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
