"""``graphwarden replay quiz-2014``: replay the 2014 harvest under v1.0, v2.0 and v3.0.

Thin layer over :func:`graphwarden.simulation.replay.run_replay`: it generates the population,
gives the api engine an in-process HTTP client on the real server (the same requests a real
app makes, without a socket), shows a Rich progress bar, and prints the headline table (or
JSON with ``--json``). Bad input is one line on stderr and exit code 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from graphwarden.core.errors import InvalidInput
from graphwarden.core.types import API_VERSIONS, ApiVersion
from graphwarden.server import in_process_client

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


def parse_versions(text: str) -> tuple[ApiVersion, ...]:
    """``"v1.0,v3.0"`` -> the versions, checked."""
    items = [v.strip() for v in text.split(",") if v.strip()]
    bad = [v for v in items if v not in API_VERSIONS]
    if bad or not items:
        raise InvalidInput(
            f"--versions takes a comma-separated list of {', '.join(API_VERSIONS)}; got {text!r}"
        )
    return tuple(dict.fromkeys(items))  # type: ignore[arg-type]


def headline_table(summary: dict[str, Any]) -> Table:
    """The headline: one row per version."""
    table = Table(
        title=f"quiz-2014 on {summary['population']:,} people, "
        f"{summary['installers']:,} installers (seed {summary['seed']}, {summary['engine']})"
    )
    for column in ("version", "consenting", "exposed", "non-consenting exposed", "× installers",
                   "disclosures"):  # fmt: skip
        table.add_column(column, justify="right")
    for run in summary["runs"]:
        ratio = run["exposed_users"] / max(run["consenting_users"], 1)
        table.add_row(
            run["version"],
            f"{run['consenting_users']:,}",
            f"{run['exposed_users']:,}",
            f"{run['non_consenting_exposed']:,}",
            f"{ratio:,.1f}",
            f"{run['disclosures']:,}",
        )
    return table


def replay_quiz(
    *,
    users: int,
    installers: int | None,
    install_rate: float | None,
    seed: int,
    versions: str,
    engine: str,
    preset: str,
    out: Path,
    target_country: str = "US",
    target_share: float = 0.9,
    console: Console | None = None,
    show_progress: bool = True,
    population: Any = None,
    template: Path | None = None,
) -> dict[str, Any]:
    """Generate the population (unless ``population`` is given: the one generated for
    ``users``, ``seed`` and ``preset``) and replay; returns ``summary.json``'s content.

    ``template``: a SQLite store already holding that population, which the api engine
    copies for each version's run instead of loading the population itself.
    """
    from graphwarden.simulation.population import generate_population
    from graphwarden.simulation.replay import STORE_STAGE, ReplayConfig, run_replay
    from graphwarden.simulation.scenarios import installer_count

    chosen = parse_versions(versions)
    if engine not in ("api", "bulk"):
        raise InvalidInput(f"--engine must be api or bulk, not {engine!r}")
    if users < 2:
        raise InvalidInput("--users must be at least 2")
    count = installer_count(users, installers, install_rate)
    console = console or Console(stderr=True)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not show_progress,
        transient=False,
    ) as bar:
        if population is None:
            gen = bar.add_task("population", total=1)
            population = generate_population(users, seed, preset_name=preset)
            bar.update(gen, completed=1)
        tasks = {}
        if engine == "api" and template is None:
            tasks[STORE_STAGE] = bar.add_task("store (loading the population)", total=1)
        tasks.update({v: bar.add_task(f"{v} ({engine})", total=count) for v in chosen})

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(tasks[stage], completed=done, total=total)

        config = ReplayConfig(
            out=out,
            seed=seed,
            installers=count,
            versions=chosen,
            engine=engine,  # type: ignore[arg-type]
            target_country=target_country,
            target_share=target_share,
        )
        summary = run_replay(
            config,
            population,
            http_factory=in_process_client if engine == "api" else None,
            progress=progress,
            template=template,
        )
    return summary.to_json()


@app.command("quiz-2014")
def quiz_2014(
    users: Annotated[int, typer.Option("--users", help="People in the population.")] = 20_000,
    installers: Annotated[
        int | None, typer.Option("--installers", help="How many people install the quiz.")
    ] = None,
    install_rate: Annotated[
        float | None, typer.Option("--install-rate", help="Share of people who install it.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of population and traffic.")] = 1,
    versions: Annotated[
        str, typer.Option("--versions", help="Comma-separated versions.")
    ] = "v1.0,v2.0,v3.0",
    engine: Annotated[str, typer.Option("--engine", help="api (HTTP) or bulk (arrays).")] = "api",
    preset: Annotated[str, typer.Option("--preset", help="Population preset.")] = "2014",
    out: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("replay-out"),
    target_country: Annotated[
        str, typer.Option("--target-country", help="Where most installers live.")
    ] = "US",
    target_share: Annotated[
        float, typer.Option("--target-share", help="Share of installers from there.")
    ] = 0.9,
    as_json: Annotated[bool, typer.Option("--json", help="Print summary.json.")] = False,
) -> None:
    """Replay the 2014 quiz harvest; write summary.json and report.html to --out."""
    summary = replay_quiz(
        users=users,
        installers=installers,
        install_rate=install_rate,
        seed=seed,
        versions=versions,
        engine=engine,
        preset=preset,
        out=out,
        target_country=target_country,
        target_share=target_share,
        show_progress=not as_json,
    )
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    console = Console()
    console.print(headline_table(summary))
    console.print(f"summary: {out / 'summary.json'}\nreport:  {out / 'report.html'}")


__all__ = [
    "app",
    "headline_table",
    "replay_quiz",
]
