"""``graphwarden demo``: populate a laptop-sized platform, replay quiz-2014, then serve it.

1. generates the population (default 20,000 people, preset 2014, seed 1) and loads it into the
   configured store (the default SQLite file) unless it already holds people;
2. replays quiz-2014 under v1.0, v2.0 and v3.0 with the **api** engine: every installer signs
   in, passes the consent screen and gets a token, and the quiz reads through the HTTP Graph
   API, which decides every field with the policy and records it in the ledger first. Each
   version runs on its own copy of one populated store: the configured SQLite store the demo
   has just populated, checkpointed and copied (a store that already held people, or a
   PostgreSQL store, is not copied: the replay loads the population into a template of its
   own). At 20,000 people the three runs take well under two minutes on two cores, with a
   progress bar per version;
3. prints the headline table and the report's path, then serves the platform on
   127.0.0.1:8000 with demo sign-in on (``--no-serve`` stops after the report).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.engine import make_url

from graphwarden.core.config import get_settings
from graphwarden.core.db import check_schema, create_store_engine, upgrade


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite store URL; ``None`` for another database or an in-memory one.

    >>> sqlite_file("sqlite:///data/graphwarden.db")
    PosixPath('data/graphwarden.db')
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


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
    console.print(f"generating {users:,} people (preset 2014, seed {seed}) ...")
    population = generate_population(users, seed, preset_name="2014")
    template: Path | None = None
    engine = create_store_engine(settings.database_url)
    try:
        check_schema(engine)
        if people_count(engine) == 0:
            console.print(f"populating the store with {users:,} people ...")
            load_population(engine, population, progress=True)
            # the store holds exactly this population: the replay's runs copy it
            template = sqlite_file(settings.database_url)
        else:
            console.print("the store already holds people: keeping them")
    finally:
        engine.dispose()  # closed before the replay checkpoints and copies the file
    summary = replay_quiz(
        users=users,
        installers=None,
        install_rate=install_rate,
        seed=seed,
        versions="v1.0,v2.0,v3.0",
        engine="api",
        preset="2014",
        out=out,
        console=console,
        population=population,
        template=template,
    )
    Console().print(headline_table(summary))
    typer.echo(f"report: {out / 'report.html'}")
    if not serve:
        return
    from graphwarden.cli.serve import run_server

    os.environ.setdefault("GRAPHWARDEN_DEMO_LOGIN", "1")  # synthetic people sign in as demo-<id>
    typer.echo(f"serving on http://127.0.0.1:{port} (sign in as <id> / demo-<id>)")
    run_server(host="127.0.0.1", port=port)


__all__ = ["demo_command", "sqlite_file"]
