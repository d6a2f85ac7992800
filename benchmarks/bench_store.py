"""Graph store and consent service hot-path reads, on a migrated SQLite file (and PostgreSQL
with ``--postgres URL``).

    .venv/bin/python benchmarks/bench_store.py [--quick] [--postgres URL]

Prints one JSON object: for each read the Graph API makes per request (a page of 100 friend
ids, 100 profiles, 100 privacy rows, 100 relations, 100 people's likes, token resolution, the
owner's standing, 100 scoped ids), the median and p99 latency in microseconds, and the ratio
of one 100-person page query to 100 single-person queries measured in the same run. The bulk
load rate (people and friendships per second) is reported too.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from graphwarden.consent.services import SqlConsentService
from graphwarden.core.clock import ManualClock
from graphwarden.core.db import create_store_engine, upgrade
from graphwarden.core.types import PageId, PersonId
from graphwarden.graph.interfaces import PageInfo, Profile
from graphwarden.graph.store import SqlGraphStore

SEED = 2014


def timed(fn: Callable[[], Any], n: int) -> dict[str, float]:
    for _ in range(3):
        fn()
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1e6)
    samples.sort()
    return {
        "median_us": round(statistics.median(samples), 1),
        "p99_us": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 1),
    }


def populate(store: SqlGraphStore, people: int, degree: int, rng: random.Random) -> dict[str, Any]:
    t0 = time.perf_counter()
    batch = [
        (
            Profile(PersonId(i), f"Person {i}", "Person", str(i), "female", birthday="1990-01-01"),
            None,
        )
        for i in range(1, people + 1)
    ]
    for start in range(0, len(batch), 5000):
        store.add_people(batch[start : start + 5000])
    t_people = time.perf_counter() - t0
    edges: set[tuple[int, int]] = set()
    target = people * degree // 2
    while len(edges) < target:
        a = rng.randint(1, people)
        # a local neighbourhood, so friends of friends exist as in a real graph
        b = min(people, max(1, a + rng.randint(-4 * degree, 4 * degree)))
        if a != b:
            edges.add((min(a, b), max(a, b)))
    pairs = sorted(edges)
    t1 = time.perf_counter()
    for start in range(0, len(pairs), 10_000):
        store.add_friendships(
            [(PersonId(a), PersonId(b)) for a, b in pairs[start : start + 10_000]]
        )
    t_friends = time.perf_counter() - t1
    for g in range(1, 201):
        store.add_page(PageInfo(PageId(g), f"Page {g}", "Music"))
    likes = {(p, rng.randint(1, 200)) for p in range(1, people + 1) for _ in range(5)}
    store.add_likes([(PersonId(p), PageId(g)) for p, g in sorted(likes)])
    return {
        "people": people,
        "friendships": len(pairs),
        "people_per_s": round(people / t_people),
        "friendships_per_s": round(len(pairs) / t_friends),
    }


def run(url: str, people: int, degree: int, n: int) -> dict[str, Any]:
    rng = random.Random(SEED)
    engine = create_store_engine(url)
    try:
        store = SqlGraphStore(engine)
        consent = SqlConsentService(engine, ManualClock())
        load = populate(store, people, degree, rng)
        with engine.begin() as conn:
            # planner statistics, as autovacuum (PostgreSQL) or a maintenance job would keep
            conn.execute(text("ANALYZE"))
        owner = PersonId(people // 2)
        friends = store.friend_ids(owner)
        page = friends[:100] if len(friends) >= 100 else friends
        mixed = [PersonId(rng.randint(1, people)) for _ in range(100)]
        app = consent.create_app(name="Bench", api_version="v2.0", permissions=["user_friends"])
        consent.authorize(app.id, owner, granted=["public_profile", "user_friends"])
        token = consent.issue_token(
            app.id, owner, scope=["public_profile", "user_friends"], issued_by="bench"
        )
        info = consent.resolve_token(token)
        consent.scoped_ids(app.id, page)  # recorded once, as after the first request

        def singles() -> None:
            for p in mixed:
                store.get_profile(p)

        reads = {
            "friend_ids_page_100": timed(
                lambda: store.friend_ids(owner, after=PersonId(int(page[0])), limit=100), n
            ),
            "get_profiles_100": timed(lambda: store.get_profiles(mixed), n),
            "get_privacy_100": timed(lambda: store.get_privacy(mixed), n),
            "relations_100": timed(lambda: store.relations(owner, mixed), n),
            "likes_of_100": timed(lambda: store.likes_of(mixed), n),
            "mutual_friend_exists": timed(lambda: store.mutual_friend_exists(owner, mixed[0]), n),
            "resolve_token": timed(lambda: consent.resolve_token(token), n),
            "owner_state": timed(lambda: consent.owner_state(info), n),
            "scoped_ids_100_recorded": timed(lambda: consent.scoped_ids(app.id, page), n),
            "scoped_ids_100_fresh_service": timed(
                lambda: SqlConsentService(engine).scoped_ids(app.id, page), max(5, n // 10)
            ),
            "get_profile_x100": timed(singles, max(5, n // 10)),
        }
        batch = reads["get_profiles_100"]["median_us"]
        single = reads["get_profile_x100"]["median_us"]
        return {
            "load": load,
            "reads": reads,
            "ratios": {"page_query_speedup_over_100_single_queries": round(single / batch, 1)},
        }
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small population for CI smoke")
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL")
    args = parser.parse_args()
    people, degree, n = (2_000, 40, 50) if args.quick else (20_000, 100, 200)
    out: dict[str, Any] = {
        "benchmark": "store",
        "population": {"people": people, "mean_degree": degree, "seed": SEED},
        # the issue sets no floor for these reads; the Graph API benchmark carries the floor
        "floors": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        out["sqlite"] = run(url, people, degree, n)
    if args.postgres:
        schema = f"gw_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.postgres)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in args.postgres else "?"
        url = f"{args.postgres}{sep}options=-csearch_path%3D{schema}"
        try:
            upgrade(url)
            out["postgres"] = run(url, people, degree, n)
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
