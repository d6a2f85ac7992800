"""Exposure from a hand-written ledger export: every count checked by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from graphwarden.analytics.exposure import LEDGER_SCHEMA, exposure_run, growth_curve, write_people


def _ledger(path: Path, rows: list[tuple[int, int, str, str]]) -> Path:
    """rows: (owner, subject, field, request id)."""
    table = pa.table(
        {
            "seq": list(range(len(rows))),
            "at": pa.array([0] * len(rows), pa.int64()).cast(LEDGER_SCHEMA.field("at").type),
            "request_id": [r[3] for r in rows],
            "app_id": [1] * len(rows),
            "api_version": ["v1.0"] * len(rows),
            "owner_id": [r[0] for r in rows],
            "subject_id": [r[1] for r in rows],
            "field": [r[2] for r in rows],
            "rule_id": ["v1.0/x"] * len(rows),
        },
        schema=LEDGER_SCHEMA,
    )
    pq.write_table(table, path)
    return path


def test_counts_come_from_the_records(tmp_path: Path) -> None:
    ledger = _ledger(
        tmp_path / "l.parquet",
        [
            (1, 1, "id", "a"),
            (1, 1, "birthday", "a"),
            (1, 2, "id", "b"),
            (1, 2, "birthday", "b"),
            (1, 3, "id", "b"),
            (4, 4, "id", "c"),
            (4, 2, "id", "d"),
        ],
    )
    people = write_people(
        tmp_path / "p.parquet", np.array([0, 0, 1, 1], dtype=np.uint8), ("US", "GB")
    )
    run = exposure_run("v1.0", ledger, people)
    assert (run.consenting_users, run.exposed_users, run.non_consenting_exposed) == (2, 4, 2)
    assert run.disclosures == 7
    assert run.by_field["birthday"] == {"people": 2, "disclosures": 2}
    assert run.by_field["id"] == {"people": 4, "disclosures": 5}
    assert run.by_country == {
        "US": {"exposed": 2, "non_consenting": 1},
        "GB": {"exposed": 2, "non_consenting": 1},
    }
    # consent from the consent store instead of the ledger's owners
    assert exposure_run("v1.0", ledger, people, consenting=[1, 2, 3, 4]).non_consenting_exposed == 0
    curve = growth_curve(ledger)
    assert curve.exposed[-1] == 4
    assert curve.calls[-1] == 4
    assert curve.installers[-1] == 2
    assert curve.exposed == sorted(curve.exposed)
