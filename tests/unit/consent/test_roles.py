"""App roles, development mode and the admin action log."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from graphwarden.consent.admin_log import list_actions, record_action
from graphwarden.consent.interfaces import AppInfo
from graphwarden.consent.models import App
from graphwarden.consent.roles import (
    can_authorize,
    has_role,
    parse_role,
    remove_role,
    role_holders,
    role_of,
    set_role,
)
from graphwarden.core.clock import ManualClock
from graphwarden.core.errors import IntegrityViolation, InvalidInput, NotFound
from graphwarden.core.types import AppId
from graphwarden.graph.models import Person


def add_person(engine: Engine, name: str) -> int:
    first, _, last = name.partition(" ")
    with Session(engine) as session, session.begin():
        person = Person(name=name, first_name=first, last_name=last or "-", gender="female")
        session.add(person)
        session.flush()
        return person.id


def add_app(
    engine: Engine, name: str = "Quiz", *, mode: str = "live", version: str = "v3.0"
) -> int:
    with Session(engine) as session, session.begin():
        app = App(
            name=name,
            secret_hash="x",
            scoping_key="0" * 64,
            api_version=version,
            mode=mode,
            status="active",
            requested_permissions="public_profile,user_likes",
            approved_permissions="",
            redirect_uris="",
            created_by="test",
        )
        session.add(app)
        session.flush()
        return app.id


def info(app_id: int, *, mode: str = "live", status: str = "active") -> AppInfo:
    return AppInfo(
        id=AppId(app_id),
        name="Quiz",
        api_version="v3.0",
        mode=mode,
        status=status,
        requested_permissions=frozenset({"public_profile"}),
        approved_permissions=frozenset(),
        redirect_uris=(),
        privacy_policy_url=None,
        deletion_callback_url=None,
    )


def test_role_granted_is_held_and_logged(engine: Engine) -> None:
    app, ann, bob = add_app(engine), add_person(engine, "Ann A"), add_person(engine, "Bob B")
    clock = ManualClock()
    assert not has_role(engine, app, ann)
    set_role(engine, app, ann, "Admin", by="operator:root", clock=clock)
    set_role(engine, app, bob, "tester", by="Ann A (#1)", clock=clock)
    assert has_role(engine, app, ann)
    assert role_of(engine, app, bob) == "tester"
    assert [h.role for h in role_holders(engine, app)] == ["admin", "tester"]
    log = list_actions(engine, target_type="app", target_id=app)
    assert [e.action for e in log] == ["app:role:grant", "app:role:grant"]
    assert log[0].admin == "Ann A (#1)"
    assert log[0].detail["person"] == "Bob B"
    assert log[0].target_label == "Quiz"


def test_changing_a_role_replaces_it(engine: Engine) -> None:
    app, ann = add_app(engine), add_person(engine, "Ann A")
    set_role(engine, app, ann, "tester", by="op")
    set_role(engine, app, ann, "developer", by="op")
    assert role_of(engine, app, ann) == "developer"
    assert list_actions(engine, limit=1)[0].detail["previous"] == "tester"


def test_last_admin_cannot_be_removed(engine: Engine) -> None:
    app, ann, bob = add_app(engine), add_person(engine, "Ann A"), add_person(engine, "Bob B")
    set_role(engine, app, ann, "admin", by="op")
    with pytest.raises(IntegrityViolation):
        remove_role(engine, app, ann, by="op")
    set_role(engine, app, bob, "admin", by="op")
    remove_role(engine, app, ann, by="Bob B")
    assert not has_role(engine, app, ann)
    assert list_actions(engine, limit=1)[0].action == "app:role:revoke"


def test_unknown_role_app_or_person_is_refused(engine: Engine) -> None:
    app, ann = add_app(engine), add_person(engine, "Ann A")
    with pytest.raises(InvalidInput):
        parse_role("owner")
    with pytest.raises(InvalidInput):
        set_role(engine, app, ann, "owner", by="op")
    with pytest.raises(NotFound):
        set_role(engine, app + 99, ann, "tester", by="op")
    with pytest.raises(NotFound):
        set_role(engine, app, ann + 99, "tester", by="op")
    with pytest.raises(NotFound):
        remove_role(engine, app, ann, by="op")


@pytest.mark.parametrize(
    ("mode", "status", "has", "allowed"),
    [
        ("live", "active", False, True),
        ("live", "active", True, True),
        ("development", "active", False, False),
        ("development", "active", True, True),
        ("live", "suspended", True, False),
        ("development", "deleted", True, False),
    ],
)
def test_who_may_authorize(
    engine: Engine, mode: str, status: str, has: bool, allowed: bool
) -> None:
    app, ann = add_app(engine, mode=mode), add_person(engine, "Ann A")
    if has:
        set_role(engine, app, ann, "tester", by="op")
    assert can_authorize(engine, info(app, mode=mode, status=status), ann) is allowed


def test_admin_log_entry_survives_its_target(engine: Engine) -> None:
    app = add_app(engine, "Doomed Quiz")
    set_role(engine, app, add_person(engine, "Ann A"), "admin", by="op")
    with Session(engine) as session, session.begin():
        session.delete(session.get(App, app))
    entry = list_actions(engine, target_type="app", target_id=app)[0]
    assert entry.target_label == "Doomed Quiz"
    assert entry.admin == "op"


def test_admin_log_requires_admin_and_tag_grammar(engine: Engine) -> None:
    clock = ManualClock()
    with Session(engine) as session:
        with pytest.raises(InvalidInput):
            record_action(
                session,
                admin=" ",
                action="review:approve",
                target_type="app",
                target_id=1,
                target_label="x",
                clock=clock,
            )
        with pytest.raises(InvalidInput):
            record_action(
                session,
                admin="op",
                action="approve",
                target_type="app",
                target_id=1,
                target_label="x",
                clock=clock,
            )
    with pytest.raises(InvalidInput):
        list_actions(engine, limit=0)


def test_secret_rotation_replaces_the_secret_and_is_logged(engine: Engine) -> None:
    from graphwarden.consent.roles import rotate_app_secret
    from graphwarden.consent.tokens import verify_app_secret_hash

    app = add_app(engine)
    first = rotate_app_secret(engine, app, by="Ann A (#1)")
    second = rotate_app_secret(engine, app, by="Ann A (#1)")
    assert first != second
    with Session(engine) as session:
        stored = session.get(App, app)
        assert stored is not None
        assert verify_app_secret_hash(stored.secret_hash, second)
        assert not verify_app_secret_hash(stored.secret_hash, first)
        assert second not in stored.secret_hash
    assert list_actions(engine, limit=1)[0].action == "app:secret:rotate"
    with pytest.raises(NotFound):
        rotate_app_secret(engine, app + 9, by="x")


def test_mode_change_is_logged(engine: Engine) -> None:
    from graphwarden.consent.roles import set_mode

    app = add_app(engine)
    set_mode(engine, app, "development", by="Ann A")
    entry = list_actions(engine, limit=1)[0]
    assert entry.detail == {"mode": "development", "previous": "live"}
    with pytest.raises(InvalidInput):
        set_mode(engine, app, "staging", by="Ann A")
