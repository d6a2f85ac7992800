"""Signed requests and the deletion-callback schedule (no network: see the integration test)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine
from tests.factories import add_app_and_person

from graphwarden.consent.admin_log import list_actions
from graphwarden.consent.deletion import (
    MAX_ATTEMPTS,
    backoff,
    deliver_due,
    deliveries,
    issue_signing_key,
    load_master_key,
    schedule_deletion,
    signing_key_bytes,
)
from graphwarden.consent.signed_request import deletion_request, parse, sign
from graphwarden.core.errors import AuthError, ConfigError, InvalidInput, NotFound

T0 = datetime(2018, 4, 10, tzinfo=UTC)


def test_signed_request_is_the_graph_api_format() -> None:
    """Verify the way an app's own code does, independently of ``parse``."""
    signed = deletion_request("1234abcd", T0, b"secret-key")
    sig, payload = signed.split(".")
    assert "=" not in signed
    expected = hmac.new(b"secret-key", payload.encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)) == expected
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert body == {
        "algorithm": "HMAC-SHA256",
        "user_id": "1234abcd",
        "issued_at": int(T0.timestamp()),
    }


@given(
    user_id=st.text(min_size=1, max_size=40),
    key=st.binary(min_size=1, max_size=64),
    flip=st.integers(min_value=0, max_value=10_000),
)
def test_any_tampering_is_detected(user_id: str, key: bytes, flip: int) -> None:
    """Property: a signed request verifies with its key, and any changed character fails."""
    signed = sign({"user_id": user_id, "issued_at": 1}, key)
    assert parse(signed, key)["user_id"] == user_id
    i = flip % len(signed)
    replacement = "A" if signed[i] != "A" else "B"
    tampered = signed[:i] + replacement + signed[i + 1 :]
    with pytest.raises((AuthError, InvalidInput)):
        parse(tampered, key)
    with pytest.raises(AuthError):
        parse(signed, key + b"x")


def test_malformed_signed_requests_are_refused() -> None:
    with pytest.raises(InvalidInput):
        parse("no-dot", b"k")
    with pytest.raises(InvalidInput):
        parse("a.b.c", b"k")
    forged = sign({"user_id": "1"}, b"k").split(".")[1]
    with pytest.raises(AuthError):
        parse("." + forged, b"k")


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(40) == timedelta(hours=6)


def test_master_key_is_created_private_and_reused(tmp_path: Path) -> None:
    key = load_master_key(tmp_path / "data")
    assert load_master_key(tmp_path / "data") == key
    mode = (tmp_path / "data" / "deletion-master.key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "deletion-master.key").write_text("nonsense")
    with pytest.raises(ConfigError):
        load_master_key(tmp_path / "bad")


def test_app_without_callback_url_is_recorded_as_told_nothing(engine: Engine) -> None:
    app, ann = add_app_and_person(engine, None)
    delivery = schedule_deletion(engine, app, ann, "scoped-1")
    [status] = deliveries(engine, person_id=ann)
    assert (status.id, status.outcome, status.app_name) == (delivery, "no_callback", "Quiz")
    assert deliver_due(engine, T0 + timedelta(days=1), master_key=b"unused") == []


def test_unreachable_callback_is_retried_then_fails(engine: Engine, tmp_path: Path) -> None:
    # port 9 on loopback (discard) is closed here: every attempt is refused at once
    app, ann = add_app_and_person(engine, "http://127.0.0.1:9/delete")
    master = load_master_key(tmp_path)
    issue_signing_key(engine, app, master, by="Dev D")
    schedule_deletion(engine, app, ann, "scoped-1")
    now = datetime.now(UTC)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        [status] = deliver_due(
            engine, now, master_key=master, max_attempts=MAX_ATTEMPTS, allow_internal=True
        )
        assert status.attempts == attempt
        assert status.last_error
        if attempt < MAX_ATTEMPTS:
            assert status.outcome == "pending"
            assert status.next_attempt_at == now + backoff(attempt)
            # not due again before its back-off has passed
            later = now + backoff(attempt) / 2
            assert deliver_due(engine, later, master_key=master, allow_internal=True) == []
            now = now + backoff(attempt)
    assert status.outcome == "failed"
    assert deliver_due(engine, now + timedelta(days=30), master_key=master) == []


def test_missing_signing_key_fails_the_attempt_without_posting(engine: Engine) -> None:
    app, ann = add_app_and_person(engine, "http://127.0.0.1:9/delete")
    schedule_deletion(engine, app, ann, "scoped-1")
    [status] = deliver_due(engine, datetime.now(UTC), master_key=b"x" * 44)
    assert status.outcome == "pending"
    assert "signing key" in (status.last_error or "")


def test_signing_key_rotation_is_logged_and_needs_the_master_key(
    engine: Engine, tmp_path: Path
) -> None:
    app, ann = add_app_and_person(engine, "http://127.0.0.1:9/delete")
    master = load_master_key(tmp_path / "a")
    first = issue_signing_key(engine, app, master, by="Dev D")
    second = issue_signing_key(engine, app, master, by="Dev D")
    assert first != second
    assert len(signing_key_bytes(second)) == 32
    assert list_actions(engine, limit=1)[0].action == "app:signing-key:rotate"
    with pytest.raises(NotFound):
        issue_signing_key(engine, app + 5, master, by="Dev D")
    schedule_deletion(engine, app, ann, "scoped-1")
    with pytest.raises(ConfigError):
        deliver_due(engine, datetime.now(UTC), master_key=load_master_key(tmp_path / "b"))


def test_signature_with_stray_low_bits_is_refused() -> None:
    signed = sign({"user_id": "1"}, b"k")
    sig, payload = signed.split(".")
    last = sig[-1]
    # the last of 43 characters carries 4 bits; its 2 low bits must be zero
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twin = alphabet[alphabet.index(last) | 1]
    with pytest.raises(InvalidInput):
        parse(f"{sig[:-1]}{twin}.{payload}", b"k")
