"""``graphwarden whatif``: the recorded disclosures replayed under another policy version
through the policy's bulk face; what it would have denied, per app and per field, in records
and in distinct people."""

from __future__ import annotations

from typing import Annotated

import typer

from graphwarden.cli.context import opened_store, print_json, print_table
from graphwarden.cli.incident import engine_choice
from graphwarden.core.config import get_settings


def whatif_command(
    policy: Annotated[str, typer.Option("--policy", help="The policy version to replay under.")],
    app_id: Annotated[int | None, typer.Option("--app", help="Only this app's records.")] = None,
    engine: Annotated[
        str | None, typer.Option("--engine", help="duckdb or spark (default: the setting).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Replay recorded disclosures under another policy version: what it would have denied."""
    from graphwarden.analytics.engines import connect, ledger_table
    from graphwarden.analytics.snapshot import take_snapshot
    from graphwarden.analytics.whatif import what_if
    from graphwarden.graph.policy_arrays import read_policy_arrays

    choice = engine_choice(engine)
    settings = get_settings()
    with opened_store() as store:
        snapshot = take_snapshot(store, settings.data_dir / "analytics")
        con = connect(choice, spark_master=settings.spark_master)
        result = what_if(
            ledger_table(con, snapshot.ledger), store, read_policy_arrays(store), policy,
            app_id=app_id, tree_size=snapshot.tree_size if snapshot.head else None,
        )  # fmt: skip
    if as_json:
        print_json(result.to_json())
        return
    rows = []
    for a in result.apps:
        rows.append({"app": a.app_id, "field": "(all)", "records": a.records,
                     "denied": a.denied_records, "people": a.people,
                     "denied people": a.denied_people,
                     "no longer exposed": a.people_no_longer_exposed})  # fmt: skip
        for group, c in a.by_group.items():
            rows.append({"app": a.app_id, "field": f"({group})", "records": c["records"],
                         "denied": c["denied_records"], "people": c["people"],
                         "denied people": c["denied_people"]})  # fmt: skip
        for f, c in a.by_field.items():
            rows.append({"app": a.app_id, "field": f, "records": c["records"],
                         "denied": c["denied_records"], "people": c["people"],
                         "denied people": c["denied_people"]})  # fmt: skip
    print_table(
        rows,
        ["app", "field", "records", "denied", "people", "denied people", "no longer exposed"],
        title=f"what if the recorded disclosures had been served under {policy}",
    )


__all__ = ["whatif_command"]
