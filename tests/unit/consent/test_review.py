"""App Review: sensitive permissions reach only role holders until an admin approves them."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from graphwarden.consent.admin_log import list_actions
from graphwarden.consent.interfaces import AppInfo
from graphwarden.consent.models import App
from graphwarden.consent.review import (
    approve,
    get_review,
    grantable_permissions,
    list_reviews,
    reject,
    split_permissions,
    submit_review,
)
from graphwarden.consent.roles import set_role
from graphwarden.core.clock import ManualClock, as_utc
from graphwarden.core.errors import IntegrityViolation, InvalidInput, NotFound
from graphwarden.core.types import ApiVersion, AppId
from graphwarden.graph.models import Person
from graphwarden.policy import tables

USE = "We show the person which of their liked pages match the quiz topics."
REVIEW_FREE = frozenset({"public_profile", "email", "user_friends"})


def needs_review(version: ApiVersion, perm: str) -> bool:
    """The v2.0 rule, written out independently of the policy tables."""
    return version != "v1.0" and perm not in REVIEW_FREE


def add_person(engine: Engine, name: str = "Ann A") -> int:
    with Session(engine) as session, session.begin():
        person = Person(name=name, first_name=name, last_name="-", gender="female")
        session.add(person)
        session.flush()
        return person.id


def add_app(engine: Engine, *, version: str = "v3.0", requested: str = "") -> int:
    with Session(engine) as session, session.begin():
        app = App(
            name="Quiz",
            secret_hash="x",
            scoping_key="0" * 64,
            api_version=version,
            mode="live",
            status="active",
            requested_permissions=requested or "email,public_profile,user_birthday,user_likes",
            approved_permissions="",
            redirect_uris="",
            created_by="test",
        )
        session.add(app)
        session.flush()
        return app.id


def app_info(engine: Engine, app_id: int) -> AppInfo:
    with Session(engine) as session:
        app = session.get(App, app_id)
        assert app is not None
        return AppInfo(
            id=AppId(app.id),
            name=app.name,
            api_version=app.api_version,  # type: ignore[arg-type]
            mode=app.mode,
            status=app.status,
            requested_permissions=split_permissions(app.requested_permissions),
            approved_permissions=split_permissions(app.approved_permissions),
            redirect_uris=(),
            privacy_policy_url=None,
            deletion_callback_url=None,
        )


def test_unreviewed_permissions_are_withheld_from_people_without_a_role(engine: Engine) -> None:
    app, ann, dev = add_app(engine), add_person(engine), add_person(engine, "Dev D")
    set_role(engine, app, dev, "developer", by="op")
    info = app_info(engine, app)
    grantable, withheld = grantable_permissions(engine, info, ann, needs_review=needs_review)
    assert grantable == {"public_profile", "email"}
    assert withheld == {"user_birthday", "user_likes"}
    # a role holder may grant everything: that is how an app is built before review
    grantable, withheld = grantable_permissions(engine, info, dev, needs_review=needs_review)
    assert grantable == info.requested_permissions
    assert withheld == frozenset()


def test_approval_releases_the_permissions_and_is_logged(engine: Engine) -> None:
    app, ann = add_app(engine), add_person(engine)
    clock = ManualClock()
    review = submit_review(
        engine,
        app,
        ["user_likes"],
        USE,
        submitted_by="Dev D",
        needs_review=needs_review,
        clock=clock,
    )
    assert [r.id for r in list_reviews(engine)] == [review.id]
    clock.advance(days=2)
    decided = approve(engine, review.id, admin="reviewer:kim", reason="use matches", clock=clock)
    assert decided.status == "approved"
    assert decided.decided_by == "reviewer:kim"
    assert as_utc(decided.decided_at or clock.now()) - review.submitted_at == timedelta(days=2)
    info = app_info(engine, app)
    assert info.approved_permissions == {"user_likes"}
    grantable, withheld = grantable_permissions(engine, info, ann, needs_review=needs_review)
    assert "user_likes" in grantable
    assert withheld == {"user_birthday"}
    entry = list_actions(engine, action_prefix="review:")[0]
    assert (entry.action, entry.admin, entry.reason) == (
        "review:approve",
        "reviewer:kim",
        "use matches",
    )
    assert entry.detail["permissions"] == ["user_likes"]
    assert list_reviews(engine) == []
    assert [r.status for r in list_reviews(engine, status=None)] == ["approved"]


def test_rejection_keeps_permissions_withheld(engine: Engine) -> None:
    app, ann = add_app(engine), add_person(engine)
    review = submit_review(engine, app, ["user_birthday"], USE, submitted_by="Dev D")
    decided = reject(engine, review.id, admin="reviewer:kim", reason="no use for birthdays")
    assert decided.status == "rejected"
    assert get_review(engine, review.id).reason == "no use for birthdays"
    info = app_info(engine, app)
    assert info.approved_permissions == frozenset()
    _, withheld = grantable_permissions(engine, info, ann, needs_review=needs_review)
    assert "user_birthday" in withheld
    assert list_actions(engine, limit=1)[0].action == "review:reject"


def test_a_decision_is_final(engine: Engine) -> None:
    app = add_app(engine)
    review = submit_review(engine, app, ["user_likes"], USE, submitted_by="Dev D")
    reject(engine, review.id, admin="kim", reason="vague")
    with pytest.raises(IntegrityViolation):
        approve(engine, review.id, admin="lee", reason="changed my mind")
    assert app_info(engine, app).approved_permissions == frozenset()


@pytest.mark.parametrize(
    ("perms", "use", "error"),
    [
        ([], USE, InvalidInput),
        (["user_likes"], "quiz", InvalidInput),  # says nothing a reviewer could check
        (["email"], USE, InvalidInput),  # needs no review
    ],
)
def test_malformed_requests_are_refused(
    engine: Engine, perms: list[str], use: str, error: type[Exception]
) -> None:
    app = add_app(engine)
    with pytest.raises(error):
        submit_review(engine, app, perms, use, submitted_by="d", needs_review=needs_review)


def test_one_pending_request_per_app_and_no_reapproval(engine: Engine) -> None:
    app = add_app(engine)
    first = submit_review(engine, app, ["user_likes"], USE, submitted_by="d")
    with pytest.raises(IntegrityViolation):
        submit_review(engine, app, ["user_birthday"], USE, submitted_by="d")
    approve(engine, first.id, admin="kim", reason="ok")
    with pytest.raises(InvalidInput):
        submit_review(engine, app, ["user_likes"], USE, submitted_by="d")


def test_decisions_need_an_admin_a_reason_and_a_request(engine: Engine) -> None:
    app = add_app(engine)
    review = submit_review(engine, app, ["user_likes"], USE, submitted_by="d")
    with pytest.raises(InvalidInput):
        approve(engine, review.id, admin="kim", reason=" ")
    with pytest.raises(InvalidInput):
        approve(engine, review.id, admin="", reason="fine")
    with pytest.raises(NotFound):
        approve(engine, review.id + 1, admin="kim", reason="fine")
    with pytest.raises(NotFound):
        submit_review(engine, app + 1, ["user_likes"], USE, submitted_by="d")
    with pytest.raises(InvalidInput):
        list_reviews(engine, status="maybe")


def test_the_policy_tables_plug_in(engine: Engine) -> None:
    """The predicate the OAuth screen passes is the policy table's own."""
    app, ann = add_app(engine), add_person(engine)
    info = app_info(engine, app)
    grantable, withheld = grantable_permissions(engine, info, ann, needs_review=tables.needs_review)
    assert "public_profile" in grantable
    assert "user_likes" in withheld  # 2018: likes need review


PERMS = ["public_profile", "email", "user_friends", "user_likes", "user_birthday", "user_photos"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    requested=st.sets(st.sampled_from(PERMS)),
    approved=st.sets(st.sampled_from(PERMS)),
    holds_role=st.booleans(),
)
def test_nothing_unreviewed_reaches_a_person_without_a_role(
    engine: Engine, requested: set[str], approved: set[str], holds_role: bool
) -> None:
    """Property: grantable and withheld split the request, and for a person without a role
    every grantable permission is review-free or approved."""
    with Session(engine) as session:
        app_id = session.scalar(select(App.id))
    if app_id is None:  # first example: one app, a tester and a stranger
        app_id = add_app(engine)
        set_role(engine, app_id, add_person(engine, "Tess T"), "tester", by="op")
        add_person(engine, "Sam S")
    tester, stranger = 1, 2
    info = replace(
        app_info(engine, app_id),
        requested_permissions=frozenset(requested),
        approved_permissions=frozenset(approved),
    )
    person = tester if holds_role else stranger
    grantable, withheld = grantable_permissions(engine, info, person, needs_review=needs_review)
    assert grantable | withheld == frozenset(requested)
    assert not grantable & withheld
    if holds_role:
        assert withheld == frozenset()
    else:
        assert all(not needs_review("v3.0", p) or p in approved for p in grantable)
