"""``graphwarden review``: the App Review queue and its decisions.

Every decision names the admin (``--admin``, default the operator's login) and its reason,
and is written to the admin action log with it.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import typer

from graphwarden.cli.context import opened_store, operator, print_json, print_table
from graphwarden.consent.review import Review, approve, get_review, list_reviews, reject

app = typer.Typer(no_args_is_help=True)

_JSON = typer.Option(False, "--json", help="Print JSON.")
_ADMIN = typer.Option(None, "--admin", help="The deciding admin's name (default: your login).")


def _row(review: Review) -> dict[str, Any]:
    row = asdict(review)
    row["permissions"] = list(review.permissions)
    return row


@app.command("list")
def list_command(
    status: str = typer.Option("pending", help="pending, approved, rejected or all."),
    as_json: bool = _JSON,
) -> None:
    """The review queue, oldest request first."""
    with opened_store() as engine:
        reviews = list_reviews(engine, status=None if status == "all" else status)
    rows = [_row(r) for r in reviews]
    if as_json:
        print_json(rows)
        return
    print_table(
        rows,
        ["id", "app_id", "app_name", "api_version", "permissions", "status", "submitted_at"],
        title=f"App Review ({status})",
    )


@app.command("show")
def show_command(
    review_id: int,
    installers: int = typer.Option(
        1000, "--installers", help="Expected installers, for the exposure forecast."
    ),
    samples: int = typer.Option(200, "--samples", help="Monte Carlo draws of the forecast."),
    seed: int = typer.Option(1, "--seed", help="Seed of the forecast's draws."),
    as_json: bool = _JSON,
) -> None:
    """One request: the permissions, the app's stated use, any decision, and the exposure
    forecast (non-consenting people whose non-public data would be reachable, 90% interval)."""
    from graphwarden.analytics.forecast import review_forecast

    with opened_store() as engine:
        review = get_review(engine, review_id)
        forecast = review_forecast(engine, review_id, installers, samples=samples, seed=seed)
    row = _row(review)
    if as_json:
        print_json({**row, "forecast": forecast.to_json()})
        return
    for key, value in row.items():
        shown = ", ".join(value) if isinstance(value, list) else value
        typer.echo(f"{key:>13}: {'' if shown is None else shown}")
    typer.echo(
        f"{'forecast':>13}: with {forecast.installers:,} installers, about "
        f"{forecast.expected:,.0f} people who never use the app would have non-public data "
        f"within its reach (90% interval {forecast.low:,}-{forecast.high:,}; "
        f"{forecast.samples} draws, seed {forecast.seed})"
    )


def _decide(review_id: int, reason: str, admin: str | None, as_json: bool, ok: bool) -> None:
    who = admin or f"cli:{operator()}"
    with opened_store() as engine:
        decide = approve if ok else reject
        review = decide(engine, review_id, admin=who, reason=reason)
    if as_json:
        print_json(_row(review))
    else:
        typer.echo(
            f"review {review.id} {review.status} by {review.decided_by}: "
            f"{', '.join(review.permissions)} for app {review.app_id} ({review.app_name})"
        )


@app.command("approve")
def approve_command(
    review_id: int,
    reason: str = typer.Option(..., "--reason", help="Why (recorded in the admin log)."),
    admin: str | None = _ADMIN,
    as_json: bool = _JSON,
) -> None:
    """Approve a request: its permissions join the app's approved permissions."""
    _decide(review_id, reason, admin, as_json, ok=True)


@app.command("reject")
def reject_command(
    review_id: int,
    reason: str = typer.Option(..., "--reason", help="Why (recorded in the admin log)."),
    admin: str | None = _ADMIN,
    as_json: bool = _JSON,
) -> None:
    """Reject a request: its permissions stay limited to the app's role holders."""
    _decide(review_id, reason, admin, as_json, ok=False)
