"""A data-deletion callback reaches a real receiver on loopback, which verifies the signature
with the key the developer was shown, fails twice and then confirms."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from sqlalchemy import Engine
from tests.factories import add_app_and_person

from graphwarden.consent.deletion import (
    backoff,
    deliver_due,
    deliveries,
    issue_signing_key,
    load_master_key,
    schedule_deletion,
    signing_key_bytes,
)
from graphwarden.consent.signed_request import parse
from graphwarden.core.errors import GraphwardenError


class Receiver:
    """An app's deletion endpoint: verifies each signed request, fails the first ``fail``."""

    def __init__(self, fail: int) -> None:
        self.fail = fail
        self.key = b""
        self.received: list[dict[str, object]] = []
        self.rejected: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # the stdlib's name
                length = int(self.headers.get("Content-Length", "0"))
                form = parse_qs(self.rfile.read(length).decode())
                try:
                    payload = parse(form["signed_request"][0], receiver.key)
                except (GraphwardenError, KeyError) as exc:
                    receiver.rejected.append(str(exc))
                    self._answer(400, {"error": "bad signature"})
                    return
                receiver.received.append(payload)
                if len(receiver.received) <= receiver.fail:
                    self._answer(503, {"error": "try later"})
                    return
                code = f"del-{payload['user_id']}"
                self._answer(
                    200,
                    {"url": f"https://quiz.example/deletion?id={code}", "confirmation_code": code},
                )

            def _answer(self, status: int, body: dict[str, str]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/deletion"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(fail=2)
    yield r
    r.close()


def setup_app(engine: Engine, url: str) -> tuple[int, int]:
    return add_app_and_person(engine, url, api_version="v3.0")


def test_receiver_fails_twice_then_confirms(
    engine: Engine, receiver: Receiver, tmp_path: Path
) -> None:
    app, ann = setup_app(engine, receiver.url)
    master = load_master_key(tmp_path)
    receiver.key = signing_key_bytes(issue_signing_key(engine, app, master, by="Dev D"))
    schedule_deletion(engine, app, ann, "a1b2c3")
    now = datetime.now(UTC)

    [first] = deliver_due(engine, now, master_key=master, allow_internal=True)
    assert (first.outcome, first.attempts, first.last_status) == ("pending", 1, 503)
    assert deliver_due(engine, now, master_key=master, allow_internal=True) == []  # backing off
    now += backoff(1)
    [second] = deliver_due(engine, now, master_key=master, allow_internal=True)
    assert (second.outcome, second.attempts, second.last_status) == ("pending", 2, 503)
    now += backoff(2)
    [third] = deliver_due(engine, now, master_key=master, allow_internal=True)
    assert (third.outcome, third.attempts, third.last_status) == ("delivered", 3, 200)
    assert third.confirmation_code == "del-a1b2c3"
    assert third.status_url == "https://quiz.example/deletion?id=del-a1b2c3"

    assert receiver.rejected == []
    assert [p["user_id"] for p in receiver.received] == ["a1b2c3"] * 3
    assert all(p["algorithm"] == "HMAC-SHA256" for p in receiver.received)
    # what the person sees
    [status] = deliveries(engine, person_id=ann)
    assert status.outcome == "delivered"
    assert status.as_json()["confirmation_code"] == "del-a1b2c3"


def test_receiver_rejects_a_request_signed_with_a_rotated_key(
    sqlite_engine: Engine, receiver: Receiver, tmp_path: Path
) -> None:
    app, ann = setup_app(sqlite_engine, receiver.url)
    master = load_master_key(tmp_path)
    receiver.key = signing_key_bytes(issue_signing_key(sqlite_engine, app, master, by="Dev D"))
    issue_signing_key(sqlite_engine, app, master, by="Dev D")  # the app kept the old one
    schedule_deletion(sqlite_engine, app, ann, "a1b2c3")
    [status] = deliver_due(sqlite_engine, datetime.now(UTC), master_key=master, allow_internal=True)
    assert (status.outcome, status.last_status) == ("pending", 400)
    assert receiver.rejected == ["signed_request signature does not match"]


def test_a_callback_inside_the_network_is_never_posted_to(
    sqlite_engine: Engine, receiver: Receiver, tmp_path: Path
) -> None:
    """Without GRAPHWARDEN_ALLOW_INTERNAL_CALLBACKS a loopback receiver gets nothing: the
    attempt fails naming the address, and is retried like any failed callback."""
    app, ann = setup_app(sqlite_engine, receiver.url)
    master = load_master_key(tmp_path)
    receiver.key = signing_key_bytes(issue_signing_key(sqlite_engine, app, master, by="Dev D"))
    schedule_deletion(sqlite_engine, app, ann, "a1b2c3")
    [status] = deliver_due(sqlite_engine, datetime.now(UTC), master_key=master)
    assert (status.outcome, status.last_status) == ("pending", None)
    assert status.last_error is not None
    assert "inside the platform's network" in status.last_error
    assert receiver.received == []
    assert receiver.rejected == []
