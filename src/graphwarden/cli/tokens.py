"""``graphwarden tokens``: developer test tokens, issued as if the person had consented."""

from __future__ import annotations

import typer

from graphwarden.cli.apps import check_permission_names
from graphwarden.cli.context import (
    fail,
    opened_store,
    operator,
    print_json,
    print_table,
    split_list,
)
from graphwarden.consent.services import SqlConsentService
from graphwarden.consent.sql_tokens import DEFAULT_TOKEN_TTL
from graphwarden.core.types import AppId, PersonId
from graphwarden.graph.store import SqlGraphStore
from graphwarden.policy.rules import development

app = typer.Typer(no_args_is_help=True, help="Issue developer test tokens.")


@app.command("issue")
def issue_command(
    app_id: int = typer.Option(..., "--app", help="The app's id."),
    user_id: int = typer.Option(..., "--user", help="The person's id."),
    permissions: str = typer.Option(
        "public_profile", "--permissions", help="Comma-separated permissions to grant."
    ),
    ttl_days: int = typer.Option(
        DEFAULT_TOKEN_TTL // 86400, "--ttl-days", min=1, max=3650, help="Lifetime in days."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Record the person's consent to the app and issue a user access token.

    The token is recorded as issued by "cli:<operator>", so test tokens stay
    distinguishable from tokens people obtained through the OAuth flow.
    """
    with opened_store() as engine:
        consent = SqlConsentService(engine)
        info = consent.get_app(AppId(app_id))
        if info is None or info.status == "deleted":
            fail(f"no app {app_id}")
        if SqlGraphStore(engine).get_profile(PersonId(user_id)) is None:
            fail(f"no user {user_id}")
        # the policy's development-mode rule: a development-mode app gets no token for a
        # person without a role on it (the Graph API would refuse it anyway)
        holders = consent.role_holders_among(info.id, [PersonId(user_id)])
        stopped = development(info.api_version, info.mode != "live", PersonId(user_id) in holders)
        if stopped is not None:
            fail(f"user {user_id} holds no role on development-mode app {app_id} ({stopped.id})")
        perms = check_permission_names(info.api_version, split_list(permissions))
        scope = sorted({"public_profile", *perms})
        consent.authorize(info.id, PersonId(user_id), granted=scope)
        ttl = ttl_days * 86400
        token = consent.issue_token(
            info.id, PersonId(user_id), scope=scope, issued_by=f"cli:{operator()}", ttl_seconds=ttl
        )
    if as_json:
        print_json({"access_token": token, "token_type": "bearer", "expires_in": ttl})
        return
    print_table(
        [{"app": app_id, "user": user_id, "scope": scope, "expires_in_days": ttl_days}],
        ("app", "user", "scope", "expires_in_days"),
        title="Access token issued",
    )
    typer.echo(f"access_token: {token}")
