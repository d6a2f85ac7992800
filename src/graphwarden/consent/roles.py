"""Roles on an app (admin, developer, tester), who may authorize an app, and the controls an
app's admins hold over it: its mode (development or live) and its secret.

In development mode only role holders may authorize an app; role holders may also be granted
permissions that still wait for App Review (see :mod:`graphwarden.consent.review`). An app's
admins manage its roles; every change is written to the admin action log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from graphwarden.consent.admin_log import record_action
from graphwarden.consent.interfaces import AppInfo
from graphwarden.consent.models import App
from graphwarden.consent.platform_models import AppRole
from graphwarden.consent.records import check_url
from graphwarden.consent.tokens import hash_app_secret, new_app_secret
from graphwarden.core.clock import Clock, SystemClock, as_utc
from graphwarden.core.errors import IntegrityViolation, InvalidInput, NotFound
from graphwarden.core.types import AppId, PersonId
from graphwarden.graph.models import Person

RoleName = Literal["admin", "developer", "tester"]
ROLES: tuple[RoleName, ...] = ("admin", "developer", "tester")
APP_MODES = ("development", "live")


@dataclass(frozen=True, slots=True)
class RoleHolder:
    app_id: AppId
    person_id: PersonId
    person_name: str
    role: RoleName
    granted_by: str
    granted_at: datetime


def parse_role(value: str) -> RoleName:
    """``"Developer"`` → ``"developer"``; anything else raises ``InvalidInput``."""
    role = value.strip().lower()
    if role not in ROLES:
        raise InvalidInput(f"unknown role {value!r}: expected one of {', '.join(ROLES)}")
    return role


def has_role(engine: Engine, app_id: int, person_id: int) -> bool:
    """Whether ``person_id`` holds any role (admin, developer, tester) on ``app_id``."""
    with Session(engine) as session:
        return (
            session.scalar(
                select(AppRole.role).where(AppRole.app_id == app_id, AppRole.person_id == person_id)
            )
            is not None
        )


def role_of(engine: Engine, app_id: int, person_id: int) -> RoleName | None:
    """The role ``person_id`` holds on ``app_id``, or None."""
    with Session(engine) as session:
        role = session.scalar(
            select(AppRole.role).where(AppRole.app_id == app_id, AppRole.person_id == person_id)
        )
    return cast(RoleName, role) if role is not None else None


def role_holders(engine: Engine, app_id: int) -> list[RoleHolder]:
    """Everyone holding a role on ``app_id``, admins first."""
    order = {role: i for i, role in enumerate(ROLES)}
    with Session(engine) as session:
        rows = session.execute(
            select(AppRole, Person.name)
            .join(Person, Person.id == AppRole.person_id)
            .where(AppRole.app_id == app_id)
        ).all()
    holders = [
        RoleHolder(
            app_id=AppId(role.app_id),
            person_id=PersonId(role.person_id),
            person_name=name,
            role=cast(RoleName, role.role),
            granted_by=role.granted_by,
            granted_at=as_utc(role.granted_at),
        )
        for role, name in rows
    ]
    return sorted(holders, key=lambda h: (order[h.role], h.person_id))


def apps_with_role(engine: Engine, person_id: int) -> dict[AppId, RoleName]:
    """The apps ``person_id`` holds a role on, with the role."""
    with Session(engine) as session:
        rows = session.execute(
            select(AppRole.app_id, AppRole.role).where(AppRole.person_id == person_id)
        ).all()
    return {AppId(app_id): cast(RoleName, role) for app_id, role in rows}


def set_role(
    engine: Engine,
    app_id: int,
    person_id: int,
    role: str,
    *,
    by: str,
    clock: Clock | None = None,
) -> RoleName:
    """Give ``person_id`` ``role`` on ``app_id`` (replacing any other role), logged as ``by``."""
    clock = clock or SystemClock()
    parsed = parse_role(role)
    with Session(engine) as session, session.begin():
        app = session.get(App, app_id)
        person = session.get(Person, person_id)
        if app is None or app.status == "deleted":
            raise NotFound(f"no app {app_id}")
        if person is None:
            raise NotFound(f"no person {person_id}")
        row = session.get(AppRole, (app_id, person_id))
        previous = row.role if row is not None else None
        if row is None:
            session.add(
                AppRole(
                    app_id=app_id,
                    person_id=person_id,
                    role=parsed,
                    granted_by=by,
                    granted_at=clock.now(),
                )
            )
        else:
            row.role, row.granted_by, row.granted_at = parsed, by, clock.now()
        record_action(
            session,
            admin=by,
            action="app:role:grant",
            target_type="app",
            target_id=app_id,
            target_label=app.name,
            clock=clock,
            detail={
                "person_id": person_id,
                "person": person.name,
                "role": parsed,
                "previous": previous,
            },
        )
    return parsed


def remove_role(
    engine: Engine, app_id: int, person_id: int, *, by: str, clock: Clock | None = None
) -> None:
    """Take ``person_id``'s role on ``app_id`` away; an app keeps at least one admin."""
    clock = clock or SystemClock()
    with Session(engine) as session, session.begin():
        row = session.get(AppRole, (app_id, person_id))
        app = session.get(App, app_id)
        if row is None or app is None:
            raise NotFound(f"person {person_id} holds no role on app {app_id}")
        if row.role == "admin":
            admins = session.scalars(
                select(AppRole.person_id).where(AppRole.app_id == app_id, AppRole.role == "admin")
            ).all()
            if len(admins) <= 1:
                raise IntegrityViolation("an app keeps at least one admin")
        person = session.get(Person, person_id)
        record_action(
            session,
            admin=by,
            action="app:role:revoke",
            target_type="app",
            target_id=app_id,
            target_label=app.name,
            clock=clock,
            detail={
                "person_id": person_id,
                "person": person.name if person else "",
                "role": row.role,
            },
        )
        session.delete(row)


def can_authorize(engine: Engine, app: AppInfo, person: int) -> bool:
    """Whether ``person`` may authorize ``app`` at all.

    A suspended or deleted app admits no one; a development-mode app only its role holders;
    a live app anyone.
    """
    if app.status != "active":
        return False
    if app.mode == "live":
        return True
    return has_role(engine, app.id, person)


def rotate_app_secret(engine: Engine, app_id: int, *, by: str, clock: Clock | None = None) -> str:
    """Replace ``app_id``'s secret and return the new one; shown this once, stored hashed.

    The old secret stops working at once. Logged as ``app:secret:rotate`` naming ``by``.
    """
    clock = clock or SystemClock()
    secret = new_app_secret()
    with Session(engine) as session, session.begin():
        app = session.get(App, app_id)
        if app is None or app.status == "deleted":
            raise NotFound(f"no app {app_id}")
        app.secret_hash = hash_app_secret(secret)
        record_action(
            session,
            admin=by,
            action="app:secret:rotate",
            target_type="app",
            target_id=app_id,
            target_label=app.name,
            clock=clock,
        )
    return secret


def set_mode(
    engine: Engine, app_id: int, mode: str, *, by: str, clock: Clock | None = None
) -> None:
    """Put ``app_id`` in ``development`` (role holders only) or ``live`` mode, logged."""
    clock = clock or SystemClock()
    if mode not in APP_MODES:
        raise InvalidInput(f"app mode must be one of {', '.join(APP_MODES)}, got {mode!r}")
    with Session(engine) as session, session.begin():
        app = session.get(App, app_id)
        if app is None or app.status == "deleted":
            raise NotFound(f"no app {app_id}")
        previous, app.mode = app.mode, mode
        record_action(
            session,
            admin=by,
            action="app:mode:set",
            target_type="app",
            target_id=app_id,
            target_label=app.name,
            clock=clock,
            detail={"mode": mode, "previous": previous},
        )


def set_app_urls(
    engine: Engine,
    app_id: int,
    *,
    redirect_uris: list[str],
    privacy_policy_url: str | None,
    deletion_callback_url: str | None,
    by: str,
    clock: Clock | None = None,
) -> None:
    """Replace ``app_id``'s redirect URIs, privacy-policy and deletion-callback URLs, logged
    as ``app:urls:set``. Each must be an absolute http(s) URL without fragment; nothing is
    changed when one is not (``InvalidInput``)."""
    clock = clock or SystemClock()
    uris = list(dict.fromkeys(check_url(u) for u in redirect_uris))
    if privacy_policy_url is not None:
        check_url(privacy_policy_url, "privacy policy URL")
    if deletion_callback_url is not None:
        check_url(deletion_callback_url, "deletion callback URL")
    with Session(engine) as session, session.begin():
        app = session.get(App, app_id)
        if app is None or app.status == "deleted":
            raise NotFound(f"no app {app_id}")
        app.redirect_uris = "\n".join(uris)
        app.privacy_policy_url = privacy_policy_url
        app.deletion_callback_url = deletion_callback_url
        record_action(
            session,
            admin=by,
            action="app:urls:set",
            target_type="app",
            target_id=app_id,
            target_label=app.name,
            clock=clock,
            detail={
                "redirect_uris": uris,
                "privacy_policy_url": privacy_policy_url,
                "deletion_callback_url": deletion_callback_url,
            },
        )


__all__ = [
    "APP_MODES",
    "ROLES",
    "RoleHolder",
    "RoleName",
    "apps_with_role",
    "can_authorize",
    "has_role",
    "parse_role",
    "remove_role",
    "role_holders",
    "role_of",
    "rotate_app_secret",
    "set_app_urls",
    "set_mode",
    "set_role",
]
