"""``graphwarden db``: migrate and inspect the relational store."""

from __future__ import annotations

import json

import typer

from graphwarden.core.config import get_settings
from graphwarden.core.db import create_store_engine, current_revision, head_revision, upgrade

app = typer.Typer(no_args_is_help=True)


@app.command("upgrade")
def upgrade_command() -> None:
    """Migrate the store named by GRAPHWARDEN_DATABASE_URL to this code's schema."""
    url = get_settings().database_url
    upgrade(url)
    typer.echo(f"migrated to {head_revision()}")


@app.command("status")
def status_command(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show the store's schema revision and the one this code needs."""
    settings = get_settings()
    engine = create_store_engine(settings.database_url)
    try:
        current = current_revision(engine)
    finally:
        engine.dispose()
    head = head_revision()
    info = {
        "database": engine.url.render_as_string(hide_password=True),
        "current": current,
        "head": head,
        "up_to_date": current == head,
    }
    if as_json:
        typer.echo(json.dumps(info))
    else:
        for key, value in info.items():
            typer.echo(f"{key:>10}: {value}")
