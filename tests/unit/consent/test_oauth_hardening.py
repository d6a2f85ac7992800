"""Hardening of the OAuth endpoints: malformed client credentials are ``invalid_client``
(never a 5xx), and a refresh never widens what a token carries beyond today's grant."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.consent.test_oauth_server import Harness, build_harness

ENDPOINTS = ("/oauth/token", "/oauth/revoke", "/oauth/introspect")
FORM = {"grant_type": "refresh_token", "refresh_token": "x" * 20, "token": "x" * 20}


@pytest.fixture
def h(store_url: str, tmp_path: object) -> Iterator[Harness]:
    harness = build_harness(store_url, tmp_path)
    with harness.client:
        yield harness
    harness.engine.dispose()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "credential",
    [
        base64.b64encode(b"\xff\xfe:\xff").decode(),  # not UTF-8 once decoded
        base64.b64encode(b"1:\xc3").decode(),  # a cut multi-byte character
        base64.b64encode(b"no-colon-here").decode(),
        "!!not base64!!",
        "",
    ],
)
def test_malformed_basic_credentials_are_invalid_client(
    h: Harness, endpoint: str, credential: str
) -> None:
    r = h.client.post(endpoint, data=FORM, headers={"Authorization": f"Basic {credential}"})
    assert r.status_code == 401, r.text
    assert r.json()["error"] == "invalid_client"
    assert r.headers["www-authenticate"].startswith("Basic ")
    assert r.headers["cache-control"] == "no-store"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    raw=st.binary(max_size=80),
    scheme=st.sampled_from(["Basic", "basic", "BASIC"]),
    encode=st.booleans(),
)
def test_no_basic_header_ever_gets_a_5xx(
    h: Harness, endpoint: str, raw: bytes, scheme: str, encode: bool
) -> None:
    # either the bytes base64-encoded, or the bytes themselves as the header (latin-1 text)
    credential = base64.b64encode(raw).decode() if encode else raw.decode("latin-1")
    value = f"{scheme} {credential}".replace("\r", "").replace("\n", "")
    r = h.client.post(endpoint, data=FORM, headers={"Authorization": value.encode("latin-1")})
    assert r.status_code < 500, (value, r.status_code, r.text)
    if r.status_code == 401:
        assert r.json()["error"] == "invalid_client"
        assert "www-authenticate" in r.headers
