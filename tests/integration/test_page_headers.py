"""Every HTML page carries the security headers, from the one response hook.

The crawl enumerates the routes registered on the real server application (so a page added
later is crawled without touching this test), requests each one signed out, as a person (who
holds an admin role on an app) and as a platform admin, by GET and, for form routes, by POST
(with and without the CSRF token), and checks the headers of every HTML answer: pages, error
pages, the page that shows a new secret. It fails when a page route answered no HTML at all
(it was not really crawled). Graph API answers carry ``Cache-Control: private, no-store``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from graphwarden.consent.oauth import build_oauth
from graphwarden.consent.review import submit_review
from graphwarden.consent.roles import set_role
from graphwarden.core.clock import ManualClock
from graphwarden.core.config import Settings
from graphwarden.core.types import AppId, PersonId
from graphwarden.graph.models import Person
from graphwarden.server import create_server
from graphwarden.web.pages import is_api_path

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette would rather use httpx2 for its test client
    from starlette.testclient import TestClient

ISSUER = "https://graphwarden.test"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PAGE_HEADERS = {
    "x-frame-options": "DENY",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}
#: routes under the pages' paths that are not pages (an asset, a redirect)
NOT_PAGES = {"/docs/assets/{name}", "/docs/oauth/", "/favicon.ico"}
HTML = {"accept": "text/html,application/xhtml+xml"}


def check_page_headers(where: str, response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    for name, value in PAGE_HEADERS.items():
        assert headers.get(name) == value, f"{where}: {name} is {headers.get(name)!r}"
    csp = headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, f"{where}: CSP {csp!r}"
    assert "default-src 'self'" in csp, f"{where}: CSP {csp!r}"
    assert "http:" not in csp.split("form-action")[0], f"{where}: CSP loads from elsewhere"


class Site:
    def __init__(self, app: FastAPI, engine: Engine, person: int, app_id: int, review: int):
        self.app, self.engine = app, engine
        self.person, self.app_id, self.review = person, app_id, review

    def client(self, role: str) -> TestClient:
        client = TestClient(self.app, base_url=ISSUER, follow_redirects=False)
        if role == "person":
            token = CSRF.search(client.get("/login").text)
            assert token is not None
            signed = client.post(
                "/login",
                data={
                    "csrf_token": token.group(1),
                    "identifier": str(self.person),
                    "password": f"demo-{self.person}",
                },
            )
            assert signed.status_code == 303, signed.text
        elif role == "admin":
            token = CSRF.search(client.get("/login/admin").text)
            assert token is not None
            signed = client.post(
                "/login/admin",
                data={
                    "csrf_token": token.group(1),
                    "identifier": "root",
                    "password": "correct horse battery",
                },
            )
            assert signed.status_code == 303, signed.text
        return client

    def fill(self, path: str) -> str:
        values = {"app_id": self.app_id, "review_id": self.review, "action": "mode"}
        values |= {"name": "swagger-ui.css", "permission": "email"}
        return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: str(values.get(m.group(1), "x")), path)


@pytest.fixture
def site(sqlite_url: str, tmp_path: Path) -> Iterator[Site]:
    from graphwarden.core.db import create_store_engine

    engine = create_store_engine(sqlite_url)
    with Session(engine) as session, session.begin():
        person = Person(name="Ada", first_name="Ada", last_name="L", gender="female")
        session.add(person)
        session.flush()
        person_id = person.id
    settings = Settings(
        database_url=sqlite_url, data_dir=tmp_path / "data", redis_url=None, issuer=ISSUER
    )
    clock = ManualClock(datetime(2026, 1, 5, tzinfo=UTC))
    app = create_server(engine=engine, settings=settings, clock=clock)
    app.state.oauth = build_oauth(
        app.state.consent, engine, issuer=ISSUER, clock=clock, demo_login=True
    )
    app.state.oauth.accounts.create_admin("root", "correct horse battery")
    new = app.state.consent.create_app(
        name="Quiz",
        api_version="v3.0",
        permissions=["email", "user_likes"],
        redirect_uris=["https://quiz.example/cb"],
    )
    set_role(engine, new.id, person_id, "admin", by="test")
    review = submit_review(
        engine, new.id, ["user_likes"], "to show the pages a person likes", submitted_by="test"
    )
    try:
        yield Site(app, engine, person_id, int(new.id), review.id)
    finally:
        engine.dispose()


def registered_routes(routes: list[object]) -> Iterator[APIRoute]:
    """Every API route, through included routers (FastAPI keeps an included router as one
    entry holding the original; graphwarden includes its routers without a prefix)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from registered_routes(list(included.routes))
        elif isinstance(route, APIRoute):
            yield route


def page_routes(app: FastAPI) -> list[APIRoute]:
    return [
        r
        for r in registered_routes(list(app.routes))
        if not is_api_path(r.path) and r.path not in NOT_PAGES
    ]


def test_every_html_route_carries_the_page_headers(site: Site) -> None:
    routes = page_routes(site.app)
    assert {"/", "/login", "/developers", "/admin/review", "/settings/apps", "/docs"} <= {
        r.path for r in routes
    }
    answered_html: set[str] = set()
    checked = 0
    for role in ("anonymous", "person", "admin"):
        client = site.client(role)
        token_match = CSRF.search(client.get("/", headers=HTML).text)
        token = token_match.group(1) if token_match else ""
        # signing out ends the role's crawl: it goes last
        for route in sorted(routes, key=lambda r: r.path == "/logout"):
            path = site.fill(route.path)
            for method in sorted(route.methods or ()):
                attempts = [{}]
                if method == "POST":
                    form = {"csrf_token": token, "name": "Crawled", "decision": "approve"}
                    attempts = [{"data": {}}, {"data": form}]
                for extra in attempts:
                    response = client.request(method, path, headers=HTML, **extra)
                    assert response.status_code < 500, f"{method} {path} as {role}"
                    if response.headers.get("content-type", "").startswith("text/html"):
                        check_page_headers(f"{method} {path} as {role}", response)
                        answered_html.add(route.path)
                        checked += 1
    never = {r.path for r in routes if "GET" in (r.methods or ())} - answered_html
    assert not never, f"page routes that answered no HTML to anyone: {sorted(never)}"
    assert checked > 40


def test_new_secret_page_and_error_pages_carry_the_headers(site: Site) -> None:
    client = site.client("person")
    token = CSRF.search(client.get("/developers").text)
    assert token is not None
    shown = client.post(
        "/developers/apps",
        data={"csrf_token": token.group(1), "name": "Second", "api_version": "v3.0"},
    )
    assert shown.status_code == 200
    assert 'id="app-secret"' in shown.text
    check_page_headers("new secret page", shown)
    rotated = client.post(f"/developers/apps/{site.app_id}/secret", data={"csrf_token": token[1]})
    assert 'id="app-secret"' in rotated.text
    check_page_headers("rotated secret page", rotated)
    for path, status in (("/no/such/page", 404), ("/settings/apps/1/remove", 405)):
        answer = client.get(path, headers=HTML)
        assert answer.status_code == status
        assert answer.headers["content-type"].startswith("text/html")
        assert "{" not in answer.text.split("<main")[1][:200]  # a page, not a JSON error
        check_page_headers(path, answer)
    assert client.get("/settings/apps/1/remove", headers=HTML).headers["allow"] == "POST"


def test_api_answers_json_and_are_private(site: Site) -> None:
    client = site.client("anonymous")
    token = site.app.state.consent.issue_token(
        AppId(site.app_id), PersonId(site.person), scope=["public_profile"], issued_by="test"
    )
    site.app.state.consent.authorize(
        AppId(site.app_id), PersonId(site.person), granted=["public_profile"]
    )
    me = client.get("/v3.0/me", params={"access_token": token}, headers=HTML)
    assert me.status_code == 200, me.text
    assert me.headers["cache-control"] == "private, no-store"
    assert me.headers["facebook-api-version"] == "v3.0"
    assert me.headers["x-content-type-options"] == "nosniff"
    # the API keeps answering JSON errors even to a browser
    for path in ("/v3.0/me", "/v3.0/nobody/friends", "/oauth/token", "/ledger/proof/inclusion"):
        answer = client.get(path, headers=HTML)
        assert answer.headers["content-type"].startswith("application/json"), path
        assert "x-frame-options" not in answer.headers or path.startswith("/oauth")
    assert client.get("/v3.0/me").headers["cache-control"] == "private, no-store"
    # and an unknown path answers JSON to a machine
    assert client.get("/no/such/page").headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(
    ("target", "lands"),
    [
        ("/settings/apps", "/settings/apps"),
        ("/developers/apps/1?tab=roles", "/developers/apps/1?tab=roles"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/%2F%2Fevil.example", "/"),
        ("/x\r\nLocation: https://evil.example", "/"),
    ],
)
def test_sign_in_returns_to_same_site_paths_only(site: Site, target: str, lands: str) -> None:
    client = TestClient(site.app, base_url=ISSUER, follow_redirects=False)
    form = client.get("/login", params={"next": target})
    token = CSRF.search(form.text)
    assert token is not None
    signed = client.post(
        "/login",
        data={
            "csrf_token": token.group(1),
            "identifier": str(site.person),
            "password": f"demo-{site.person}",
        },
    )
    assert signed.status_code == 303
    assert signed.headers["location"] == lands
