"""The developer portal and admin pages through HTTP: registration, secret shown once and
rotated, roles (a stranger gets 404), CSRF, App Review decided by an admin and logged."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from graphwarden.consent.admin_log import list_actions
from graphwarden.consent.services import SqlConsentService
from graphwarden.core.clock import ManualClock
from graphwarden.core.config import Settings
from graphwarden.core.types import AppId, PersonId
from graphwarden.graph.models import Person
from graphwarden.web.portal_routes import router
from graphwarden.web.session import install_sessions, sign_in_admin, sign_in_person

with warnings.catch_warnings():
    # Starlette would rather use httpx2 for its test client; httpx is what is installed
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_person(engine: Engine, name: str) -> int:
    with Session(engine) as session, session.begin():
        person = Person(name=name, first_name=name, last_name="-", gender="female")
        session.add(person)
        session.flush()
        return person.id


@pytest.fixture
def site(engine: Engine, tmp_path: Path) -> tuple[FastAPI, Engine]:
    app = FastAPI()
    settings = Settings.from_env(
        {"GRAPHWARDEN_DATABASE_URL": "sqlite://", "GRAPHWARDEN_DATA_DIR": str(tmp_path)}
    )
    install_sessions(app, settings, secret="s" * 48)
    app.state.engine = engine
    app.state.settings = settings
    app.state.consent = SqlConsentService(engine, ManualClock())

    # sign-in belongs to the OAuth pages; these stand-ins start a session directly
    @app.get("/test/as-person/{person_id}")
    def as_person(request: Request, person_id: int) -> dict[str, str]:
        sign_in_person(request, PersonId(person_id))
        return {}

    @app.get("/test/as-admin/{name}")
    def as_admin(request: Request, name: str) -> dict[str, str]:
        sign_in_admin(request, 1, name)
        return {}

    app.include_router(router)
    return app, engine


def csrf(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    match = CSRF.search(page.text)
    assert match is not None
    return match.group(1)


def register(client: TestClient, **fields: str) -> tuple[int, str, str]:
    token = csrf(client, "/developers")
    form = {
        "csrf_token": token,
        "name": "Quiz",
        "api_version": "v3.0",
        "permissions": "public_profile,email,user_likes",
        "privacy_policy_url": "https://quiz.example/privacy",
        "deletion_callback_url": "https://quiz.example/deletion",
        "redirect_uris": "https://quiz.example/cb",
    } | fields
    page = client.post("/developers/apps", data=form)
    assert page.status_code == 200, page.text
    secret = re.search(r'id="app-secret">([^<]+)<', page.text)
    key = re.search(r'id="signing-key">([^<]+)<', page.text)
    app_id = re.search(r'href="/developers/apps/(\d+)"', page.text)
    assert secret is not None
    assert key is not None
    assert app_id is not None
    return int(app_id.group(1)), secret.group(1), key.group(1)


def test_register_rotate_and_roles(site: tuple[FastAPI, Engine]) -> None:
    app, engine = site
    ann, bob = add_person(engine, "Ann"), add_person(engine, "Bob")
    consent = app.state.consent
    with TestClient(app) as dev, TestClient(app) as other:
        dev.get(f"/test/as-person/{ann}")
        other.get(f"/test/as-person/{bob}")
        app_id, secret, _ = register(dev)
        info = consent.get_app(AppId(app_id))
        assert info.mode == "development"
        assert info.deletion_callback_url == "https://quiz.example/deletion"
        assert consent.verify_app_secret(AppId(app_id), secret)

        # the secret is shown once: the app page never shows it
        page = dev.get(f"/developers/apps/{app_id}")
        assert page.status_code == 200
        assert secret not in page.text
        assert "user_likes" in page.text  # waiting for review

        # a stranger cannot tell the app exists
        assert other.get(f"/developers/apps/{app_id}").status_code == 404

        token = csrf(dev, f"/developers/apps/{app_id}")
        rotated = dev.post(f"/developers/apps/{app_id}/secret", data={"csrf_token": token})
        new_secret = re.search(r'id="app-secret">([^<]+)<', rotated.text)
        assert new_secret is not None
        assert consent.verify_app_secret(AppId(app_id), new_secret.group(1))
        assert not consent.verify_app_secret(AppId(app_id), secret)

        made = dev.post(
            f"/developers/apps/{app_id}/roles",
            data={"csrf_token": token, "person_id": str(bob), "role": "tester"},
            follow_redirects=False,
        )
        assert made.status_code == 303
        assert other.get(f"/developers/apps/{app_id}").status_code == 200
        # a tester is not an admin: cannot rotate the secret
        other_token = csrf(other, f"/developers/apps/{app_id}")
        refused = other.post(f"/developers/apps/{app_id}/secret", data={"csrf_token": other_token})
        assert refused.status_code == 403
        assert consent.verify_app_secret(AppId(app_id), new_secret.group(1))

        # without the session's CSRF token nothing changes
        forged = dev.post(f"/developers/apps/{app_id}/mode", data={"mode": "live"})
        assert forged.status_code == 403
        assert consent.get_app(AppId(app_id)).mode == "development"
        dev.post(f"/developers/apps/{app_id}/mode", data={"csrf_token": token, "mode": "live"})
        assert consent.get_app(AppId(app_id)).mode == "live"

    actions = [e.action for e in list_actions(engine, target_type="app", target_id=app_id)]
    assert actions.count("app:secret:rotate") == 1
    assert "app:role:grant" in actions
    assert "app:mode:set" in actions


def test_bad_registration_is_a_clear_400(site: tuple[FastAPI, Engine]) -> None:
    app, engine = site
    ann = add_person(engine, "Ann")
    with TestClient(app) as dev:
        dev.get(f"/test/as-person/{ann}")
        token = csrf(dev, "/developers")
        page = dev.post(
            "/developers/apps",
            data={
                "csrf_token": token,
                "name": "Quiz",
                "api_version": "v3.0",
                "permissions": "user_religion_politics",
            },
        )
        assert page.status_code == 400
        assert "cannot request" in page.text
        assert dev.get("/developers/apps/999").status_code == 404


def test_review_from_request_to_admin_decision(site: tuple[FastAPI, Engine]) -> None:
    app, engine = site
    ann = add_person(engine, "Ann")
    with TestClient(app) as dev, TestClient(app) as admin:
        dev.get(f"/test/as-person/{ann}")
        app_id, _, _ = register(dev)
        token = csrf(dev, f"/developers/apps/{app_id}")
        submitted = dev.post(
            f"/developers/apps/{app_id}/review",
            data={
                "csrf_token": token,
                "permissions": "user_likes",
                "stated_use": "We match the person's liked pages to quiz topics.",
            },
            follow_redirects=False,
        )
        assert submitted.status_code == 303

        assert admin.get("/admin/review", follow_redirects=False).status_code == 303
        admin.get("/test/as-admin/kim")
        queue = admin.get("/admin/review")
        assert "We match the person&#39;s liked pages" in queue.text
        review_id = re.search(r'action="/admin/review/(\d+)"', queue.text)
        assert review_id is not None
        admin_token = CSRF.search(queue.text).group(1)  # type: ignore[union-attr]
        decided = admin.post(
            f"/admin/review/{review_id.group(1)}",
            data={"csrf_token": admin_token, "decision": "approve", "reason": "use is clear"},
            follow_redirects=False,
        )
        assert decided.status_code == 303
        assert app.state.consent.get_app(AppId(app_id)).approved_permissions == {"user_likes"}
        log = admin.get("/admin/log")
        assert "admin:kim" in log.text
        assert "review:approve" in log.text
    [entry] = list_actions(engine, action_prefix="review:")
    assert (entry.admin, entry.reason, entry.target_label) == ("admin:kim", "use is clear", "Quiz")


def test_person_sees_deletion_requests(site: tuple[FastAPI, Engine]) -> None:
    from graphwarden.consent.deletion import schedule_deletion

    app, engine = site
    ann = add_person(engine, "Ann")
    with TestClient(app) as client:
        client.get(f"/test/as-person/{ann}")
        app_id, _, _ = register(client)
        schedule_deletion(engine, app_id, ann, "scoped-ann")
        page = client.get("/settings/deletions")
        assert page.status_code == 200
        assert "Quiz" in page.text
        assert "trying" in page.text
    with TestClient(app) as anonymous:
        assert anonymous.get("/settings/deletions", follow_redirects=False).status_code == 303
