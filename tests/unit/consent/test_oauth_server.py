"""The OAuth 2.0 authorization server end to end through its HTTP face (in-process ASGI):
sign-in, consent, code, token, refresh, revocation, introspection, and one negative test per
rule of RFC 6749 / 7636 / 7009 / 7662 / 9207 / 9700. No answer may be a 5xx.
"""

from __future__ import annotations

import base64
import re
import secrets
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, update

from graphwarden.api.middleware import EdgeMiddleware
from graphwarden.api.oauth_routes import router as oauth_router
from graphwarden.consent.deletion import deliveries
from graphwarden.consent.models import AccessToken
from graphwarden.consent.oauth import build_oauth
from graphwarden.consent.oauth_models import RefreshToken
from graphwarden.consent.services import SqlConsentService
from graphwarden.core.clock import ManualClock
from graphwarden.core.config import Settings
from graphwarden.core.db import create_store_engine, session_factory
from graphwarden.graph.models import Person
from graphwarden.web.routes import router as web_router
from graphwarden.web.session import install_sessions

with warnings.catch_warnings():
    # Starlette would rather use httpx2 for its test client; httpx is what is installed
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

ISSUER = "http://127.0.0.1:8000"
REDIRECT = "http://127.0.0.1:9999/callback"
PASSWORD = "correct horse battery"


@dataclass
class Harness:
    client: TestClient
    engine: Engine
    clock: ManualClock
    consent: SqlConsentService
    app_id: int
    secret: str
    person: int


def _person(engine: Engine, name: str = "Ada Lovelace") -> int:
    factory = session_factory(engine)
    with factory() as session:
        first, last = name.split(" ", 1)
        row = Person(
            name=name, first_name=first, last_name=last, gender="female", platform_enabled=True
        )
        session.add(row)
        session.commit()
        return row.id


def build_harness(store_url: str, tmp_path: object, *, version: str = "v2.0") -> Harness:
    engine = create_store_engine(store_url)
    clock = ManualClock(datetime.now(UTC))
    consent = SqlConsentService(engine, clock)
    components = build_oauth(consent, engine, issuer=ISSUER, clock=clock)
    app = FastAPI()
    app.add_middleware(EdgeMiddleware)  # the platform's one response hook (page headers)
    app.include_router(oauth_router)
    app.include_router(web_router)
    app.state.oauth = components
    settings_ = Settings(database_url=store_url, data_dir=tmp_path, redis_url=None, issuer=ISSUER)  # type: ignore[arg-type]
    install_sessions(app, settings_, secret=secrets.token_urlsafe(40))
    person = _person(engine)
    components.accounts.set_password(person, PASSWORD)
    new = consent.create_app(
        name="Quiz",
        api_version=version,  # type: ignore[arg-type]
        permissions=["email", "user_friends", "user_birthday", "user_likes"]
        + (["friends_birthday"] if version == "v1.0" else []),
        redirect_uris=[REDIRECT],
        privacy_policy_url="https://quiz.example/privacy",
    )
    client = TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False)
    return Harness(client, engine, clock, consent, int(new.id), new.secret, person)


@pytest.fixture
def h(store_url: str, tmp_path: object) -> Iterator[Harness]:
    harness = build_harness(store_url, tmp_path)
    with harness.client:
        yield harness
    harness.engine.dispose()


def sign_in(h: Harness) -> None:
    page = h.client.get("/login")
    token = csrf_of(page.text)
    r = h.client.post(
        "/login", data={"csrf_token": token, "identifier": str(h.person), "password": PASSWORD}
    )
    assert r.status_code == 303, r.text


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, create_s256_code_challenge(verifier)


def authorize_params(h: Harness, challenge: str | None, **extra: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": str(h.app_id),
        "redirect_uri": REDIRECT,
        "scope": "public_profile email user_friends user_birthday",
        "state": "xyz-state",
    }
    if challenge is not None:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    params |= extra
    return params


def get_code(
    h: Harness, *, decline: tuple[str, ...] = (), **extra: str
) -> tuple[str, str, dict[str, list[str]]]:
    verifier, challenge = pkce()
    params = authorize_params(h, challenge, **extra)
    screen = h.client.get("/oauth/authorize", params=params)
    if screen.status_code == 302 and not decline:
        # the person already granted everything the app asks: no screen, straight back
        query = parse_qs(urlsplit(screen.headers["location"]).query)
        return query["code"][0], verifier, query
    assert screen.status_code == 200, screen.text
    boxes = re.findall(r'type="checkbox" name="grant" value="([^"]+)"', screen.text)
    hidden = re.findall(r'type="hidden" name="grant" value="([^"]+)"', screen.text)
    grants = [p for p in boxes if p not in decline] + hidden
    form = {"csrf_token": csrf_of(screen.text), "decision": "allow", "grant": grants}
    r = h.client.post("/oauth/authorize?" + urlencode(params), data=form)
    assert r.status_code == 302, r.text
    query = parse_qs(urlsplit(r.headers["location"]).query)
    return query["code"][0], verifier, query


def basic(h: Harness, secret: str | None = None) -> dict[str, str]:
    raw = f"{h.app_id}:{secret or h.secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def exchange(h: Harness, code: str, verifier: str | None, **extra: str) -> object:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT} | extra
    if verifier is not None:
        data["code_verifier"] = verifier
    return h.client.post("/oauth/token", data=data, headers=basic(h))


def introspect(h: Harness, token: str) -> dict[str, object]:
    r = h.client.post("/oauth/introspect", data={"token": token}, headers=basic(h))
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


# --- the happy path ---------------------------------------------------------------------------


def test_code_flow_issues_tokens_with_state_iss_and_declined_permission_left_out(
    h: Harness,
) -> None:
    sign_in(h)
    code, verifier, query = get_code(h, decline=("user_friends",))
    assert query["state"] == ["xyz-state"]
    assert query["iss"] == [ISSUER]
    r = exchange(h, code, verifier)
    assert r.status_code == 200, r.text  # type: ignore[attr-defined]
    token = r.json()  # type: ignore[attr-defined]
    assert r.headers["cache-control"] == "no-store"  # type: ignore[attr-defined]
    assert set(token["scope"].split()) == {"public_profile", "email"}
    assert len(token["access_token"]) >= 32
    assert token["refresh_token"]
    info = h.consent.resolve_token(token["access_token"])
    assert info.scope == frozenset({"public_profile", "email"})
    auth = h.consent.get_authorization(info.app.id, info.person_id)
    assert auth is not None
    assert "user_friends" in auth.declined
    assert "user_birthday" not in auth.granted  # needs App Review: never offered
    assert introspect(h, token["access_token"])["active"] is True


def test_refresh_rotates_and_reuse_revokes_the_family(h: Harness) -> None:
    sign_in(h)
    code, verifier, _ = get_code(h)
    first = exchange(h, code, verifier).json()  # type: ignore[attr-defined]
    data = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    second = h.client.post("/oauth/token", data=data, headers=basic(h))
    assert second.status_code == 200, second.text
    new = second.json()
    assert new["refresh_token"] != first["refresh_token"]
    assert introspect(h, new["access_token"])["active"] is True
    # the rotated-out refresh token comes back: theft is assumed, the family dies
    replay = h.client.post("/oauth/token", data=data, headers=basic(h))
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    for token in (first["access_token"], new["access_token"], new["refresh_token"]):
        assert introspect(h, token) == {"active": False}


def test_code_reuse_is_refused_and_revokes_tokens_from_first_use(h: Harness) -> None:
    sign_in(h)
    code, verifier, _ = get_code(h)
    tokens = exchange(h, code, verifier).json()  # type: ignore[attr-defined]
    again = exchange(h, code, verifier)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert introspect(h, tokens["access_token"]) == {"active": False}
    assert introspect(h, tokens["refresh_token"]) == {"active": False}


# --- PKCE (RFC 7636, RFC 9700 §2.1.1) ---------------------------------------------------------


def _error_redirect(r: object) -> dict[str, list[str]]:
    assert r.status_code == 302, r.text  # type: ignore[attr-defined]
    location = r.headers["location"]  # type: ignore[attr-defined]
    assert location.startswith(REDIRECT + "?")
    return parse_qs(urlsplit(location).query)


def test_missing_pkce_is_refused_with_a_redirect_carrying_state_and_iss(h: Harness) -> None:
    sign_in(h)
    q = _error_redirect(h.client.get("/oauth/authorize", params=authorize_params(h, None)))
    assert q["error"] == ["invalid_request"]
    assert q["state"] == ["xyz-state"]
    assert q["iss"] == [ISSUER]


def test_plain_pkce_is_refused(h: Harness) -> None:
    sign_in(h)
    verifier = secrets.token_urlsafe(48)
    params = authorize_params(h, None, code_challenge=verifier, code_challenge_method="plain")
    assert _error_redirect(h.client.get("/oauth/authorize", params=params))["error"] == [
        "invalid_request"
    ]
    # a challenge without a method would default to plain (RFC 7636 §4.3): refused too
    params = authorize_params(h, None, code_challenge=create_s256_code_challenge(verifier))
    assert _error_redirect(h.client.get("/oauth/authorize", params=params))["error"] == [
        "invalid_request"
    ]


def test_verifier_mismatch_and_missing_verifier_are_invalid(h: Harness) -> None:
    sign_in(h)
    code, _verifier, _ = get_code(h)
    wrong = exchange(h, code, secrets.token_urlsafe(48))
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    code2, _v2, _ = get_code(h)
    missing = exchange(h, code2, None)
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"


# --- redirect URIs (exact match, never redirect to an unregistered one) -------------------------


def test_redirect_uri_off_by_one_character_gets_an_error_page_not_a_redirect(h: Harness) -> None:
    _, challenge = pkce()
    for uri in (REDIRECT + "/", REDIRECT[:-1], REDIRECT.replace("9999", "9998")):
        r = h.client.get(
            "/oauth/authorize", params=authorize_params(h, challenge, redirect_uri=uri)
        )
        assert r.status_code == 400
        assert "location" not in r.headers
        assert "invalid_request" in r.text


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    mutation=st.one_of(
        st.text(min_size=1, max_size=6).map(lambda s: REDIRECT + s),
        st.integers(min_value=0, max_value=len(REDIRECT) - 1).flatmap(
            lambda i: st.characters(codec="utf-8").map(
                lambda c: REDIRECT[:i] + c + REDIRECT[i + 1 :]
            )
        ),
        st.integers(min_value=1, max_value=len(REDIRECT) - 1).map(lambda i: REDIRECT[:i]),
    )
)
def test_random_redirect_uri_mutations_never_get_a_redirect(h: Harness, mutation: str) -> None:
    if mutation == REDIRECT:
        return
    _, challenge = pkce()
    r = h.client.get(
        "/oauth/authorize", params=authorize_params(h, challenge, redirect_uri=mutation)
    )
    assert r.status_code == 400
    assert "location" not in r.headers


def test_token_request_with_other_redirect_uri_is_invalid_grant(h: Harness) -> None:
    sign_in(h)
    code, verifier, _ = get_code(h)
    r = exchange(h, code, verifier, redirect_uri=REDIRECT + "x")
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant"


# --- client authentication, grants, and token endpoint errors -----------------------------------


def test_token_endpoint_errors_are_rfc6749_json(h: Harness) -> None:
    sign_in(h)
    code, verifier, _ = get_code(h)
    wrong_secret = h.client.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "code_verifier": verifier},
        headers=basic(h, "not-the-secret"),
    )
    assert wrong_secret.status_code == 401
    assert wrong_secret.json()["error"] == "invalid_client"
    post_auth = h.client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": REDIRECT,
            "client_id": str(h.app_id),
            "client_secret": h.secret,
        },
    )
    assert post_auth.status_code == 200, post_auth.text  # client_secret_post works
    for grant in ("password", "client_credentials", "implicit"):
        r = h.client.post("/oauth/token", data={"grant_type": grant}, headers=basic(h))
        assert r.status_code == 400
        assert r.json()["error"] == "unsupported_grant_type"
    json_body = h.client.post("/oauth/token", json={"grant_type": "authorization_code"})
    assert json_body.status_code == 400
    assert json_body.json()["error"] == "invalid_request"


def test_implicit_response_type_is_refused(h: Harness) -> None:
    _, challenge = pkce()
    r = h.client.get(
        "/oauth/authorize", params=authorize_params(h, challenge, response_type="token")
    )
    assert _error_redirect(r)["error"] == ["unsupported_response_type"]


def test_unknown_client_gets_an_error_page(h: Harness) -> None:
    _, challenge = pkce()
    r = h.client.get("/oauth/authorize", params=authorize_params(h, challenge, client_id="999"))
    assert r.status_code == 400
    assert "location" not in r.headers


# --- revocation and introspection -------------------------------------------------------------


def test_revocation_answers_200_for_unknown_and_revokes_known(h: Harness) -> None:
    assert (
        h.client.post("/oauth/revoke", data={"token": "nope"}, headers=basic(h)).status_code == 200
    )
    sign_in(h)
    code, verifier, _ = get_code(h)
    tokens = exchange(h, code, verifier).json()  # type: ignore[attr-defined]
    r = h.client.post("/oauth/revoke", data={"token": tokens["access_token"]}, headers=basic(h))
    assert r.status_code == 200
    assert introspect(h, tokens["access_token"]) == {"active": False}
    r = h.client.post(
        "/oauth/revoke",
        data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
        headers=basic(h),
    )
    assert r.status_code == 200
    refresh = h.client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=basic(h),
    )
    assert refresh.status_code == 400
    assert refresh.json()["error"] == "invalid_grant"


def test_introspection_needs_the_app_itself(h: Harness) -> None:
    sign_in(h)
    code, verifier, _ = get_code(h)
    tokens = exchange(h, code, verifier).json()  # type: ignore[attr-defined]
    anonymous = h.client.post("/oauth/introspect", data={"token": tokens["access_token"]})
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "invalid_client"
    other = h.consent.create_app(
        name="Other", api_version="v2.0", permissions=[], redirect_uris=[REDIRECT]
    )
    raw = f"{other.id}:{other.secret}".encode()
    r = h.client.post(
        "/oauth/introspect",
        data={"token": tokens["access_token"]},
        headers={"Authorization": "Basic " + base64.b64encode(raw).decode()},
    )
    assert r.status_code == 200
    assert r.json() == {"active": False}


def test_expired_access_token_is_inactive(h: Harness) -> None:
    sign_in(h)
    code, verifier, _ = get_code(h)
    tokens = exchange(h, code, verifier).json()  # type: ignore[attr-defined]
    h.clock.advance(hours=3)
    assert introspect(h, tokens["access_token"]) == {"active": False}
    # the refresh token still works, and gives a fresh access token
    r = h.client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=basic(h),
    )
    assert r.status_code == 200, r.text


def test_expired_code_is_invalid(h: Harness) -> None:
    sign_in(h)
    code, verifier, _ = get_code(h)
    h.clock.advance(minutes=11)
    r = exchange(h, code, verifier)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant"


def test_removing_the_app_revokes_tokens_and_refresh(h: Harness) -> None:
    sign_in(h)
    code, verifier, _ = get_code(h)
    tokens = exchange(h, code, verifier).json()  # type: ignore[attr-defined]
    page = h.client.get("/settings/apps")
    assert "Quiz" in page.text
    no_csrf = h.client.post(f"/settings/apps/{h.app_id}/remove", data={})
    assert no_csrf.status_code == 403
    r = h.client.post(f"/settings/apps/{h.app_id}/remove", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 303
    assert introspect(h, tokens["access_token"]) == {"active": False}
    assert introspect(h, tokens["refresh_token"]) == {"active": False}
    # the app is owed a deletion callback (this one registered no URL: recorded as such)
    owed = deliveries(h.engine, person_id=h.person)
    assert [(d.app_id, d.outcome) for d in owed] == [(h.app_id, "no_callback")]


# --- consent screen rules ---------------------------------------------------------------------


def test_deny_redirects_access_denied_with_state_and_iss(h: Harness) -> None:
    sign_in(h)
    _, challenge = pkce()
    params = authorize_params(h, challenge)
    screen = h.client.get("/oauth/authorize", params=params)
    r = h.client.post(
        "/oauth/authorize?" + urlencode(params),
        data={"csrf_token": csrf_of(screen.text), "decision": "deny"},
    )
    q = _error_redirect(r)
    assert q["error"] == ["access_denied"]
    assert q["state"] == ["xyz-state"]
    assert q["iss"] == [ISSUER]


def test_consent_post_without_csrf_is_refused(h: Harness) -> None:
    sign_in(h)
    _, challenge = pkce()
    params = authorize_params(h, challenge)
    r = h.client.post("/oauth/authorize?" + urlencode(params), data={"decision": "allow"})
    assert r.status_code == 403
    assert "location" not in r.headers


def test_declined_permission_is_reasked_only_with_rerequest(h: Harness) -> None:
    sign_in(h)
    get_code(h, decline=("user_friends",))
    _, challenge = pkce()
    again = h.client.get("/oauth/authorize", params=authorize_params(h, challenge))
    assert 'value="user_friends"' not in again.text
    assert 'value="email"' in again.text
    rerequest = h.client.get(
        "/oauth/authorize", params=authorize_params(h, challenge, auth_type="rerequest")
    )
    assert 'value="user_friends"' in rerequest.text


def test_unrequestable_permission_is_invalid_scope(h: Harness) -> None:
    sign_in(h)
    _, challenge = pkce()
    params = authorize_params(h, challenge, scope="public_profile friends_birthday")
    assert _error_redirect(h.client.get("/oauth/authorize", params=params))["error"] == [
        "invalid_scope"
    ]


def test_v1_apps_are_all_or_nothing_and_say_friends_data(sqlite_url: str, tmp_path: object) -> None:
    v1 = build_harness(sqlite_url, tmp_path, version="v1.0")
    with v1.client:
        sign_in(v1)
        _, challenge = pkce()
        params = authorize_params(
            v1, challenge, scope="public_profile user_birthday friends_birthday"
        )
        screen = v1.client.get("/oauth/authorize", params=params)
        assert screen.status_code == 200, screen.text
        assert 'type="checkbox" name="grant"' not in screen.text  # nothing declinable
        assert "all-or-nothing" in screen.text
        assert "FRIENDS" in screen.text
        code, verifier, _ = get_code(
            v1, decline=("friends_birthday",), scope="public_profile user_birthday friends_birthday"
        )
        token = exchange(v1, code, verifier).json()  # type: ignore[attr-defined]
        assert "friends_birthday" in token["scope"].split()
    v1.engine.dispose()


def test_login_errors_and_csrf(h: Harness) -> None:
    page = h.client.get("/login")
    assert page.headers["cache-control"] == "no-store"
    bad = h.client.post(
        "/login",
        data={"csrf_token": csrf_of(page.text), "identifier": str(h.person), "password": "x" * 12},
    )
    assert bad.status_code == 401
    assert "wrong account or password" in bad.text
    forged = h.client.post(
        "/login", data={"csrf_token": "forged", "identifier": str(h.person), "password": PASSWORD}
    )
    assert forged.status_code == 403


def test_session_cookie_flags(h: Harness) -> None:
    r = h.client.get("/login")
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie  # the issuer here is http://127.0.0.1


def test_metadata_advertises_what_the_server_does(h: Harness) -> None:
    meta = h.client.get("/.well-known/oauth-authorization-server").json()
    assert meta["issuer"] == ISSUER
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert meta["response_types_supported"] == ["code"]
    assert meta["authorization_response_iss_parameter_supported"] is True


def test_access_tokens_are_stored_only_as_hashes(h: Harness) -> None:
    sign_in(h)
    code, verifier, _ = get_code(h)
    tokens = exchange(h, code, verifier).json()  # type: ignore[attr-defined]
    with h.engine.connect() as conn:
        dump = "\n".join(
            str(row)
            for table in ("access_tokens", "oauth_refresh_tokens", "oauth_codes")
            for row in conn.exec_driver_sql(f"SELECT * FROM {table}")
        )
    for secret in (tokens["access_token"], tokens["refresh_token"], code):
        assert secret not in dump
    _unused = (AccessToken, RefreshToken, update)


def test_failed_sign_ins_are_throttled_before_the_password_is_checked(h: Harness) -> None:
    def attempt(identifier: str, password: str) -> int:
        page = h.client.get("/login")
        r = h.client.post(
            "/login",
            data={"csrf_token": csrf_of(page.text), "identifier": identifier, "password": password},
        )
        return r.status_code

    throttle = h.client.app.state.oauth.throttle  # type: ignore[attr-defined]
    limit = throttle.limits.identifier_failures
    for _ in range(limit):
        assert attempt(str(h.person), "wrong-password!") == 401
    # the account is throttled: even the right password is not checked now
    assert attempt(str(h.person), PASSWORD) == 429
    assert attempt(f" {h.person} ", PASSWORD) == 429  # spelled differently, same account
    # another account from the same address still signs in (its own budget)
    other = _person(h.engine, "Grace Hopper")
    h.client.app.state.oauth.accounts.set_password(other, PASSWORD)  # type: ignore[attr-defined]
    assert attempt(str(other), PASSWORD) == 303


def test_a_copied_session_cookie_dies_with_sign_out_and_with_a_new_password(h: Harness) -> None:
    """Signing out revokes the session on the server: a copy of its cookie taken before no
    longer signs anyone in. A new password ends every session signed in with the old one."""
    sign_in(h)
    copied = dict(h.client.cookies)
    assert h.client.get("/settings/apps").status_code == 200
    page = h.client.get("/settings/apps")
    assert h.client.post("/logout", data={"csrf_token": csrf_of(page.text)}).status_code == 303
    h.client.cookies.clear()
    h.client.cookies.update(copied)  # the stolen copy
    assert h.client.get("/settings/apps").status_code == 303  # to the sign-in page

    h.client.cookies.clear()
    sign_in(h)
    assert h.client.get("/settings/apps").status_code == 200
    h.client.app.state.oauth.accounts.set_password(h.person, PASSWORD + "-new")  # type: ignore[attr-defined]
    assert h.client.get("/settings/apps").status_code == 303
    h.client.cookies.clear()
    page = h.client.get("/login")
    r = h.client.post(
        "/login",
        data={
            "csrf_token": csrf_of(page.text),
            "identifier": str(h.person),
            "password": PASSWORD + "-new",
        },
    )
    assert r.status_code == 303
    assert h.client.get("/settings/apps").status_code == 200  # signed in after the change
