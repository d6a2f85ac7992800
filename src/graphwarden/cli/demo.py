"""``graphwarden demo``: populate a laptop-sized platform, replay quiz-2014, then serve it.

1. generates the population (default 20,000 people, preset 2014, seed 1) and loads it into the
   configured store (the default SQLite file) unless it already holds people;
2. replays quiz-2014 under v1.0, v2.0 and v3.0 with the **bulk** engine (the policy's bulk
   face over the same population, its ledger written as Parquet with a Merkle root): loading
   a 20,000-person store three times and sending the harvest through HTTP takes several
   minutes on two cores, the bulk face takes seconds, and a test shows both engines give the
   same summary. ``graphwarden replay quiz-2014 --engine api`` sends every call over HTTP;
3. prints the headline table and the report's path, then serves the platform on
   127.0.0.1:8000 with demo sign-in on (``--no-serve`` stops after the report).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from graphwarden.core.config import get_settings
from graphwarden.core.db import check_schema, create_store_engine, upgrade


def demo_command(
    users: Annotated[int, typer.Option("--users", help="People in the population.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of population and traffic.")] = 1,
    install_rate: Annotated[
        float, typer.Option("--install-rate", help="Share of people who install the quiz.")
    ] = 0.002,
    out: Annotated[Path | None, typer.Option("--out", help="Report directory.")] = None,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve afterwards.")] = True,
    port: Annotated[int, typer.Option("--port", help="Port to serve on.")] = 8000,
) -> None:
    """Populate, replay quiz-2014 under three versions, print the headline, then serve."""
    from graphwarden.cli.replay import headline_table, replay_quiz
    from graphwarden.graph.loader import load_population, people_count
    from graphwarden.simulation.population import generate_population

    console = Console(stderr=True)
    settings = get_settings()
    out = out or settings.data_dir / "replay"
    upgrade(settings.database_url)
    engine = create_store_engine(settings.database_url)
    try:
        check_schema(engine)
        if people_count(engine) == 0:
            console.print(f"populating {users:,} people (preset 2014, seed {seed}) ...")
            population = generate_population(users, seed, preset_name="2014")
            load_population(engine, population, progress=True)
        else:
            console.print("the store already holds people: keeping them")
    finally:
        engine.dispose()
    summary = replay_quiz(
        users=users,
        installers=None,
        install_rate=install_rate,
        seed=seed,
        versions="v1.0,v2.0,v3.0",
        engine="bulk",
        preset="2014",
        out=out,
        console=console,
    )
    Console().print(headline_table(summary))
    typer.echo(f"report: {out / 'report.html'}")
    if not serve:
        return
    import uvicorn

    os.environ.setdefault("GRAPHWARDEN_DEMO_LOGIN", "1")  # synthetic people sign in as demo-<id>
    typer.echo(f"serving on http://127.0.0.1:{port} (sign in as <id> / demo-<id>)")
    uvicorn.run("graphwarden.server:app_from_env", factory=True, host="127.0.0.1", port=port)


__all__ = ["demo_command"]
