"""``graphwarden users``: list people."""

from __future__ import annotations

import typer

from graphwarden.cli.context import opened_store, print_json, print_table
from graphwarden.core.types import PersonId
from graphwarden.graph.store import SqlGraphStore

app = typer.Typer(no_args_is_help=True, help="List people.")


@app.command("list")
def list_command(
    limit: int = typer.Option(20, "--limit", min=1, max=10_000, help="At most this many."),
    after: int | None = typer.Option(None, "--after", help="Start after this person id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List people in id order with their friend counts."""
    with opened_store() as engine:
        people = SqlGraphStore(engine).list_people(
            after=None if after is None else PersonId(after), limit=limit
        )
    records = [{"id": int(i), "name": name, "friend_count": n} for i, name, n in people]
    if as_json:
        print_json(records)
    else:
        print_table(records, ("id", "name", "friend_count"), title="People")
