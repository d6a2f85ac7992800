"""``graphwarden incident`` and ``graphwarden whatif`` through Typer's runner on a migrated
SQLite store: open, notify twice, export for regulators, verify (and a tampered export
failing), what-if, and bad input as one line with exit code 2."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.factories import add_app_and_person
from tests.integration.test_portal import add_person
from typer.testing import CliRunner

from graphwarden.cli.main import app
from graphwarden.core.clock import ManualClock
from graphwarden.core.config import get_settings
from graphwarden.core.db import create_store_engine
from graphwarden.core.types import AppId, PersonId
from graphwarden.ledger.interfaces import DisclosureBatch, DisclosureItem
from graphwarden.ledger.service import SqlDisclosureLedger
from graphwarden.ledger.signing import LedgerSigner


@pytest.fixture
def store(cli_env: str, tmp_path: Path) -> Iterator[tuple[Engine, int]]:
    engine = create_store_engine(cli_env)
    app_id, ann = add_app_and_person(engine, None, api_version="v1.0")
    others = [add_person(engine, f"F{i}") for i in range(4)]
    ledger = SqlDisclosureLedger(
        engine, LedgerSigner.load_or_create(tmp_path / "data"), ManualClock()
    )
    at = datetime(2014, 6, 1, tzinfo=UTC)
    items = [DisclosureItem(PersonId(ann), "birthday", "v1.0/self")] + [
        DisclosureItem(PersonId(p), f, "v1.0/friend") for p in others for f in ("id", "religion")
    ]
    ledger.append(
        DisclosureBatch(request_id="r1", at=at, app_id=AppId(app_id), api_version="v1.0",
                        owner_id=PersonId(ann), items=items)
    )  # fmt: skip
    yield engine, app_id
    engine.dispose()
    get_settings.cache_clear()


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_open_notify_export_verify(store: tuple[Engine, int], tmp_path: Path) -> None:
    _, app_id = store
    code, out, err = _run("incident", "open", "--app", str(app_id), "--json",
                          "--out", str(tmp_path / "report"))  # fmt: skip
    assert code == 0, err
    opened = json.loads(out)
    assert (opened["blast_radius"]["people"], opened["blast_radius"]["non_consenting"]) == (5, 4)
    assert Path(opened["report"]).read_text().count("data:image/png;base64,") == 4
    incident = str(opened["id"])
    code, out, _ = _run("incident", "notify", incident, "--json")
    assert json.loads(out)["created"] == 5
    code, out, _ = _run("incident", "notify", incident, "--json")
    assert json.loads(out)["created"] == 0
    code, out, err = _run("incident", "export", incident, "--out", str(tmp_path / "x"), "--json")
    assert code == 0, err
    code, out, err = _run("incident", "verify-export", str(tmp_path / "x"), "--json")
    assert code == 0, err
    assert json.loads(out) == {"verified": True, "rows": 5, "tree_size": 9, "against_log": True}
    rows = json.loads((tmp_path / "x" / "affected.json").read_text())
    rows[0]["fields"] = ["email"]
    (tmp_path / "x" / "affected.json").write_text(json.dumps(rows))
    code, _, err = _run("incident", "verify-export", str(tmp_path / "x"))
    assert code == 1
    assert "does not verify" in err
    code, out, _ = _run("incident", "list", "--json")
    assert [i["status"] for i in json.loads(out)] == ["notified"]
    code, out, _ = _run("whatif", "--policy", "v2.0", "--app", str(app_id), "--json")
    assert code == 0
    groups = json.loads(out)["apps"][0]["by_group"]
    assert groups["non_consenting"]["denied_records"] == groups["non_consenting"]["records"] == 8


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("incident", "open", "--app", "999"), "no app 999"),
        (("incident", "open", "--app", "1", "--engine", "oracle"), "analytics engine"),
        (("incident", "notify", "77"), "no incident 77"),
        (("whatif", "--policy", "v9.0"), "unknown policy version"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    store: tuple[Engine, int], args: tuple[str, ...], message: str
) -> None:
    code, _, err = _run(*args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err
