"""The admin incident pages and the review page's forecast, through HTTP: only a platform
admin sees an incident (to anyone else it does not exist), its plots are on the page, closing
it is logged; the review queue shows the exposure forecast for a request."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from tests.factories import add_app_and_person
from tests.integration.test_portal import CSRF, TestClient, add_person, register, site

from graphwarden.analytics.incidents import open_incident
from graphwarden.analytics.snapshot import take_snapshot
from graphwarden.consent.admin_log import list_actions
from graphwarden.core.clock import ManualClock
from graphwarden.core.types import AppId, PersonId
from graphwarden.ledger.interfaces import DisclosureBatch, DisclosureItem
from graphwarden.ledger.service import SqlDisclosureLedger
from graphwarden.ledger.signing import LedgerSigner

__all__ = ["site"]  # the fixture, shared with the portal's tests

CLOCK = ManualClock(datetime(2018, 3, 17, tzinfo=UTC))


def _incident(engine: Engine, tmp_path: Path) -> int:
    app, ann = add_app_and_person(engine, None, api_version="v1.0")
    bob = add_person(engine, "Bob")
    ledger = SqlDisclosureLedger(engine, LedgerSigner.generate(), CLOCK)
    ledger.append(
        DisclosureBatch(
            request_id="r1", at=datetime(2014, 6, 1, tzinfo=UTC), app_id=AppId(app),
            api_version="v1.0", owner_id=PersonId(ann),
            items=[DisclosureItem(PersonId(ann), "birthday", "v1.0/x"),
                   DisclosureItem(PersonId(bob), "birthday", "v1.0/y")],
        )
    )  # fmt: skip
    ledger.publish_head()
    snap = take_snapshot(engine, tmp_path / "snap")
    return open_incident(engine, app, snap, admin="admin:kim", clock=CLOCK).id


def test_incident_pages_are_for_admins_only(site: tuple[FastAPI, Engine], tmp_path: Path) -> None:
    app, engine = site
    incident = _incident(engine, tmp_path)
    ann = add_person(engine, "Carl")
    with TestClient(app) as person, TestClient(app) as admin:
        person.get(f"/test/as-person/{ann}")
        hidden = person.get(f"/admin/incidents/{incident}")
        missing = person.get("/admin/incidents/999999")
        assert hidden.status_code == missing.status_code == 404
        assert "birthday" not in hidden.text
        assert person.get("/admin/incidents", follow_redirects=False).status_code == 303
        admin.get("/test/as-admin/kim")
        listing = admin.get("/admin/incidents")
        assert f'href="/admin/incidents/{incident}"' in listing.text
        page = admin.get(f"/admin/incidents/{incident}")
        assert page.status_code == 200
        assert page.text.count("data:image/png;base64,") == 4
        assert "non-consenting (through a friend)</td><td>1<" in page.text
        token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        closed = admin.post(
            f"/admin/incidents/{incident}/close",
            data={"csrf_token": token, "reason": "app removed"},
            follow_redirects=False,
        )
        assert closed.status_code == 303
    [entry] = list_actions(engine, action_prefix="incident:close")
    assert (entry.admin, entry.reason) == ("admin:kim", "app removed")


def test_review_page_shows_the_exposure_forecast(site: tuple[FastAPI, Engine]) -> None:
    app, engine = site
    people = [add_person(engine, f"P{i}") for i in range(30)]
    with TestClient(app) as dev, TestClient(app) as admin:
        dev.get(f"/test/as-person/{people[0]}")
        app_id, _, _ = register(dev, api_version="v3.0")
        token = CSRF.search(dev.get(f"/developers/apps/{app_id}").text).group(1)  # type: ignore[union-attr]
        dev.post(
            f"/developers/apps/{app_id}/review",
            data={"csrf_token": token, "permissions": "user_likes",
                  "stated_use": "We match the person's liked pages to quiz topics."},
        )  # fmt: skip
        admin.get("/test/as-admin/kim")
        queue = admin.get("/admin/review")
        review_id = int(re.search(r'action="/admin/review/(\d+)"', queue.text).group(1))  # type: ignore[union-attr]
        shown = admin.get(f"/admin/review?forecast={review_id}&installers=5")
        assert f'id="forecast-{review_id}"' in shown.text
        assert "90% interval" in shown.text
        too_many = admin.get(f"/admin/review?forecast={review_id}&installers=5000")
        assert "more than the" in too_many.text
        bad = admin.get(f"/admin/review?forecast={review_id}&installers=x")
        assert "installers must be a number" in bad.text


@pytest.mark.parametrize("path", ["/admin/incidents/1"])
def test_signed_out_visitors_get_nothing(site: tuple[FastAPI, Engine], path: str) -> None:
    app, _ = site
    with TestClient(app) as visitor:
        assert visitor.get(path).status_code == 404
