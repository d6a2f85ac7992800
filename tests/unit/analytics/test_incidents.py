"""Incident response over a real quiz-2014 replay (api engine) and over hand-made ledgers on
both stores: the blast radius equals the replay's figures and a plain SQL count, notices are
one per affected person and idempotent, the regulator's export verifies against the log and
fails when touched, what-if under v2.0 denies exactly the non-consenting disclosures, and the
forecast's interval covers the replay's measured exposure."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine, text
from tests.factories import add_app_and_person

from graphwarden.analytics.engines import connect, ledger_table
from graphwarden.analytics.forecast import (
    draw_installers,
    exposable_through_friends,
    exposure_forecast,
    reached_count,
)
from graphwarden.analytics.incidents import (
    close_incident,
    compute_affected,
    dismiss_notice,
    incident_notices,
    notify_incident,
    open_incident,
    open_notices,
)
from graphwarden.analytics.regulator import verify_export, write_export
from graphwarden.analytics.snapshot import take_snapshot
from graphwarden.analytics.whatif import what_if
from graphwarden.consent.admin_log import list_actions
from graphwarden.core.clock import ManualClock
from graphwarden.core.db import create_store_engine, upgrade
from graphwarden.core.errors import NotFound, VerificationError
from graphwarden.core.types import AppId, PersonId
from graphwarden.graph.fields import FIELD_BY_NAME, Audience
from graphwarden.graph.policy_arrays import read_policy_arrays
from graphwarden.ledger.interfaces import DisclosureBatch, DisclosureItem
from graphwarden.ledger.queries import head_at
from graphwarden.ledger.service import SqlDisclosureLedger
from graphwarden.ledger.signing import LedgerSigner
from graphwarden.server import in_process_client
from graphwarden.simulation.population import generate_population
from graphwarden.simulation.replay import ReplayConfig, run_replay
from graphwarden.simulation.scenarios import expected_grant, quiz_request

CLOCK = ManualClock(datetime(2018, 3, 17, tzinfo=UTC))


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A v1.0 quiz-2014 replay through the HTTP API on 600 people, 12 installers."""
    out = tmp_path_factory.mktemp("replay")
    population = generate_population(600, seed=4)
    summary = run_replay(
        ReplayConfig(out=out, seed=4, installers=12, versions=("v1.0",), engine="api"),
        population,
        http_factory=in_process_client,
        report=False,
    )
    store = out / "v1.0" / "graphwarden.db"
    upgrade(f"sqlite:///{store}")  # the incident tables, on the replay's own store
    return {"out": out, "store": store, "run": summary.to_json()["runs"][0]}


@pytest.fixture
def replay_engine(replay: dict[str, object]) -> Engine:
    engine = create_store_engine(f"sqlite:///{replay['store']}")
    yield engine
    engine.dispose()


def _quiz_app(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(text("SELECT id FROM apps WHERE name = 'thisisyourdigitallife'")).scalar()
        )


def test_incident_on_a_quiz_replay_matches_the_replay_and_notifies_once(
    replay: dict[str, object], replay_engine: Engine, tmp_path: Path
) -> None:
    run = replay["run"]
    app = _quiz_app(replay_engine)
    # the replay signed its closing head with the run's own key: the incident signs with it too
    signer = LedgerSigner.load_or_create(Path(replay["out"]) / "v1.0" / "data")
    snap = take_snapshot(replay_engine, tmp_path / "a", signer=signer, clock=CLOCK)
    view = open_incident(replay_engine, app, snap, admin="admin:ann", clock=CLOCK, reason="t")
    assert view.blast.people == run["exposed_users"]
    assert view.blast.non_consenting == run["non_consenting_exposed"]
    assert view.blast.records == run["disclosures"]
    # under v1.0 the quiz took everything its installers could reach
    assert view.potential["people"] == view.blast.people
    affected = compute_affected(snap, app, view.tree_size)
    assert (
        notify_incident(replay_engine, view.id, affected, admin="admin:ann", clock=CLOCK)
        == (run["exposed_users"])
    )
    assert notify_incident(replay_engine, view.id, affected, admin="admin:ann", clock=CLOCK) == 0
    notices = incident_notices(replay_engine, view.id)
    assert len(notices) == run["exposed_users"]
    # each notice lists exactly the fields recorded about that person, and whose token
    ledger = pq.read_table(Path(replay["out"]) / "v1.0" / "ledger.parquet").to_pylist()
    fields: dict[int, set[str]] = {}
    via: dict[int, set[int]] = {}
    for r in ledger:
        fields.setdefault(r["subject_id"], set()).add(r["field"])
        via.setdefault(r["subject_id"], set()).add(r["owner_id"])
    for n in notices:
        assert set(n.fields) == fields[n.person_id]
        assert set(n.via) == via[n.person_id]
    assert sum(1 for n in notices if not n.own) == run["non_consenting_exposed"]
    # a person sees and dismisses only their own notice
    mine = open_notices(replay_engine, notices[0].person_id)
    assert [n.id for n in mine] == [notices[0].id]
    with pytest.raises(NotFound):
        dismiss_notice(replay_engine, notices[1].person_id, notices[0].id, clock=CLOCK)
    dismiss_notice(replay_engine, notices[0].person_id, notices[0].id, clock=CLOCK)
    assert open_notices(replay_engine, notices[0].person_id) == []
    close_incident(replay_engine, view.id, admin="admin:ann", clock=CLOCK)
    actions = [a.action for a in list_actions(replay_engine, action_prefix="incident:")]
    assert actions[:4] == ["incident:close", "incident:notify", "incident:notify", "incident:open"]

    # the regulator's export: signed, at the head, checked against the log
    folder = write_export(
        tmp_path / "export", incident_id=view.id, app_id=app, app_name=view.app_name,
        head=head_at(replay_engine, view.tree_size), affected=affected, signer=signer,
        created_at=CLOCK.now(),
    )  # fmt: skip
    manifest = verify_export(
        folder, signer.public_key,
        recompute=lambda a, size: compute_affected(snap, a, size),
        signed_head=lambda size: head_at(replay_engine, size),
    )  # fmt: skip
    assert manifest["rows"] == run["exposed_users"]
    with pytest.raises(VerificationError):
        verify_export(folder, LedgerSigner.generate().public_key)
    tampered = (folder / "affected.csv").read_text().replace(",US,", ",GB,", 1)
    (folder / "affected.csv").write_text(tampered)
    with pytest.raises(VerificationError, match=r"affected\.csv"):
        verify_export(folder, signer.public_key)


def test_whatif_v2_denies_every_non_consenting_disclosure_and_no_own_one(
    replay: dict[str, object], replay_engine: Engine, tmp_path: Path
) -> None:
    app = _quiz_app(replay_engine)
    snap = take_snapshot(replay_engine, tmp_path / "w")
    con = connect("duckdb")
    result = what_if(
        ledger_table(con, snap.ledger), replay_engine, read_policy_arrays(replay_engine), "v2.0",
        app_id=app,
    )  # fmt: skip
    (a,) = result.apps
    groups = a.by_group
    assert groups["non_consenting"]["records"] > 0
    assert groups["non_consenting"]["denied_records"] == groups["non_consenting"]["records"]
    assert groups["non_consenting"]["denied_people"] == replay["run"]["non_consenting_exposed"]
    assert groups["own"]["records"] > 0
    assert groups["own"]["denied_records"] == 0
    # and v1.0, the version it was served under, denies nothing
    same = what_if(
        ledger_table(con, snap.ledger), replay_engine, read_policy_arrays(replay_engine), "v1.0",
        app_id=app,
    )  # fmt: skip
    assert same.apps[0].denied_records == 0


def _measured_non_public(ledger: Path, arrays: object) -> int:
    rows = pq.read_table(ledger).to_pylist()
    owners = {r["owner_id"] for r in rows}
    rows_of = arrays.rows_of  # type: ignore[attr-defined]
    audience = arrays.audience  # type: ignore[attr-defined]
    hit = {
        r["subject_id"]
        for r in rows
        if r["subject_id"] not in owners
        and audience[int(rows_of([r["subject_id"]])[0]), FIELD_BY_NAME[r["field"]].index]
        != int(Audience.PUBLIC)
    }
    return len(hit)


@pytest.mark.slow
def test_forecast_interval_contains_the_replays_exposure_in_nine_of_ten_seeds(
    tmp_path: Path,
) -> None:
    population = generate_population(1500, seed=11)
    perms = expected_grant("v1.0", quiz_request("v1.0"))
    inside = 0
    arrays = None
    for seed in range(1, 11):
        summary = run_replay(
            ReplayConfig(out=tmp_path / str(seed), seed=seed, installers=15, versions=("v1.0",),
                         engine="bulk", benign_installs=0),
            population,
            report=False,
        )  # fmt: skip
        if arrays is None:
            store = tmp_path / "store.db"
            from graphwarden.simulation.replay import build_template

            build_template(population, store)
            upgrade(f"sqlite:///{store}")
            engine = create_store_engine(f"sqlite:///{store}")
            arrays = read_policy_arrays(engine)
            engine.dispose()
        measured = _measured_non_public(summary.runs[0].ledger, arrays)
        forecast = exposure_forecast(
            arrays, "v1.0", perms, 15, samples=200, seed=seed, target_country="US"
        )
        inside += forecast.low <= measured <= forecast.high
    assert inside >= 9


def test_the_forecast_on_the_replays_own_installers_is_the_measured_figure(
    replay: dict[str, object], replay_engine: Engine
) -> None:
    arrays = read_policy_arrays(replay_engine)
    ledger = Path(replay["out"]) / "v1.0" / "ledger.parquet"
    owners = sorted(set(pq.read_table(ledger).column("owner_id").to_pylist()))
    flagged = exposable_through_friends(
        arrays, "v1.0", expected_grant("v1.0", quiz_request("v1.0"))
    )
    assert reached_count(arrays, flagged, arrays.rows_of(owners)) == _measured_non_public(
        ledger, arrays
    )
    rng = np.random.default_rng(1)
    assert arrays.platform_enabled[draw_installers(arrays, 10, rng, target_country="US")].all()


# --- the blast radius against a plain SQL count, on SQLite and PostgreSQL -------------------


def _fill_ledger(engine: Engine, app: int, other: int, seed: int) -> SqlDisclosureLedger:
    rng = np.random.default_rng(seed)
    ledger = SqlDisclosureLedger(engine, LedgerSigner.generate(), CLOCK)
    fields = ["id", "name", "birthday", "likes", "religion"]
    start = datetime(2014, 6, 1, tzinfo=UTC)
    for k in range(40):
        owner = int(rng.integers(1, 30))
        items = [
            DisclosureItem(PersonId(int(rng.integers(1, 200))), str(rng.choice(fields)), "v1.0/x")
            for _ in range(int(rng.integers(1, 20)))
        ]
        ledger.append(
            DisclosureBatch(
                request_id=f"r{k}", at=start + timedelta(minutes=k), app_id=AppId(
                    app if k % 3 else other
                ), api_version="v1.0", owner_id=PersonId(owner), items=items,
            )
        )  # fmt: skip
    ledger.publish_head()
    return ledger


def test_blast_radius_agrees_with_a_plain_sql_count(engine: Engine, tmp_path: Path) -> None:
    app, _ = add_app_and_person(engine, None, api_version="v1.0")
    other, _ = add_app_and_person(engine, None, api_version="v1.0")
    _fill_ledger(engine, app, other, seed=3)
    snap = take_snapshot(engine, tmp_path / "s")
    view = open_incident(engine, app, snap, admin="admin:ann", clock=CLOCK)
    sql = (
        "SELECT COUNT(*), COUNT(DISTINCT d.subject_id), COUNT(DISTINCT b.owner_id), "
        "MIN(b.at_us), MAX(b.at_us) FROM disclosures d JOIN disclosure_batches b "
        "ON b.id = d.batch_id WHERE b.app_id = :app"
    )
    non = (
        "SELECT COUNT(DISTINCT d.subject_id) FROM disclosures d JOIN disclosure_batches b "
        "ON b.id = d.batch_id WHERE b.app_id = :app AND d.subject_id NOT IN "
        "(SELECT owner_id FROM disclosure_batches WHERE app_id = :app)"
    )
    by_field = (
        "SELECT d.field, COUNT(DISTINCT d.subject_id), COUNT(*) FROM disclosures d "
        "JOIN disclosure_batches b ON b.id = d.batch_id WHERE b.app_id = :app GROUP BY d.field"
    )
    with engine.connect() as conn:
        records, people, owners, first, last = conn.execute(text(sql), {"app": app}).one()
        n_non = conn.execute(text(non), {"app": app}).scalar()
        fields = {f: {"people": p, "records": r} for f, p, r in conn.execute(
            text(by_field), {"app": app})}  # fmt: skip
    b = view.blast
    assert (b.records, b.people, b.consenting, b.non_consenting) == (records, people, owners, n_non)
    assert (b.first_at_us, b.last_at_us) == (first, last)
    assert b.by_field == fields
    assert sum(v["people"] for v in b.by_country.values()) == people
    assert json.loads(json.dumps(view.to_json()))["blast_radius"]["records"] == records
