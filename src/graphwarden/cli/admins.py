"""``graphwarden admins``: platform administrators (they sign in at ``/login/admin``)."""

from __future__ import annotations

import getpass
import sys

import typer

from graphwarden.consent.accounts import AccountService
from graphwarden.core.config import get_settings
from graphwarden.core.db import check_schema, create_store_engine, session_factory

app = typer.Typer(no_args_is_help=True, add_completion=False)


@app.command("create")
def create(
    username: str = typer.Option(..., "--username", help="The admin's sign-in name."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input (one line)."
    ),
) -> None:
    """Create a platform admin; the password is read from stdin or prompted for."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
    settings = get_settings()
    engine = create_store_engine(settings.database_url)
    try:
        check_schema(engine)
        accounts = AccountService(session_factory(engine))
        admin = accounts.create_admin(username, password, created_by="cli")
    finally:
        engine.dispose()
    typer.echo(f"created platform admin {admin.username} (id {admin.id})")


__all__ = ["app"]
