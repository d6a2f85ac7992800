"""The home page and ``/settings/apps`` from the ledger: a friend of an installer sees the app
that took their data through that friend; a stranger sees nothing of anyone else's. Also the
``?ids=`` read (one batch, all or nothing), the consent screen skipped when nothing is new, and
the developer page that shows and edits an app's addresses."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from graphwarden.consent.oauth import build_oauth
from graphwarden.consent.roles import set_role
from graphwarden.core.clock import ManualClock
from graphwarden.core.config import Settings
from graphwarden.core.db import create_store_engine
from graphwarden.core.types import AppId, PersonId
from graphwarden.graph.models import Friendship, Person
from graphwarden.server import create_server
from graphwarden.web.pages import is_api_path

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette would rather use httpx2 for its test client
    from starlette.testclient import TestClient

ISSUER = "https://graphwarden.test"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HTML = {"accept": "text/html"}
REDIRECT = "https://quiz.example/cb"


@pytest.fixture
def world(sqlite_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    engine = create_store_engine(sqlite_url)
    ids = {}
    with Session(engine) as session, session.begin():
        for name in ("Installer", "Friend", "Stranger"):
            person = Person(name=name, first_name=name, last_name="X", gender="female")
            session.add(person)
            session.flush()
            ids[name] = person.id
        session.add_all(
            [
                Friendship(person_id=ids["Installer"], friend_id=ids["Friend"]),
                Friendship(person_id=ids["Friend"], friend_id=ids["Installer"]),
            ]
        )
    settings = Settings(
        database_url=sqlite_url, data_dir=tmp_path / "data", redis_url=None, issuer=ISSUER
    )
    clock = ManualClock(datetime(2026, 1, 5, tzinfo=UTC))
    app = create_server(engine=engine, settings=settings, clock=clock)
    app.state.oauth = build_oauth(
        app.state.consent, engine, issuer=ISSUER, clock=clock, demo_login=True
    )
    consent = app.state.consent
    quiz = consent.create_app(
        name="thisisyourdigitallife",
        api_version="v1.0",
        permissions=["user_friends", "friends_birthday"],
        redirect_uris=[REDIRECT],
    )
    installer = PersonId(ids["Installer"])
    consent.authorize(AppId(quiz.id), installer, granted=["public_profile", "user_friends"])
    token = consent.issue_token(
        AppId(quiz.id), installer, scope=["public_profile", "user_friends"], issued_by="test"
    )
    try:
        yield {"app": app, "engine": engine, "ids": ids, "quiz": quiz, "token": token}
    finally:
        engine.dispose()


def signed_in(app: Any, person: int) -> TestClient:
    client = TestClient(app, base_url=ISSUER, follow_redirects=False)
    token = CSRF.search(client.get("/login").text)
    assert token is not None
    form = {"csrf_token": token.group(1), "identifier": str(person), "password": f"demo-{person}"}
    assert client.post("/login", data=form).status_code == 303
    return client


def records(world: dict[str, Any]) -> int:
    with world["engine"].connect() as conn:
        return int(conn.execute(text("SELECT COUNT(*) FROM disclosures")).scalar_one())


def test_the_friend_sees_the_app_that_took_their_data_and_a_stranger_sees_nothing(
    world: dict[str, Any],
) -> None:
    api = TestClient(world["app"], base_url=ISSUER)
    friends = api.get("/v1.0/me/friends", params={"access_token": world["token"]})
    assert friends.status_code == 200, friends.text
    assert [f["name"] for f in friends.json()["data"]] == ["Friend"]

    friend = signed_in(world["app"], world["ids"]["Friend"])
    home = friend.get("/", headers=HTML)
    assert home.status_code == 200
    received = home.text.split('id="received"')[1]
    assert "thisisyourdigitallife" in received
    assert "through a friend who used it" in received
    assert 'id="notices"' in home.text
    apps = friend.get("/settings/apps", headers=HTML).text
    assert "You have not authorized any app." in apps
    row = re.search(r'<tr class="received-app">(.*?)</tr>', apps, re.S)
    assert row is not None
    assert "thisisyourdigitallife" in row.group(1)
    assert "through a friend who used it" in row.group(1)

    stranger = signed_in(world["app"], world["ids"]["Stranger"])
    for path in ("/", "/settings/apps"):
        page = stranger.get(path, headers=HTML).text
        assert "thisisyourdigitallife" not in page
        assert "No app has received any of your data." in page

    installer = signed_in(world["app"], world["ids"]["Installer"])
    mine = installer.get("/settings/apps", headers=HTML).text
    assert "thisisyourdigitallife" in mine  # authorized, and it read the installer too
    assert "Remove…" in mine  # removal asks first


def test_signed_out_home_says_where_to_go(world: dict[str, Any]) -> None:
    client = TestClient(world["app"], base_url=ISSUER)
    home = client.get("/", headers=HTML)
    assert home.status_code == 200
    for link in ('href="/login"', 'href="/developers"', 'href="/docs"', 'href="/docs/oauth"'):
        assert link in home.text
    for link in re.findall(r'href="(/[^"]*)"', home.text):
        answer = client.get(link, headers=HTML)
        # a page answers; an API link (the tree head of an empty ledger) may say "none yet"
        assert answer.status_code in ((200, 404) if is_api_path(link) else (200, 303)), link


def test_ids_read_is_one_response_and_all_or_nothing(world: dict[str, Any]) -> None:
    api = TestClient(world["app"], base_url=ISSUER)
    friend = str(world["ids"]["Friend"])
    before = records(world)
    both = api.get("/v1.0/", params={"ids": f"me,{friend}", "access_token": world["token"]})
    assert both.status_code == 200, both.text
    assert both.headers["facebook-api-version"] == "v1.0"
    body = both.json()
    assert set(body) == {"me", friend}
    assert body[friend]["name"] == "Friend"
    with world["engine"].connect() as conn:
        batches = conn.execute(text("SELECT COUNT(*) FROM disclosure_batches")).scalar_one()
    assert batches == 1
    assert records(world) > before
    after = records(world)
    # one id that does not exist (or that the policy hides: the same answer) fails it all
    missing = api.get(
        "/v1.0/", params={"ids": f"me,{friend},999999", "access_token": world["token"]}
    )
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == 803
    assert records(world) == after  # nothing recorded, nothing served
    empty = api.get("/v1.0/", params={"access_token": world["token"]})
    assert empty.status_code == 400
    assert empty.json()["error"]["code"] == 100
    many = ",".join(str(i) for i in range(1, 60))
    assert (
        api.get("/v1.0/", params={"ids": many, "access_token": world["token"]}).status_code == 400
    )


def test_consent_screen_is_skipped_when_the_app_has_all_it_asks(world: dict[str, Any]) -> None:
    installer = signed_in(world["app"], world["ids"]["Installer"])
    params = {
        "response_type": "code",
        "client_id": str(world["quiz"].id),
        "redirect_uri": REDIRECT,
        "scope": "public_profile",
        "state": "s",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    again = installer.get("/oauth/authorize", params=params)
    assert again.status_code == 302
    assert "code" in parse_qs(urlsplit(again.headers["location"]).query)
    more = installer.get("/oauth/authorize", params=params | {"scope": "friends_birthday"})
    assert more.status_code == 200
    assert "friends_birthday" in more.text


def test_developer_page_shows_and_edits_the_addresses(world: dict[str, Any]) -> None:
    app_id, person = world["quiz"].id, world["ids"]["Installer"]
    set_role(world["engine"], app_id, person, "admin", by="test")
    client = signed_in(world["app"], person)
    page = client.get(f"/developers/apps/{app_id}", headers=HTML).text
    assert REDIRECT in page
    token = CSRF.search(page)
    assert token is not None
    form = {
        "csrf_token": token.group(1),
        "redirect_uris": "https://quiz.example/a\nhttps://quiz.example/b",
        "privacy_policy_url": "https://quiz.example/privacy",
        "deletion_callback_url": "https://quiz.example/delete",
    }
    saved = client.post(f"/developers/apps/{app_id}/urls", data=form)
    assert saved.status_code == 303
    app = world["app"].state.consent.get_app(AppId(app_id))
    assert app.redirect_uris == ("https://quiz.example/a", "https://quiz.example/b")
    assert app.privacy_policy_url == "https://quiz.example/privacy"
    assert app.deletion_callback_url == "https://quiz.example/delete"
    shown = client.get(f"/developers/apps/{app_id}", headers=HTML).text
    assert "https://quiz.example/delete" in shown
    bad = client.post(f"/developers/apps/{app_id}/urls", data=form | {"redirect_uris": "x y"})
    assert bad.status_code == 400
    assert world["app"].state.consent.get_app(AppId(app_id)).redirect_uris == app.redirect_uris
