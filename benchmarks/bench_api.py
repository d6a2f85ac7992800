"""Graph API throughput and latency: a friends page (100 friends x 5 fields) with policy and
ledger on, against the same app with enforcement off (benchmark-only switch), in one run.

    .venv/bin/python benchmarks/bench_api.py [--quick]

Prints one JSON object. In process, through httpx's ASGI transport, on migrated SQLite files
(synchronous=FULL: every response's records are fsynced before its body is handed back). Two
phases, each on freshly built apps, each interleaving the apps round by round: ``loaded`` (4
clients at once, each sending its next request when its last is answered: a worker under
load; the floor applies to its requests/s) and ``sequential`` (one client: requests/s is then
1 / latency). Each phase reports requests/s, p50/p99 latency and CPU per request per app, and
their ratios to the app with enforcement off.

``enforced`` is the platform as ``graphwarden serve`` runs it: the ledger deferred, its
integrator in a separate process (started here as serve starts it) hashing the records into
the Merkle tree and signing heads every 0.2 s; its CPU is reported and charged to the enforced
requests (``cpu_ms_per_request_with_integrator``, ``ratio_cpu_with_integrator``).
``enforced_inline`` is the same app with each append hashing and extending the tree itself,
on its own copy of the store. ``policy_only`` (policy on, disclosure batches only counted)
attributes the cost between the policy path and the ledger append; it is a measuring aid,
never a way to serve.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from graphwarden.api.app import create_app
from graphwarden.core.clock import ManualClock
from graphwarden.core.config import Settings
from graphwarden.core.db import create_store_engine, upgrade
from graphwarden.ledger.integrator import Integrator
from graphwarden.ledger.service import SqlDisclosureLedger
from graphwarden.ledger.signing import LedgerSigner

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.unit.api.population import START, build_world

from graphwarden.ledger.interfaces import AppendReceipt, DisclosureBatch

RATIO_FLOOR = 0.7
FIELDS = "id,name,birthday,gender,hometown"


class KeptBatches:
    """Attribution only: takes the batches the policy path produces and counts their items
    (keeping none, so memory does not grow), so the run can say how much of the enforcement
    cost is the ledger append."""

    def __init__(self) -> None:
        self.items = 0

    def append(self, batch: DisclosureBatch) -> AppendReceipt:
        self.items += len(batch.items)
        return AppendReceipt(first_seq=0, count=len(batch.items), tree_size=0)


def integrate_until(url: str, data_dir: str, stop: Any, report: Any) -> None:
    """The integrator process: what ``graphwarden ledger integrate --follow`` runs. Sends
    back the CPU seconds it spent integrating (its start-up and imports left out)."""
    import threading

    cpu0 = time.process_time()
    engine = create_store_engine(url)
    ledger = SqlDisclosureLedger(
        engine,
        LedgerSigner.load_or_create(Path(data_dir)),
        ManualClock(START),
        integration="deferred",
    )
    done = threading.Event()
    integrator = Integrator(ledger)
    watcher = threading.Thread(target=lambda: (stop.wait(), done.set()), daemon=True)
    watcher.start()
    integrator.run(done)
    engine.dispose()
    report.send((time.process_time() - cpu0, integrator.stats.passes))


def world_store(root: Path, name: str) -> tuple[str, Any, Any, ManualClock]:
    """A migrated SQLite store holding the seeded world; every friend listed (the page is
    100 friends whatever the random platform switches)."""
    url = f"sqlite:///{root / f'{name}.db'}"
    upgrade(url)
    engine = create_store_engine(url)
    clock = ManualClock(START)
    world = build_world(engine, clock, friends=100, seed=11)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE people SET platform_enabled = 1")
    return url, engine, world, clock


async def measure(
    app: object, url: str, params: dict[str, str], n: int, concurrency: int = 1
) -> tuple[list[float], float, float]:
    """Wall time of each of ``n`` requests sent by ``concurrency`` clients at once (each
    sends its next request when its last is answered), the process CPU time they took
    together, and the wall time from the first request to the last answer."""
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for _ in range(3):  # warm caches and connection pools
            (await client.get(url, params=params)).raise_for_status()
        times: list[float] = []

        async def client_loop(count: int) -> None:
            for _ in range(count):
                t0 = time.perf_counter()
                r = await client.get(url, params=params)
                times.append(time.perf_counter() - t0)
                if r.status_code != 200 or len(r.json()["data"]) != 100:
                    raise SystemExit(f"unexpected answer {r.status_code}: {r.text[:200]}")

        shares = [n // concurrency + (1 if i < n % concurrency else 0) for i in range(concurrency)]
        cpu0 = time.process_time()
        wall0 = time.perf_counter()
        await asyncio.gather(*(client_loop(k) for k in shares))
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
    return times, cpu, wall


def summary(times: list[float], cpu: float, wall: float) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "requests_per_s": round(len(times) / wall, 1),
        "mean_ms": round(sum(times) / len(times) * 1000, 2),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
        "cpu_ms_per_request": round(cpu / len(times) * 1000, 2),
    }


LOADED = 4  # clients at once in the loaded phase: a worker under load


def run_phase(make_apps: Any, concurrency: int, n: int, rounds: int) -> dict[str, dict[str, float]]:
    """One phase on freshly built apps (fresh rate limiters): ``rounds`` interleaved rounds
    of ``n // rounds`` requests per app at ``concurrency``; each app's summary."""
    apps = make_apps()
    path = "/v1.0/me/friends"
    times: dict[str, list[float]] = {name: [] for name in apps}
    cpu = dict.fromkeys(apps, 0.0)
    walls = dict.fromkeys(apps, 0.0)
    # the apps are built: keep them out of the collector's full passes, so a pause scanning
    # set-up objects does not land on whichever app happens to run then
    gc.collect()
    gc.freeze()
    for _ in range(rounds):  # interleave so drift (WAL growth, caches, load) hits all alike
        for name, (app, token) in apps.items():
            params = {"fields": FIELDS, "limit": "100", "access_token": token}
            each, used, wall = asyncio.run(measure(app, path, params, n // rounds, concurrency))
            times[name] += each
            cpu[name] += used
            walls[name] += wall
    gc.unfreeze()
    return {name: summary(times[name], cpu[name], walls[name]) for name in apps}


def ratios(result: dict[str, dict[str, float]]) -> dict[str, float]:
    on, off = result["enforced"], result["enforcement_off"]
    rate = off["requests_per_s"]
    return {
        "enforced_to_off": round(on["requests_per_s"] / rate, 3),
        "inline_to_off": round(result["enforced_inline"]["requests_per_s"] / rate, 3),
        "policy_only_to_off": round(result["policy_only"]["requests_per_s"] / rate, 3),
        "p50_enforced_to_off": round(off["p50_ms"] / on["p50_ms"], 3),
        "cpu_enforced_to_off": round(off["cpu_ms_per_request"] / on["cpu_ms_per_request"], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small run for CI smoke")
    args = parser.parse_args()
    # each app's rate limiter allows 200 calls per active user per hour (real time): 168
    # measured calls and 18 warm-up calls per app and phase stay within it (each phase builds
    # its apps, and their limiters, afresh)
    n, rounds = (20, 2) if args.quick else (168, 6)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data_dir = root / "data"
        url, engine, world, clock = world_store(root, "served")
        inline_url, inline_engine, inline_world, inline_clock = world_store(root, "inline")

        def settings(store_url: str, integration: str = "inline") -> Settings:
            return Settings(
                database_url=store_url,
                data_dir=data_dir,
                redis_url=None,
                issuer="http://bench",
                ledger_integration=integration,
            )

        def make_apps() -> dict[str, tuple[Any, str]]:
            return {
                "enforced": (
                    create_app(engine=engine, settings=settings(url, "deferred"), clock=clock),
                    world.v1_token,
                ),
                "enforcement_off": (
                    create_app(
                        engine=engine, settings=settings(url), clock=clock, enforcement=False
                    ),
                    world.v1_token,
                ),
                "policy_only": (
                    create_app(
                        engine=engine, settings=settings(url), clock=clock, ledger=KeptBatches()
                    ),
                    world.v1_token,
                ),
                "enforced_inline": (
                    create_app(
                        engine=inline_engine, settings=settings(inline_url), clock=inline_clock
                    ),
                    inline_world.v1_token,
                ),
            }

        # the integrator runs beside the server, as `graphwarden serve` runs it
        context = multiprocessing.get_context("spawn")
        stop = context.Event()
        receive, send = context.Pipe(duplex=False)
        integrator = context.Process(target=integrate_until, args=(url, str(data_dir), stop, send))
        integrator.start()
        sequential = run_phase(make_apps, 1, n, rounds)
        loaded = run_phase(make_apps, LOADED, n, rounds)
        stop.set()
        integrator_cpu, passes = receive.recv() if receive.poll(60) else (float("nan"), 0)
        integrator.join(60)
        with engine.connect() as conn:
            written, integrated, signed = conn.exec_driver_sql(
                "SELECT next_seq, tree_size, last_head_size FROM ledger_state"
            ).one()
        engine.dispose()
        inline_engine.dispose()
    # the integrator's CPU, charged to every enforced request of both phases (warm-ups too)
    enforced_requests = 2 * (n // rounds + 3) * rounds
    per_request = integrator_cpu / enforced_requests * 1000
    for phase in (sequential, loaded):
        on = phase["enforced"]
        on["cpu_ms_per_request_with_integrator"] = round(on["cpu_ms_per_request"] + per_request, 2)
    ratio = ratios(loaded)["enforced_to_off"]
    print(
        json.dumps(
            {
                "benchmark": "graph_api_friends_page",
                "page": {"friends": 100, "fields": FIELDS.split(",")},
                "transport": "httpx ASGITransport, in process, SQLite (WAL, synchronous=FULL)",
                "requests_per_app_and_phase": n,
                "ratio_enforced_to_off": ratio,
                "ratio_floor": RATIO_FLOOR,
                "meets_floor": ratio >= RATIO_FLOOR,
                "floor_measured_on": f"loaded phase: {LOADED} clients at once",
                "loaded": {"concurrency": LOADED, **loaded, "ratios": ratios(loaded)},
                "sequential": {"concurrency": 1, **sequential, "ratios": ratios(sequential)},
                "integrator": {
                    "cpu_s": round(integrator_cpu, 3),
                    "cpu_ms_per_enforced_request": round(per_request, 3),
                    "passes": passes,
                    "records_written": int(written),
                    "records_integrated": int(integrated),
                    "records_signed": int(signed),
                },
                "ratio_cpu_with_integrator": round(
                    loaded["enforcement_off"]["cpu_ms_per_request"]
                    / loaded["enforced"]["cpu_ms_per_request_with_integrator"],
                    3,
                ),
                "quick": args.quick,
            }
        )
    )


if __name__ == "__main__":
    main()
