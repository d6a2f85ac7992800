"""``graphwarden incident``: open an incident about an app (its exact blast radius from the
ledger), notify the people it affected, export the list for regulators, verify an export.

Every step is written to the admin action log under the admin's name (``--admin``, default
the operator's login). ``--engine`` picks where the analytics run (default
``GRAPHWARDEN_ANALYTICS_ENGINE``, else DuckDB).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from graphwarden.analytics.engines import check_engine
from graphwarden.cli.context import fail, opened_store, operator, print_json, print_table
from graphwarden.core.clock import SystemClock
from graphwarden.core.config import get_settings
from graphwarden.core.errors import GraphwardenError, VerificationError

app = typer.Typer(no_args_is_help=True)

_JSON = typer.Option(False, "--json", help="Print JSON.")
_ADMIN = typer.Option(None, "--admin", help="The admin's name (default: your login).")
_ENGINE = typer.Option(
    None, "--engine", help="duckdb or spark (default: GRAPHWARDEN_ANALYTICS_ENGINE, else duckdb)."
)


def engine_choice(engine: str | None) -> str:
    """The analytics engine: the option, else the setting."""
    try:
        return check_engine(engine or get_settings().analytics_engine)
    except GraphwardenError as exc:
        fail(str(exc))


def _when(micros: int | None) -> str:
    if micros is None:
        return "-"
    return datetime.fromtimestamp(micros / 1e6, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _snapshot(engine: Any, *, sign: bool = True) -> Any:
    """Export ledger and people under the data dir; ``sign``: first sign a head over every
    record written so far (the figures are taken at the newest signed head)."""
    from graphwarden.analytics.snapshot import take_snapshot
    from graphwarden.ledger.signing import LedgerSigner

    settings = get_settings()
    signer = LedgerSigner.load_or_create(settings.data_dir) if sign else None
    return take_snapshot(engine, settings.data_dir / "analytics", signer=signer)


def print_incident(view: Any) -> None:
    """The incident's figures as tables."""
    b = view.blast
    pot = view.potential
    rows = [
        {"figure": "status", "value": view.status},
        {"figure": "tree size (signed head)", "value": f"{view.tree_size:,}"},
        {"figure": "records", "value": f"{b.records:,}"},
        {"figure": "people affected", "value": f"{b.people:,}"},
        {"figure": "  who authorized the app", "value": f"{b.consenting_affected:,}"},
        {"figure": "  non-consenting (through a friend)", "value": f"{b.non_consenting:,}"},
        {"figure": "installers (tokens used)", "value": f"{b.consenting:,}"},
        {"figure": "first access", "value": _when(b.first_at_us)},
        {"figure": "last access", "value": _when(b.last_at_us)},
        {"figure": "potential: people within reach", "value": f"{pot.get('people', 0):,}"},
        {"figure": "potential: non-consenting", "value": f"{pot.get('non_consenting', 0):,}"},
    ]
    print_table(rows, ["figure", "value"], title=f"incident {view.id}: app {view.app_id} "
                f"({view.app_name})")  # fmt: skip
    print_table(
        [{"field": f, **v} for f, v in b.by_field.items()],
        ["field", "people", "records"],
        title="by field",
    )
    print_table(
        [{"country": c, **v} for c, v in list(b.by_country.items())[:15]],
        ["country", "people", "non_consenting"],
        title="by country (top 15)",
    )
    print_table(b.top_installers[:10], ["owner_id", "people", "records"], title="top installers")


@app.command("open")
def open_command(
    app_id: Annotated[int, typer.Option("--app", help="The app's id.")],
    reason: str = typer.Option("", "--reason", help="Why (recorded in the admin log)."),
    admin: str | None = _ADMIN,
    engine: str | None = _ENGINE,
    out: Annotated[Path | None, typer.Option("--out", help="Write the HTML report here.")] = None,
    as_json: bool = _JSON,
) -> None:
    """Open an incident: the app's exact blast radius from the ledger, and its potential."""
    from graphwarden.analytics.incident_report import write_incident_report
    from graphwarden.analytics.incidents import open_incident

    choice = engine_choice(engine)
    settings = get_settings()
    with opened_store() as store:
        snapshot = _snapshot(store)
        view = open_incident(
            store, app_id, snapshot, admin=admin or f"cli:{operator()}", clock=SystemClock(),
            reason=reason, engine_name=choice, spark_master=settings.spark_master,
        )  # fmt: skip
    report = None
    if out is not None:
        report = write_incident_report(view, Path(out) / f"incident-{view.id}.html")
    if as_json:
        print_json({**view.to_json(), "report": None if report is None else str(report)})
        return
    print_incident(view)
    if report is not None:
        typer.echo(f"report: {report}")


@app.command("list")
def list_command(
    status: str = typer.Option("all", help="opened, notified, closed or all."),
    as_json: bool = _JSON,
) -> None:
    """Incidents, newest first."""
    from graphwarden.analytics.incidents import list_incidents

    with opened_store() as store:
        views = list_incidents(store, status=None if status == "all" else status)
    rows = [
        {"id": v.id, "app_id": v.app_id, "app_name": v.app_name, "status": v.status,
         "people": v.blast.people, "non_consenting": v.blast.non_consenting,
         "opened_at": v.opened_at.strftime("%Y-%m-%d %H:%M")}
        for v in views
    ]  # fmt: skip
    if as_json:
        print_json([v.to_json() for v in views])
        return
    print_table(rows, list(rows[0]) if rows else ["id"], title="incidents")


@app.command("show")
def show_command(incident_id: int, as_json: bool = _JSON) -> None:
    """One incident's figures, as they were when it was opened."""
    from graphwarden.analytics.incidents import get_incident

    with opened_store() as store:
        view = get_incident(store, incident_id)
    if as_json:
        print_json(view.to_json())
        return
    print_incident(view)


@app.command("notify")
def notify_command(
    incident_id: int,
    admin: str | None = _ADMIN,
    engine: str | None = _ENGINE,
    as_json: bool = _JSON,
) -> None:
    """Create one notice per affected person (idempotent: only missing ones are added)."""
    from graphwarden.analytics.incidents import compute_affected, get_incident, notify_incident

    choice = engine_choice(engine)
    with opened_store() as store:
        view = get_incident(store, incident_id)
        snapshot = _snapshot(store)
        affected = compute_affected(
            snapshot, view.app_id, view.tree_size, engine_name=choice,
            spark_master=get_settings().spark_master,
        )  # fmt: skip
        created = notify_incident(
            store, incident_id, affected, admin=admin or f"cli:{operator()}", clock=SystemClock()
        )
    result = {"incident": incident_id, "affected": len(affected), "created": created}
    if as_json:
        print_json(result)
        return
    typer.echo(
        f"incident {incident_id}: {created:,} notices created ({len(affected):,} people affected)"
    )


@app.command("close")
def close_command(
    incident_id: int,
    reason: str = typer.Option("", "--reason", help="Why (recorded in the admin log)."),
    admin: str | None = _ADMIN,
    as_json: bool = _JSON,
) -> None:
    """Close an incident."""
    from graphwarden.analytics.incidents import close_incident

    with opened_store() as store:
        view = close_incident(
            store, incident_id, admin=admin or f"cli:{operator()}", clock=SystemClock(),
            reason=reason,
        )  # fmt: skip
    if as_json:
        print_json(view.to_json())
        return
    typer.echo(f"incident {incident_id} closed")


@app.command("export")
def export_command(
    incident_id: int,
    out: Annotated[Path, typer.Option("--out", help="A new (or empty) directory.")],
    engine: str | None = _ENGINE,
    as_json: bool = _JSON,
) -> None:
    """Write the affected people for regulators: CSV and JSON, signed with the ledger's key,
    with the signed tree head they were computed at."""
    from graphwarden.analytics.incidents import compute_affected, get_incident
    from graphwarden.analytics.regulator import write_export
    from graphwarden.ledger.queries import head_at
    from graphwarden.ledger.signing import LedgerSigner

    choice = engine_choice(engine)
    settings = get_settings()
    with opened_store() as store:
        view = get_incident(store, incident_id)
        snapshot = _snapshot(store)
        affected = compute_affected(
            snapshot, view.app_id, view.tree_size, engine_name=choice,
            spark_master=settings.spark_master,
        )  # fmt: skip
        head = head_at(store, view.tree_size)
        folder = write_export(
            out, incident_id=view.id, app_id=view.app_id, app_name=view.app_name, head=head,
            affected=affected, signer=LedgerSigner.load_or_create(settings.data_dir),
            created_at=datetime.now(UTC),
        )  # fmt: skip
    result = {"incident": incident_id, "rows": len(affected), "out": str(folder),
              "tree_size": head.tree_size}  # fmt: skip
    if as_json:
        print_json(result)
        return
    typer.echo(
        f"{len(affected):,} affected people written to {folder} (tree size {head.tree_size})"
    )


@app.command("verify-export")
def verify_export_command(
    folder: Annotated[Path, typer.Argument(help="A directory written by `incident export`.")],
    public_key: str | None = typer.Option(
        None, "--public-key", help="The ledger's public key (PEM or hex); default: the local key."
    ),
    against_log: bool = typer.Option(
        True,
        "--against-log/--offline",
        help="Also recompute the list from the store's ledger and check its signed head.",
    ),
    as_json: bool = _JSON,
) -> None:
    """Check an export: signature, file digests, tree head; with the log, the list itself.
    Exit code 1 when it does not verify."""
    from graphwarden.analytics.incidents import compute_affected
    from graphwarden.analytics.regulator import verify_export
    from graphwarden.ledger.queries import head_at
    from graphwarden.ledger.signing import LedgerSigner, load_public_key

    settings = get_settings()
    try:
        key = (
            load_public_key(
                Path(public_key).read_text() if Path(public_key).is_file() else public_key
            )
            if public_key
            else LedgerSigner.load_or_create(settings.data_dir).public_key
        )
    except ValueError as exc:
        fail(f"bad public key: {exc}")
    manifest: dict[str, Any] | None = None
    problem: str | None = None
    if against_log:
        with opened_store() as store:
            snapshot = _snapshot(store, sign=False)
            try:
                manifest = verify_export(
                    folder,
                    key,
                    recompute=lambda app_id, size: compute_affected(snapshot, app_id, size),
                    signed_head=lambda size: head_at(store, size),
                )
            except VerificationError as exc:
                problem = str(exc)
    else:
        try:
            manifest = verify_export(folder, key)
        except VerificationError as exc:
            problem = str(exc)
    if problem is not None or manifest is None:
        typer.echo(f"graphwarden: export does not verify: {problem}", err=True)
        raise typer.Exit(1)
    result = {"verified": True, "rows": manifest["rows"], "tree_size":
              manifest["tree_head"]["tree_size"], "against_log": against_log}  # fmt: skip
    if as_json:
        print_json(result)
        return
    typer.echo(
        f"export verifies: {manifest['rows']:,} people at tree size "
        f"{manifest['tree_head']['tree_size']}"
        + (" (checked against the log)" if against_log else ""),
    )


__all__ = ["app", "engine_choice"]
