"""``graphwarden populate`` and ``graphwarden graph stats``: generate, load and calibrate.

``populate`` generates a deterministic synthetic population and loads it into the configured
store (person id = index + 1). ``graph stats`` prints the calibration table of a saved
population file or of the store's graph.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import typer

from graphwarden.cli.context import fail, opened_store, print_json, print_table
from graphwarden.core.errors import GraphwardenError
from graphwarden.graph.loader import load_population, read_graph
from graphwarden.graph.stats import (
    PRESETS,
    GraphStats,
    calibration_table,
    measure,
    preset,
)
from graphwarden.simulation.countries import COUNTRY_CODES
from graphwarden.simulation.population import MAX_PEOPLE, Population, generate_population

#: populations up to this size get every profile field filled unless told otherwise
FILL_ALL_UP_TO = 10_000

graph_app = typer.Typer(no_args_is_help=True, help="Graph statistics and calibration.")


def _stats_rows(stats: GraphStats, preset_name: str) -> list[dict[str, Any]]:
    rows = calibration_table(stats, preset(preset_name))
    for row in rows:
        for key in ("measured", "target", "relative_error"):
            value = row[key]
            if isinstance(value, float):
                row[key] = round(value, 4)
    return rows


def _print_stats(stats: GraphStats, preset_name: str, as_json: bool, extra: dict[str, Any]) -> None:
    rows = _stats_rows(stats, preset_name)
    if as_json:
        print_json({**extra, "preset": preset_name, "stats": stats.to_dict(), "calibration": rows})
        return
    print_table(
        rows,
        ("figure", "measured", "target", "relative_error", "within_10pct"),
        title=f"Calibration against the {preset_name} preset ({stats.people:,} people, "
        f"{stats.friendships:,} friendships)",
    )


def populate_command(
    users: int = typer.Option(..., "--users", min=1, max=MAX_PEOPLE, help="How many people."),
    seed: int = typer.Option(..., "--seed", min=0, help="Seed: the same seed, the same people."),
    preset_name: str = typer.Option(
        "2014", "--preset", help=f"Degree preset: {', '.join(sorted(PRESETS))}."
    ),
    median_friends: float | None = typer.Option(
        None, "--median-friends", min=1, help="Explicit median friend count (with --mean-friends)."
    ),
    mean_friends: float | None = typer.Option(
        None, "--mean-friends", min=1, help="Explicit mean friend count (with --median-friends)."
    ),
    save: str | None = typer.Option(None, "--save", help="Also write the arrays to FILE.npz."),
    no_store: bool = typer.Option(False, "--no-store", help="Do not load into the store."),
    replace: bool = typer.Option(False, "--replace", help="Replace people already stored."),
    fill_all: bool | None = typer.Option(
        None,
        "--fill-all/--sparse",
        help=f"Every profile field filled (default up to {FILL_ALL_UP_TO:,} people) or "
        "realistic gaps.",
    ),
    with_stats: bool = typer.Option(False, "--stats", help="Also print calibration statistics."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Generate a deterministic synthetic population and load it into the store."""
    if preset_name not in PRESETS:
        fail(f"unknown preset {preset_name!r}; choose one of {', '.join(sorted(PRESETS))}")
    complete = users <= FILL_ALL_UP_TO if fill_all is None else fill_all
    check_memory(users)
    if not as_json:
        typer.echo(
            f"generating {users:,} people (preset {preset_name}, seed {seed}); "
            f"about {users * BYTES_PER_PERSON / 2**30:,.1f} GiB of memory at the peak ...",
            err=True,
        )
    try:
        with ExitStack() as stack:
            # check the store before spending minutes on a population it cannot take
            engine = None if no_store else stack.enter_context(opened_store())
            started = time.perf_counter()
            pop = generate_population(
                users,
                seed,
                preset_name=preset_name,
                median_friends=median_friends,
                mean_friends=mean_friends,
                fill_all=complete,
            )
            generated_s = time.perf_counter() - started
            saved = str(pop.save(Path(save))) if save is not None else None
            load = None
            if engine is not None:
                load = load_population(engine, pop, replace=replace, progress=not as_json)
    except GraphwardenError as exc:
        fail(str(exc))
    summary: dict[str, Any] = {
        "people": pop.n,
        "friendships": pop.graph.n_edges,
        "likes": int(pop.likes_indices.size),
        "pages": pop.n_pages,
        "seed": seed,
        "preset": pop.preset,
        "median_friends_target": round(pop.median_friends, 2),
        "mean_friends_target": round(pop.mean_friends, 2),
        "generate_seconds": round(generated_s, 3),
        "saved": saved,
        "load": None if load is None else load.to_dict(),
        "person_ids": f"1..{pop.n}",
    }
    stats = measure(pop.graph, pop.country, seed=seed) if with_stats else None
    stats_preset = pop.preset if pop.preset in PRESETS else "2014"
    if as_json:
        if stats is not None:
            summary["stats"] = stats.to_dict()
            summary["calibration"] = _stats_rows(stats, stats_preset)
        print_json(summary)
        return
    rows = [{"figure": k, "value": v} for k, v in summary.items() if k != "load" and v is not None]
    if load is not None:
        rows += [{"figure": f"rows {k}", "value": v} for k, v in load.rows.items()]
        rows.append({"figure": "load seconds", "value": round(load.seconds, 2)})
        rows.append({"figure": "records/s", "value": round(load.records_per_second)})
    print_table(rows, ("figure", "value"), title="Population")
    if stats is not None:
        _print_stats(stats, stats_preset, False, {})


#: peak memory of generating one person (measured at 50,000 and 200,000 people, preset 2014:
#: 2.5 to 3.8 KB; the larger figure, so an estimate errs on the side of refusing)
BYTES_PER_PERSON = 4_000


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation now (Linux ``MemAvailable``), or None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def check_memory(users: int) -> None:
    """Refuse, with one line and exit code 2, a population that cannot fit in memory here."""
    need = users * BYTES_PER_PERSON
    have = available_memory()
    if have is not None and need > have:
        fail(
            f"--users {users:,} needs about {need / 2**30:,.0f} GiB of memory to generate; "
            f"{have / 2**30:,.0f} GiB is available here: use fewer people or a larger machine"
        )


@graph_app.command("stats")
def stats_command(
    source: str | None = typer.Option(
        None, "--from", help="A population FILE.npz (default: the store's graph)."
    ),
    preset_name: str = typer.Option(
        "2014", "--preset", help=f"Compare against: {', '.join(sorted(PRESETS))}."
    ),
    sample: int = typer.Option(2000, "--sample", min=10, max=1_000_000, help="Clustering sample."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the sample."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Print the calibration table: degrees, clustering, giant component, home bias."""
    if preset_name not in PRESETS:
        fail(f"unknown preset {preset_name!r}; choose one of {', '.join(sorted(PRESETS))}")
    try:
        if source is not None:
            pop = Population.load(Path(source))
            stats = measure(pop.graph, pop.country, sample=sample, seed=seed)
            origin = str(source)
        else:
            with opened_store() as engine:
                stored = read_graph(engine)
            if stored.graph.n == 0:
                fail("the store holds no people: run `graphwarden populate` first")
            codes = {c: i for i, c in enumerate(COUNTRY_CODES)}
            country = [codes.get(str(c), 255) for c in stored.country]
            stats = measure(stored.graph, country, sample=sample, seed=seed)
            origin = "store"
    except GraphwardenError as exc:
        fail(str(exc))
    _print_stats(stats, preset_name, as_json, {"source": origin})


__all__ = [
    "BYTES_PER_PERSON",
    "available_memory",
    "check_memory",
    "graph_app",
    "populate_command",
    "stats_command",
]
