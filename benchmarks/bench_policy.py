"""Benchmark of the policy's two faces against Cedar (cedarpy).

Prints one JSON object: bulk decisions/s over 10,000,000 (owner, subject, field) triples on
one core, the per-request page (100 subjects × 10 fields) in µs, cedarpy decisions/s on a
sample of the same triples, the ratios, the floors and pass/fail.

    .venv/bin/python benchmarks/bench_policy.py [--quick]

``--quick`` uses 1,000,000 triples. BLAS/OpenMP threads are pinned to 1 before numpy loads,
so the bulk figure is one core's (numpy's ufuncs are single-threaded anyway).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from graphwarden.graph.fields import (  # noqa: E402
    FIELD_BY_NAME,
    FIELDS,
    N_CATEGORIES,
    N_FIELDS,
    Audience,
    Relation,
)
from graphwarden.policy.bulk import MEMBER_FIELD, PERMISSION_BITS, BulkPolicy  # noqa: E402
from graphwarden.policy.context import AccessContext, SubjectFacts  # noqa: E402
from graphwarden.policy.decide import decide_page  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BULK_FLOOR_PER_S = 20_000_000
PAGE_FLOOR_US = 2_000.0
SEED = 20140430
BITS_TO_NAME = {b: p for p, b in PERMISSION_BITS.items()}


def triples(n: int, rng: np.random.Generator) -> dict[str, Any]:
    """A v1.0 harvest-like mix: mostly friends, owners granting random friends_* sets."""
    return {
        "relation": rng.choice(4, n, p=[0.05, 0.8, 0.1, 0.05]).astype(np.uint8),
        "field": rng.integers(0, N_FIELDS + 1, n, dtype=np.uint8),
        "audience": rng.choice(4, n, p=[0.2, 0.2, 0.5, 0.1]).astype(np.uint8),
        "shares": rng.random(n) < 0.9,
        "subject_platform": rng.random(n) < 0.99,
        "uses_app": rng.random(n) < 0.05,
        "subject_friends_grant": rng.random(n) < 0.03,
        "owner_grant_mask": rng.integers(0, 1 << len(PERMISSION_BITS), n, dtype=np.uint32),
    }


def bench_bulk(n: int, rng: np.random.Generator, repeats: int = 5) -> dict[str, Any]:
    data = triples(n, rng)
    policy = BulkPolicy.for_version("v1.0")
    t0 = time.perf_counter()
    for v in ("v2.0", "v3.0"):
        BulkPolicy.for_version(v)
    compile_s = (time.perf_counter() - t0) / 2
    times, cpu_times = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        allowed, _codes = policy.decide(**data)
        times.append(time.perf_counter() - t)
        cpu_times.append(time.process_time() - c)
    scalar = dict(data, owner_grant_mask=int(data["owner_grant_mask"][0]))
    t = time.perf_counter()
    policy.decide(**scalar)
    scalar_s = time.perf_counter() - t
    best = min(times)
    return {
        "triples": n,
        "repeats": repeats,
        "seconds_best": round(best, 4),
        "decisions_per_s": round(n / best),
        "decisions_per_s_cpu_time": round(n / min(cpu_times)),
        "decisions_per_s_scalar_owner_mask": round(n / scalar_s),
        "allowed_share": round(float(allowed.mean()), 4),
        "compile_seconds_per_version": round(compile_s, 3),
        "data": data,
    }


def bench_page(rng: np.random.Generator, runs: int) -> dict[str, Any]:
    ctx = AccessContext(
        api_version="v1.0",
        app_status="active",
        token_active=True,
        owner_granted=frozenset({"friends_birthday", "friends_likes", "friends_location", "email"}),
    )
    subjects = [
        SubjectFacts(
            relation=Relation(int(rng.choice(4, p=[0.01, 0.89, 0.05, 0.05]))),
            audiences=tuple(Audience(int(a)) for a in rng.integers(0, 4, N_FIELDS)),
            apps_others_use=tuple(bool(b) for b in rng.random(N_CATEGORIES) < 0.9),
            uses_app=bool(rng.random() < 0.1),
        )
        for _ in range(100)
    ]
    fields = ["id", "name", "gender", "email", "birthday", "location", "country", "religion",
              "work", "likes"]  # fmt: skip
    t = time.perf_counter()
    decide_page(ctx, subjects, fields)
    cold_us = (time.perf_counter() - t) * 1e6
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        decide_page(ctx, subjects, fields)
        samples.append((time.perf_counter() - t) * 1e6)
    median = statistics.median(samples)
    return {
        "subjects": 100,
        "fields": 10,
        "runs": runs,
        "median_us": round(median, 1),
        "p95_us": round(sorted(samples)[int(0.95 * runs)], 1),
        "first_call_us": round(cold_us, 1),
        "decisions_per_s": round(1000 / (median / 1e6)),
    }


def bench_cedar(data: dict[str, Any], policy: BulkPolicy, sample: int) -> dict[str, Any]:
    """cedarpy on the first ``sample`` triples of the bulk run (same decisions)."""
    sys.path.insert(0, str(ROOT))
    import cedarpy
    from tests.unit.policy.cedar_oracle import MEMBER, entities, policies, request

    cases = []
    for i in range(sample):
        mask = int(data["owner_grant_mask"][i])
        code = int(data["field"][i])
        ctx = AccessContext(
            api_version="v1.0",
            app_status="active",
            token_active=True,
            owner_granted=frozenset(p for b, p in BITS_TO_NAME.items() if mask >> b & 1),
        )
        spec = FIELDS[code] if code < N_FIELDS else FIELD_BY_NAME["friends"]
        audiences = [Audience.PUBLIC] * N_FIELDS
        audiences[spec.index] = Audience(int(data["audience"][i]))
        switches = [True] * N_CATEGORIES
        if spec.category is not None and code != MEMBER:
            switches[spec.category] = bool(data["shares"][i])
        subject = SubjectFacts(
            relation=Relation(int(data["relation"][i])),
            audiences=tuple(audiences),
            apps_others_use=tuple(switches),
            platform_enabled=bool(data["subject_platform"][i]),
            uses_app=bool(data["uses_app"][i]),
            subject_granted=frozenset(["user_friends"] if data["subject_friends_grant"][i] else []),
        )
        cases.append(request(ctx, subject, MEMBER if code == MEMBER_FIELD else code))
    policy_set, entity_set = policies(), entities()
    t = time.perf_counter()
    results = cedarpy.is_authorized_batch(cases, policy_set, entity_set)
    seconds = time.perf_counter() - t
    ours, _ = policy.decide(**{k: v[:sample] for k, v in data.items()})
    disagreements = sum(r.allowed != bool(o) for r, o in zip(results, ours.tolist(), strict=True))
    return {
        "sample": sample,
        "seconds": round(seconds, 4),
        "decisions_per_s": round(sample / seconds),
        "disagreements_with_bulk": disagreements,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000,000 triples (CI smoke)")
    args = parser.parse_args()
    n = 1_000_000 if args.quick else 10_000_000
    rng = np.random.default_rng(SEED)

    bulk = bench_bulk(n, rng)
    data = bulk.pop("data")
    page = bench_page(rng, runs=200 if args.quick else 1000)
    cedar = bench_cedar(data, BulkPolicy.for_version("v1.0"), 2000 if args.quick else 10_000)
    result = {
        "benchmark": "policy",
        "quick": args.quick,
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "cpu_count": os.cpu_count(),
            "threads": "OMP/OPENBLAS/MKL pinned to 1",
            "load_average_1min": round(os.getloadavg()[0], 2),
        },
        "bulk": bulk,
        "page": page,
        "cedar": cedar,
        "ratios": {
            "bulk_over_cedar": round(bulk["decisions_per_s"] / cedar["decisions_per_s"], 1),
            "page_per_decision_over_cedar": round(
                page["decisions_per_s"] / cedar["decisions_per_s"], 2
            ),
        },
        "floors": {"bulk_decisions_per_s": BULK_FLOOR_PER_S, "page_us": PAGE_FLOOR_US},
        "pass": {
            "bulk": bulk["decisions_per_s"] >= BULK_FLOOR_PER_S,
            "page": page["median_us"] <= PAGE_FLOOR_US,
            "cedar_agrees": cedar["disagreements_with_bulk"] == 0,
        },
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
