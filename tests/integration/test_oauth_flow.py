"""A third-party OAuth client (requests-oauthlib, PKCE S256) against a real
``graphwarden serve`` over loopback: sign-in, consent, code, token, refresh, Graph API call."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from requests_oauthlib import OAuth2Session

from graphwarden.consent.services import SqlConsentService
from graphwarden.core.db import create_store_engine, session_factory
from graphwarden.graph.models import Person

REDIRECT = "http://127.0.0.1:9/callback"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


@pytest.fixture
def server(sqlite_url: str, tmp_path: Path) -> Iterator[dict[str, object]]:
    engine = create_store_engine(sqlite_url)
    with session_factory(engine)() as session:
        person = Person(
            name="Ada Lovelace",
            first_name="Ada",
            last_name="Lovelace",
            gender="female",
            birthday="1815-12-10",
            email="ada@example.org",
            platform_enabled=True,
        )
        session.add(person)
        session.commit()
        person_id = person.id
    consent = SqlConsentService(engine)
    app = consent.create_app(
        name="<script>alert(1)</script>",
        api_version="v2.0",
        permissions=["email", "user_friends"],
        redirect_uris=[REDIRECT],
        privacy_policy_url="https://quiz.example/privacy",
    )
    engine.dispose()
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}"
    env = os.environ | {
        "GRAPHWARDEN_DATABASE_URL": sqlite_url,
        "GRAPHWARDEN_DATA_DIR": str(tmp_path / "data"),
        "GRAPHWARDEN_ISSUER": issuer,
        "GRAPHWARDEN_DEMO_LOGIN": "1",
    }
    log_path = tmp_path / "serve.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "graphwarden.cli.main",
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{issuer}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out = log_path.read_text(errors="replace")
                pytest.fail(f"graphwarden serve did not start: {out[-2000:]}")
            time.sleep(0.2)
        yield {"issuer": issuer, "app_id": int(app.id), "secret": app.secret, "person": person_id}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def _consent(browser: httpx.Client, url: str, person: int, decline: set[str]) -> str:
    """Drive sign-in and the consent form as a browser would; return the callback URL."""
    r = browser.get(url)
    assert r.status_code == 303
    assert r.headers["location"] == "/login"
    login = browser.get("/login")
    r = browser.post(
        "/login",
        data={
            "csrf_token": _csrf(login.text),
            "identifier": str(person),
            "password": f"demo-{person}",
        },
    )
    assert r.status_code == 303, r.text
    screen = browser.get(r.headers["location"])
    assert screen.status_code == 200, screen.text
    boxes = re.findall(r'name="grant" value="([^"]+)"', screen.text)
    action = re.search(r'<form method="post" action="(/oauth/authorize[^"]+)"', screen.text)
    assert action
    r = browser.post(
        action.group(1).replace("&amp;", "&"),
        data={
            "csrf_token": _csrf(screen.text),
            "decision": "allow",
            "grant": [b for b in boxes if b not in decline],
        },
    )
    assert r.status_code == 302, (r.status_code, r.headers, r.text)
    return str(r.headers["location"])


def test_requests_oauthlib_completes_the_flow(
    server: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    # loopback http, as RFC 8252 §7.3 allows; oauthlib otherwise insists on https
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    # the person declined one permission, so the granted scope is narrower than asked
    monkeypatch.setenv("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
    issuer = str(server["issuer"])
    meta = httpx.get(f"{issuer}/.well-known/oauth-authorization-server").json()
    client = OAuth2Session(
        str(server["app_id"]),
        redirect_uri=REDIRECT,
        scope=["public_profile", "email", "user_friends"],
        pkce="S256",
    )
    url, state = client.authorization_url(meta["authorization_endpoint"])
    with httpx.Client(base_url=issuer, follow_redirects=False) as browser:
        callback = _consent(browser, url, int(server["person"]), decline={"user_friends"})  # type: ignore[arg-type]
    assert f"iss={issuer}".replace(":", "%3A").replace("/", "%2F") in callback
    token = client.fetch_token(
        meta["token_endpoint"],
        authorization_response=callback,
        client_secret=str(server["secret"]),
    )
    assert set(token["scope"]) == {"public_profile", "email"}
    client.scope = token["scope"]  # ask no more than was granted (RFC 6749 §6)
    refreshed = client.refresh_token(
        meta["token_endpoint"],
        auth=(str(server["app_id"]), str(server["secret"])),
    )
    assert refreshed["access_token"] != token["access_token"]
    me = client.get(f"{issuer}/v2.0/me", params={"fields": "name,email"})
    assert me.status_code == 200, me.text
    assert me.json()["name"] == "Ada Lovelace"
    perms = client.get(f"{issuer}/v2.0/me/permissions").json()["data"]
    statuses = {p["permission"]: p["status"] for p in perms}
    assert statuses.get("email") == "granted"
    assert statuses.get("user_friends") == "declined"
    _ = (UTC, datetime, urlencode, state)
