"""A ledger record is private (ARCHITECTURE invariant 9): only the people it names, the app it
went to (in its own id space) and platform admins see it; to everyone else it does not exist.

The ledger is populated by real Graph API requests (a v1.0 and a v2.0 app reading the owner
and their friends); sessions are the pages' signed cookies, made with the server's own key.
"""

from __future__ import annotations

import json
import shutil
from base64 import b64encode
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from itsdangerous import TimestampSigner
from sqlalchemy import Engine, text
from tests.unit.api.population import (
    OWNER,
    START,
    STRANGER,
    AsgiClient,
    World,
    build_world,
    settings_for,
)

from graphwarden.consent.services import SqlConsentService
from graphwarden.consent.sessions import revoke_session
from graphwarden.core.clock import ManualClock
from graphwarden.core.db import create_store_engine
from graphwarden.ledger.queries import tree_size
from graphwarden.server import create_server
from graphwarden.web.session import SESSION_COOKIE, load_session_secret

TRACE_HEADERS = ("x-fb-trace-id", "x-request-id")


@dataclass
class Ledger:
    world: World
    engine: Engine
    client: AsgiClient
    secret: str
    #: an app that received nothing, and one of its tokens
    other_app: int
    other_token: str
    #: (seq, app, api_version, owner, subject) of every record
    records: list[tuple[int, int, str, int, int]]
    size: int

    def cookie(self, **data: Any) -> dict[str, str]:
        """A signed session cookie holding ``data`` (as the pages' sign-in writes it)."""
        session = {"sid": f"sid-{sorted(data.items())}", "iat_us": 1, **data}
        value = TimestampSigner(self.secret).sign(b64encode(json.dumps(session).encode()))
        return {SESSION_COOKIE: value.decode()}

    def get(
        self,
        seq: int | str,
        *,
        cookies: dict[str, str] | None = None,
        token: str | None = None,
        header: str | None = None,
    ) -> httpx.Response:
        params: dict[str, str] = {"seq": str(seq)}
        if token is not None:
            params["access_token"] = token
        headers = {"Authorization": header} if header is not None else {}
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        return self.client.get("/ledger/proof/inclusion", params=params, headers=headers)


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory, _sqlite_template: Path) -> Iterator[Ledger]:
    root = tmp_path_factory.mktemp("ledger-privacy")
    shutil.copyfile(_sqlite_template, root / "g.db")
    url = f"sqlite:///{root / 'g.db'}"
    engine = create_store_engine(url)
    clock = ManualClock(START)
    world = build_world(engine, clock, friends=12)
    consent = SqlConsentService(engine, clock)
    other = consent.create_app(name="Other", api_version="v2.0", permissions=[]).id
    consent.authorize(other, STRANGER, granted=["public_profile"])
    other_token = consent.issue_token(
        other, STRANGER, scope=["public_profile"], issued_by="cli:test"
    )
    settings = settings_for(url, root / "data")
    app = create_server(engine=engine, settings=settings, clock=clock)
    client = AsgiClient(app)
    for path, token in (
        ("/v1.0/me/friends?fields=id,name,birthday&limit=6", world.v1_token),
        ("/v1.0/me?fields=id,name,birthday", world.v1_token),
        ("/v2.0/me/friends?fields=id,name&limit=6", world.v2_token),
        ("/v2.0/me?fields=id,name", world.v2_token),
    ):
        assert client.get(path, params={"access_token": token}).status_code == 200
        clock.advance(seconds=1)
    app.state.ledger.publish_head()
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT d.seq, b.app_id, b.api_version, b.owner_id, d.subject_id "
                "FROM disclosures d JOIN disclosure_batches b ON b.id = d.batch_id ORDER BY d.seq"
            )
        ).all()
    records = [(int(a), int(b), str(c), int(d), int(e)) for a, b, c, d, e in rows]
    assert {r[2] for r in records} == {"v1.0", "v2.0"}
    assert STRANGER not in {r[3] for r in records} | {r[4] for r in records}
    try:
        yield Ledger(
            world=world,
            engine=engine,
            client=client,
            secret=load_session_secret(settings),
            other_app=int(other),
            other_token=other_token,
            records=records,
            size=tree_size(engine),
        )
    finally:
        client.close()
        engine.dispose()


def _shape(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    """Everything a client sees, with the request id blanked out."""
    rid = response.headers["x-request-id"]
    headers = sorted((k, "<rid>" if k in TRACE_HEADERS else v) for k, v in response.headers.items())
    return response.status_code, headers, response.content.replace(rid.encode(), b"<rid>")


def _nobodies(ledger: Ledger) -> dict[str, dict[str, Any]]:
    """Callers entitled to no record, as request options."""
    w = ledger.world
    return {
        "anonymous": {},
        "another app (query)": {"token": ledger.other_token},
        "another app (header)": {"header": f"Bearer {ledger.other_token}"},
        "unrelated person": {"cookies": ledger.cookie(person_id=int(STRANGER))},
        "garbage token": {"token": "EAAB" + "x" * 40},
        "bearer garbage": {"header": "Bearer \x7f"},
        "not bearer": {"header": "Basic Zm9vOmJhcg=="},
        "two tokens": {"token": w.v1_token, "header": f"Bearer {w.v2_token}"},
        "forged cookie": {
            "cookies": {SESSION_COOKIE: ledger.cookie(admin_id=1)[SESSION_COOKIE] + "x"}
        },
        "cookie of another key": {"cookies": _cookie_with("k" * 48, person_id=int(OWNER))},
    }


def _cookie_with(secret: str, **data: Any) -> dict[str, str]:
    session = {"sid": "s", "iat_us": 1, **data}
    return {
        SESSION_COOKIE: TimestampSigner(secret)
        .sign(b64encode(json.dumps(session).encode()))
        .decode()
    }


def test_walking_every_seq_without_entitlement_learns_nothing(ledger: Ledger) -> None:
    for name, options in _nobodies(ledger).items():
        missing = _shape(ledger.get(ledger.size + 10, **options))
        assert missing[0] == 404, name
        assert b"disclos" not in missing[2]
        for seq in range(ledger.size + 2):
            assert _shape(ledger.get(seq, **options)) == missing, (name, seq)


def test_a_signed_out_session_is_nobody(ledger: Ledger) -> None:
    cookies = ledger.cookie(person_id=int(OWNER), sid="gone")
    assert ledger.get(0, cookies=cookies).status_code == 200
    revoke_session(ledger.engine, "gone", 2**62)
    assert _shape(ledger.get(0, cookies=cookies)) == _shape(
        ledger.get(ledger.size + 10, cookies=cookies)
    )


def test_the_named_people_and_admins_see_the_whole_proof(ledger: Ledger) -> None:
    seq, app, _, owner, subject = next(r for r in ledger.records if r[3] != r[4])
    for who in ({"person_id": owner}, {"person_id": subject}, {"admin_id": 1}):
        r = ledger.get(seq, cookies=ledger.cookie(**who))
        assert r.status_code == 200, (who, r.text)
        body = r.json()
        assert body["format"] == "graphwarden-inclusion-proof-v1"
        assert body["record"]["owner_id"] == owner
        assert body["record"]["subject_id"] == subject
        assert body["record"]["app_id"] == app
        assert body["proof"]


def test_the_app_sees_its_records_in_its_own_id_space(ledger: Ledger) -> None:
    w = ledger.world
    v1 = [r for r in ledger.records if r[1] == int(w.v1_app)]
    v2 = [r for r in ledger.records if r[1] == int(w.v2_app)]
    assert v1
    assert v2
    for seq, _, _, owner, subject in v1:
        body = ledger.get(seq, token=w.v1_token).json()
        assert body["record"]["owner_id"] == owner
        assert body["record"]["subject_id"] == subject
        assert body["proof"] is not None
    consent = SqlConsentService(ledger.engine, ManualClock(START))
    for seq, _, version, owner, subject in v2:
        r = ledger.get(seq, header=f"Bearer {w.v2_token}")
        assert r.status_code == 200
        assert version == "v2.0"
        body = r.json()
        record = body["record"]
        assert record["owner_id"] == consent.scoped_id(w.v2_app, owner)  # type: ignore[arg-type]
        assert record["subject_id"] == consent.scoped_id(w.v2_app, subject)  # type: ignore[arg-type]
        # no platform id, and nothing a platform id could be recovered from by hashing
        assert "proof" not in body
        assert "leaf_hash" not in body
        named = {k: v for k, v in record.items() if k not in ("seq", "at_us")}
        for platform_id in {owner, subject}:
            assert platform_id not in named.values()
            assert str(platform_id) not in named.values()
        # the v1.0 app's token sees none of the v2.0 app's records, and the reverse
        assert ledger.get(seq, token=w.v1_token).status_code == 404


CALLERS = st.sampled_from(
    [
        ("anonymous", None),
        ("app", "v1"),
        ("app", "v2"),
        ("app", "other"),
        ("person", int(OWNER)),
        ("person", int(STRANGER)),
        ("person", 10),
        ("person", 13),
        ("person", 16),
        ("person", 19),
        ("admin", 1),
    ]
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(caller=CALLERS, index=st.integers(0, 10_000))
def test_a_record_is_visible_exactly_to_those_entitled(
    ledger: Ledger, caller: tuple[str, int | str | None], index: int
) -> None:
    seq, app, _, owner, subject = ledger.records[index % len(ledger.records)]
    w = ledger.world
    kind, who = caller
    options: dict[str, Any] = {}
    if kind == "app":
        token, app_id = {
            "v1": (w.v1_token, int(w.v1_app)),
            "v2": (w.v2_token, int(w.v2_app)),
            "other": (ledger.other_token, ledger.other_app),
        }[str(who)]
        options["token"] = token
        entitled = app_id == app
    elif kind == "person":
        options["cookies"] = ledger.cookie(person_id=who)
        entitled = who in (owner, subject)
    elif kind == "admin":
        options["cookies"] = ledger.cookie(admin_id=who)
        entitled = True
    else:
        entitled = False
    response = ledger.get(seq, **options)
    if entitled:
        assert response.status_code == 200, response.text
        assert response.json()["record"]["seq"] == seq
    else:
        assert _shape(response) == _shape(ledger.get(ledger.size + 1, **options))


def test_heads_and_consistency_stay_public(ledger: Ledger) -> None:
    assert ledger.client.get("/ledger/tree-head").status_code == 200
    r = ledger.client.get(
        "/ledger/proof/consistency", params={"first": ledger.size, "second": ledger.size}
    )
    assert r.status_code == 200
