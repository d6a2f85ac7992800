"""Benchmark of the quiz-2014 replay: the api engine (every call through OAuth, the HTTP Graph
API and the ledger) and the bulk engine (the policy's bulk face over population arrays).

    .venv/bin/python benchmarks/bench_replay.py [--quick | --full]

Default and ``--quick``: api on 5,000 people, bulk on 200,000. ``--full``: api on 100,000
(floor: 10 minutes) and bulk on 10,000,000 (floor: 10 minutes). Install rate 0.002, seed 1,
versions v1.0, v2.0, v3.0. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

FLOOR_S = 600.0


def _engine_run(engine: str, users: int, rate: float, out: Path) -> dict[str, Any]:
    from graphwarden.server import in_process_client
    from graphwarden.simulation.population import generate_population
    from graphwarden.simulation.replay import ReplayConfig, run_replay
    from graphwarden.simulation.scenarios import installer_count

    started = time.perf_counter()
    population = generate_population(users, 1, preset_name="2014")
    generated = time.perf_counter() - started
    config = ReplayConfig(
        out=out, seed=1, installers=installer_count(users, None, rate), engine=engine  # type: ignore[arg-type]
    )
    begun = time.perf_counter()
    summary = run_replay(
        config,
        population,
        http_factory=in_process_client if engine == "api" else None,
        report=False,
    )
    seconds = time.perf_counter() - begun
    records = sum(r.exposure.disclosures for r in summary.runs)
    return {
        "engine": engine,
        "people": users,
        "installers": summary.installers,
        "generate_seconds": round(generated, 2),
        "replay_seconds": round(seconds, 2),
        "per_version_seconds": {r.exposure.version: round(r.seconds, 2) for r in summary.runs},
        "disclosures": records,
        "disclosures_per_second": round(records / seconds, 1) if seconds else None,
        "v1_exposed": summary.runs[0].exposure.exposed_users,
        "floor_seconds": FLOOR_S,
        "ratio_to_floor": round(seconds / FLOOR_S, 3),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true")
    mode.add_argument("--full", action="store_true")
    parser.add_argument("--install-rate", type=float, default=0.002)
    args = parser.parse_args(argv)
    api_users, bulk_users = (100_000, 10_000_000) if args.full else (5_000, 200_000)
    result: dict[str, Any] = {
        "mode": "full" if args.full else "quick",
        "install_rate": args.install_rate,
        "floors": {"api_100k_seconds": FLOOR_S, "bulk_10m_seconds": FLOOR_S},
        "note": None if args.full else "quick sizes: not the floors' sizes",
    }
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as tmp:
        result["api"] = _engine_run("api", api_users, args.install_rate, Path(tmp) / "api")
        result["bulk"] = _engine_run("bulk", bulk_users, args.install_rate, Path(tmp) / "bulk")
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
