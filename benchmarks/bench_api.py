"""Graph API throughput and latency: a friends page (100 friends x 5 fields) with policy and
ledger on, against the same app with enforcement off (benchmark-only switch), in one run.

    .venv/bin/python benchmarks/bench_api.py [--quick]

Prints one JSON object: requests/s and p50/p99 latency for both, the ratio, and the floor.
In process, through httpx's ASGI transport, on a migrated SQLite file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from graphwarden.api.app import create_app
from graphwarden.core.clock import ManualClock
from graphwarden.core.config import Settings
from graphwarden.core.db import create_store_engine, upgrade

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.unit.api.population import START, build_world

RATIO_FLOOR = 0.7
FIELDS = "id,name,birthday,gender,hometown"


async def measure(app: object, url: str, params: dict[str, str], n: int) -> list[float]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for _ in range(3):  # warm caches and connection pools
            (await client.get(url, params=params)).raise_for_status()
        times: list[float] = []
        for _ in range(n):
            t0 = time.perf_counter()
            r = await client.get(url, params=params)
            times.append(time.perf_counter() - t0)
            if r.status_code != 200 or len(r.json()["data"]) != 100:
                raise SystemExit(f"unexpected answer {r.status_code}: {r.text[:200]}")
    return times


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "requests_per_s": round(len(times) / sum(times), 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small run for CI smoke")
    args = parser.parse_args()
    n, rounds = (20, 2) if args.quick else (150, 4)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        engine = create_store_engine(url)
        clock = ManualClock(START)
        world = build_world(engine, clock, friends=100, seed=11)
        # every friend listed: the page is 100 friends whatever the random platform switches
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE people SET platform_enabled = 1")
        settings = Settings(
            database_url=url, data_dir=Path(tmp) / "data", redis_url=None, issuer="http://bench"
        )
        on = create_app(engine=engine, settings=settings, clock=clock)
        off = create_app(engine=engine, settings=settings, clock=clock, enforcement=False)
        params = {"fields": FIELDS, "limit": "100", "access_token": world.v1_token}
        path = "/v1.0/me/friends"
        times_on: list[float] = []
        times_off: list[float] = []
        for _ in range(rounds):  # interleave so drift (WAL growth, caches) hits both alike
            times_off += asyncio.run(measure(off, path, params, n // rounds))
            times_on += asyncio.run(measure(on, path, params, n // rounds))
        engine.dispose()
    result_on, result_off = summary(times_on), summary(times_off)
    ratio = round(result_on["requests_per_s"] / result_off["requests_per_s"], 3)
    print(
        json.dumps(
            {
                "benchmark": "graph_api_friends_page",
                "page": {"friends": 100, "fields": FIELDS.split(",")},
                "transport": "httpx ASGITransport, in process, SQLite (WAL)",
                "requests": len(times_on),
                "enforced": result_on,
                "enforcement_off": result_off,
                "ratio_enforced_to_off": ratio,
                "ratio_floor": RATIO_FLOOR,
                "meets_floor": ratio >= RATIO_FLOOR,
                "quick": args.quick,
            }
        )
    )


if __name__ == "__main__":
    main()
