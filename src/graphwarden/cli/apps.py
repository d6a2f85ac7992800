"""``graphwarden apps``: register an app, list apps, show one."""

from __future__ import annotations

from typing import Any

import typer

from graphwarden.cli.context import (
    fail,
    opened_store,
    operator,
    print_json,
    print_table,
    split_list,
)
from graphwarden.consent.interfaces import AppInfo
from graphwarden.consent.services import APP_MODES, SqlConsentService
from graphwarden.core.types import API_VERSIONS, ApiVersion, AppId
from graphwarden.policy.tables import known_permissions, requestable

app = typer.Typer(no_args_is_help=True, help="Register and inspect apps.")

_COLUMNS = ("id", "name", "api_version", "mode", "status", "requested_permissions")


def app_record(info: AppInfo) -> dict[str, Any]:
    """An app as plain JSON values."""
    return {
        "id": int(info.id),
        "name": info.name,
        "api_version": info.api_version,
        "mode": info.mode,
        "status": info.status,
        "requested_permissions": sorted(info.requested_permissions),
        "approved_permissions": sorted(info.approved_permissions),
        "redirect_uris": list(info.redirect_uris),
        "privacy_policy_url": info.privacy_policy_url,
        "deletion_callback_url": info.deletion_callback_url,
    }


def check_version(version: str) -> ApiVersion:
    """``version`` if graphwarden knows it, else exit 2 naming the known ones."""
    if version not in API_VERSIONS:
        fail(f"unknown API version {version!r}; known: {', '.join(API_VERSIONS)}")
    return version


def check_permission_names(version: ApiVersion, names: list[str]) -> list[str]:
    """``names`` if each is a permission an app may ask for under ``version``, else exit 2."""
    known = known_permissions(version)
    for name in names:
        if name not in known:
            fail(f"unknown permission {name!r} in {version}")
        if not requestable(version, name):
            fail(f"permission {name!r} can no longer be requested in {version}")
    return names


@app.command("create")
def create_command(
    name: str = typer.Option(..., "--name", help="The app's display name."),
    api_version: str = typer.Option("v2.0", "--api-version", help="v1.0, v2.0 or v3.0."),
    permissions: str = typer.Option(
        "public_profile", "--permissions", help="Comma-separated permissions the app asks for."
    ),
    redirect_uri: list[str] = typer.Option(  # noqa: B008 - typer declares options this way
        [], "--redirect-uri", help="An OAuth redirect URI (repeatable)."
    ),
    mode: str = typer.Option("live", "--mode", help="live or development."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Register an app and print its id and secret (the secret is shown only now)."""
    version = check_version(api_version)
    if mode not in APP_MODES:
        fail(f"unknown mode {mode!r}; known: {', '.join(APP_MODES)}")
    perms = check_permission_names(version, split_list(permissions))
    with opened_store() as engine:
        consent = SqlConsentService(engine)
        new = consent.create_app(
            name=name,
            api_version=version,
            permissions=perms,
            redirect_uris=redirect_uri,
            mode=mode,
            created_by=f"cli:{operator()}",
        )
        info = consent.get_app(new.id)
    if as_json:
        print_json({"id": int(new.id), "secret": new.secret})
        return
    assert info is not None
    print_table([app_record(info)], _COLUMNS, title="App created")
    typer.echo(f"app id: {int(new.id)}")
    typer.echo(f"secret: {new.secret}")
    typer.echo("Store the secret now: graphwarden keeps only its hash and cannot show it again.")


@app.command("list")
def list_command(
    limit: int = typer.Option(100, "--limit", min=1, max=10_000, help="At most this many."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List registered apps in id order."""
    with opened_store() as engine:
        apps = SqlConsentService(engine).list_apps(limit=limit)
    records = [app_record(a) for a in apps]
    if as_json:
        print_json(records)
    else:
        print_table(records, _COLUMNS, title="Apps")


@app.command("show")
def show_command(
    app_id: int = typer.Argument(..., help="The app's id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show one app."""
    with opened_store() as engine:
        info = SqlConsentService(engine).get_app(AppId(app_id))
    if info is None:
        fail(f"no app {app_id}")
    record = app_record(info)
    if as_json:
        print_json(record)
    else:
        rows = [{"field": k, "value": v} for k, v in record.items()]
        print_table(rows, ("field", "value"), title=f"App {app_id}")
