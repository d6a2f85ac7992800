"""Hardening of the OAuth endpoints: malformed client credentials are ``invalid_client``
(never a 5xx), and a refresh never widens what a token carries beyond today's grant."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.consent.test_oauth_server import (
    Harness,
    basic,
    build_harness,
    csrf_of,
    exchange,
    get_code,
    sign_in,
)

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


def _tokens(h: Harness) -> dict[str, str]:
    sign_in(h)
    code, verifier, _ = get_code(h)
    body: dict[str, str] = exchange(h, code, verifier).json()  # type: ignore[attr-defined]
    assert "email" in body["scope"].split()
    return body


def _refresh(h: Harness, refresh: str, scope: str | None) -> object:
    data = {"grant_type": "refresh_token", "refresh_token": refresh}
    if scope is not None:
        data["scope"] = scope
    return h.client.post("/oauth/token", data=data, headers=basic(h))


@pytest.mark.parametrize("scope", ["public_profile email user_friends", "email", None])
def test_a_refresh_never_returns_a_permission_declined_since(h: Harness, scope: str | None) -> None:
    first = _tokens(h)
    h.consent.revoke_permission(h.app_id, h.person, "email")  # type: ignore[arg-type]
    r = _refresh(h, first["refresh_token"], scope)
    assert r.status_code == 200, r.text  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert "email" not in body["scope"].split()
    assert "email" not in h.consent.resolve_token(body["access_token"]).scope
    # and the next refresh, from the new token, does not bring it back either
    again = _refresh(h, body["refresh_token"], "public_profile email")
    assert again.status_code == 400  # type: ignore[attr-defined]
    assert again.json()["error"] == "invalid_scope"  # type: ignore[attr-defined]


def test_a_refresh_may_narrow_but_never_widen(h: Harness) -> None:
    first = _tokens(h)
    narrowed = _refresh(h, first["refresh_token"], "public_profile").json()  # type: ignore[attr-defined]
    assert narrowed["scope"].split() == ["public_profile"]
    # beyond the spent token's scope: refused, not granted
    wider = _refresh(h, narrowed["refresh_token"], "public_profile email")
    assert wider.status_code == 400  # type: ignore[attr-defined]
    assert wider.json()["error"] == "invalid_scope"  # type: ignore[attr-defined]


def test_a_throttled_sign_in_says_when_to_retry(h: Harness) -> None:
    throttle = h.client.app.state.oauth.throttle  # type: ignore[attr-defined]
    window_s = throttle.limits.window_minutes * 60
    for _ in range(throttle.limits.identifier_failures):
        page = h.client.get("/login")
        h.client.post(
            "/login",
            data={"csrf_token": csrf_of(page.text), "identifier": str(h.person), "password": "no"},
        )
    page = h.client.get("/login")
    r = h.client.post(
        "/login",
        data={"csrf_token": csrf_of(page.text), "identifier": str(h.person), "password": "no"},
    )
    assert r.status_code == 429
    retry = r.headers.get("retry-after")
    assert retry is not None
    assert retry.isdigit()
    assert 1 <= int(retry) <= window_s


def test_the_refresh_grant_mints_nothing_for_a_non_role_person_in_development_mode(
    h: Harness,
) -> None:
    from graphwarden.consent.roles import set_mode

    first = _tokens(h)
    set_mode(h.engine, h.app_id, "development", by="test")
    r = _refresh(h, first["refresh_token"], None)
    assert r.status_code == 400, r.text  # type: ignore[attr-defined]
    assert r.json()["error"] == "invalid_grant"  # type: ignore[attr-defined]
