"""The ledger's HTTP routes on the real Graph API application (SQLite store)."""

from __future__ import annotations

import asyncio
import json
from base64 import b64encode
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from itsdangerous import TimestampSigner
from tests.unit.ledger.builders import make_batch

from graphwarden.api.app import create_app
from graphwarden.core.clock import ManualClock
from graphwarden.core.config import Settings
from graphwarden.core.db import create_store_engine
from graphwarden.ledger.merkle import verify_consistency, verify_inclusion
from graphwarden.ledger.records import Disclosure
from graphwarden.ledger.service import SqlDisclosureLedger
from graphwarden.ledger.signing import LedgerSigner, SignedTreeHead, load_public_key, verify_head
from graphwarden.server import create_server
from graphwarden.web.session import SESSION_COOKIE, load_session_secret


class Client:
    """Requests straight into the ASGI app (no server, no thread)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def get(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
                return await c.get(path, params=params, headers=headers)

        return asyncio.run(call())


@pytest.fixture
def client(sqlite_url: str, tmp_path: Path) -> Client:
    settings = Settings.from_env(
        {"GRAPHWARDEN_DATABASE_URL": sqlite_url, "GRAPHWARDEN_DATA_DIR": str(tmp_path)}
    )
    engine = create_store_engine(sqlite_url)
    clock = ManualClock()
    app = create_server(engine=engine, settings=settings, clock=clock)
    ledger = app.state.ledger
    for _ in range(3):
        ledger.append(make_batch(500, at=clock.now()))
        clock.advance(seconds=2)
    return Client(app)


def test_key_head_and_proofs_verify_with_the_served_key(client: Client) -> None:
    key_doc = client.get("/.well-known/graphwarden-ledger-key").json()
    key = load_public_key(key_doc["public_key_pem"])
    assert load_public_key(key_doc["public_key_hex"]) == key
    head = SignedTreeHead.from_json(client.get("/ledger/tree-head").json())
    verify_head(head, key)
    assert head.tree_size == 1500

    # a record is private: a platform admin (signed in on the pages' cookie) may see it
    session = {"admin_id": 1, "admin_username": "root", "sid": "s", "iat_us": 1}
    signed = TimestampSigner(load_session_secret(client.app.state.settings)).sign(
        b64encode(json.dumps(session).encode())
    )
    admin = {"Cookie": f"{SESSION_COOKIE}={signed.decode()}"}
    proof = client.get("/ledger/proof/inclusion", params={"seq": 777}, headers=admin).json()
    record = Disclosure(**proof["record"])
    verify_inclusion(
        777,
        head.tree_size,
        record.leaf_hash(),
        [bytes.fromhex(h) for h in proof["proof"]],
        head.root_hash,
    )
    cons = client.get("/ledger/proof/consistency", params={"first": 500, "second": 1500}).json()
    first = SignedTreeHead.from_json(cons["first"])
    verify_head(first, key)
    verify_consistency(
        500, 1500, first.root_hash, head.root_hash, [bytes.fromhex(h) for h in cons["proof"]]
    )


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/ledger/proof/inclusion", {"seq": "abc"}, 400),
        ("/ledger/proof/inclusion", {}, 400),
        ("/ledger/proof/inclusion", {"seq": "-4"}, 400),
        ("/ledger/proof/inclusion", {"seq": "5", "tree_size": "77"}, 404),
        ("/ledger/proof/consistency", {"first": "3", "second": "1"}, 400),
    ],
)
def test_bad_requests_get_graph_api_errors(
    client: Client, path: str, params: dict[str, str], status: int
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == status
    assert "error" in response.json()


def test_the_running_server_signs_the_newest_records_on_its_own(
    sqlite_url: str, tmp_path: Path
) -> None:
    import time
    import warnings

    with warnings.catch_warnings():
        # Starlette would rather use httpx2 for its test client; httpx is what is installed
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from graphwarden.core.clock import SystemClock
    from graphwarden.ledger.queries import latest_head, tree_size

    settings = Settings.from_env(
        {"GRAPHWARDEN_DATABASE_URL": sqlite_url, "GRAPHWARDEN_DATA_DIR": str(tmp_path)}
    )
    engine = create_store_engine(sqlite_url)
    clock = SystemClock()
    app = create_app(engine=engine, settings=settings, clock=clock)
    with TestClient(app):  # runs the lifespan: the head publisher is up
        # the first append signs a head itself; the second, within the second, does not
        app.state.ledger.append(make_batch(7, at=clock.now()))
        app.state.ledger.append(make_batch(5, at=clock.now()))
        size = tree_size(engine)
        first = latest_head(engine)
        assert first is not None
        assert first.tree_size < size
        deadline = time.monotonic() + 5
        head = latest_head(engine)
        while (head is None or head.tree_size < size) and time.monotonic() < deadline:
            time.sleep(0.1)
            head = latest_head(engine)
    engine.dispose()
    assert head is not None
    assert head.tree_size == size


def test_a_deferred_worker_serves_the_integrators_key_and_heads(
    sqlite_url: str, tmp_path: Path
) -> None:
    """An API worker of a deferred ledger holds no signer; it serves the key the integrator
    signs with, and the heads the integrator signed verify with it."""
    settings = Settings.from_env(
        {
            "GRAPHWARDEN_DATABASE_URL": sqlite_url,
            "GRAPHWARDEN_DATA_DIR": str(tmp_path),
            "GRAPHWARDEN_LEDGER_INTEGRATION": "deferred",
        }
    )
    engine = create_store_engine(sqlite_url)
    clock = ManualClock()
    app = create_app(engine=engine, settings=settings, clock=clock)
    assert app.state.ledger.signer is None
    app.state.ledger.append(make_batch(300, at=clock.now()))
    integrator = SqlDisclosureLedger(
        engine, LedgerSigner.load_or_create(tmp_path), clock, integration="deferred"
    )
    integrator.publish_head()
    client = Client(app)
    key = load_public_key(
        client.get("/.well-known/graphwarden-ledger-key").json()["public_key_pem"]
    )
    head = SignedTreeHead.from_json(client.get("/ledger/tree-head").json())
    verify_head(head, key)
    assert head.tree_size == 300
    engine.dispose()
