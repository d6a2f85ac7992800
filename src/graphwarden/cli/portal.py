"""``graphwarden roles`` and ``graphwarden secret``: an app's roles and credentials.

``roles list|set|remove`` manage who holds admin, developer or tester on an app;
``secret rotate`` replaces the app secret and ``secret signing-key`` the deletion-callback
signing key (each shown this once). Every change is written to the admin action log.
"""

from __future__ import annotations

from dataclasses import asdict

import typer

from graphwarden.cli.context import opened_store, operator, print_json, print_table
from graphwarden.consent.deletion import issue_signing_key, load_master_key
from graphwarden.consent.roles import remove_role, role_holders, rotate_app_secret, set_role
from graphwarden.consent.services import SqlConsentService
from graphwarden.core.config import get_settings
from graphwarden.core.errors import NotFound
from graphwarden.core.types import AppId

roles_app = typer.Typer(no_args_is_help=True)
secret_app = typer.Typer(no_args_is_help=True)

_JSON = typer.Option(False, "--json", help="Print JSON.")
_BY = typer.Option(None, "--by", help="Who makes the change (default: your login).")


def _by(value: str | None) -> str:
    return value or f"cli:{operator()}"


@roles_app.command("list")
def roles_list(app_id: int, as_json: bool = _JSON) -> None:
    """Everyone holding a role on APP_ID."""
    with opened_store() as engine:
        app = SqlConsentService(engine).get_app(AppId(app_id))
        if app is None or app.status == "deleted":
            raise NotFound(f"no app {app_id}")
        rows = [asdict(h) for h in role_holders(engine, app_id)]
    if as_json:
        print_json(rows)
    else:
        print_table(rows, ["person_id", "person_name", "role", "granted_by", "granted_at"])


@roles_app.command("set")
def roles_set(app_id: int, person_id: int, role: str, by: str | None = _BY) -> None:
    """Give PERSON_ID the ROLE (admin, developer, tester) on APP_ID."""
    with opened_store() as engine:
        parsed = set_role(engine, app_id, person_id, role, by=_by(by))
    typer.echo(f"person {person_id} is now {parsed} of app {app_id}")


@roles_app.command("remove")
def roles_remove(app_id: int, person_id: int, by: str | None = _BY) -> None:
    """Take PERSON_ID's role on APP_ID away (an app keeps at least one admin)."""
    with opened_store() as engine:
        remove_role(engine, app_id, person_id, by=_by(by))
    typer.echo(f"person {person_id} no longer holds a role on app {app_id}")


@secret_app.command("rotate")
def secret_rotate(app_id: int, by: str | None = _BY, as_json: bool = _JSON) -> None:
    """Replace APP_ID's secret; the old one stops working now. Shown this once."""
    with opened_store() as engine:
        secret = rotate_app_secret(engine, app_id, by=_by(by))
    if as_json:
        print_json({"app_id": app_id, "secret": secret})
    else:
        typer.echo(f"new secret for app {app_id} (shown once): {secret}")


@secret_app.command("signing-key")
def secret_signing_key(app_id: int, by: str | None = _BY, as_json: bool = _JSON) -> None:
    """Replace APP_ID's deletion-callback signing key. Shown this once."""
    master = load_master_key(get_settings().data_dir)
    with opened_store() as engine:
        key = issue_signing_key(engine, app_id, master, by=_by(by))
    if as_json:
        print_json({"app_id": app_id, "signing_key": key})
    else:
        typer.echo(f"new deletion signing key for app {app_id} (shown once): {key}")
