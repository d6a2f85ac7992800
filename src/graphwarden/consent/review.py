"""App Review: permissions the version's table marks as needing review can be granted only to
the app's role holders until an admin approves the app's request for them.

Which permissions need review is platform policy (``graphwarden.policy.tables.needs_review``);
consent sits below policy, so callers pass that predicate in. An approval adds the permissions
to ``apps.approved_permissions``; every decision is written to the admin action log with its
reason and the admin's name, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from graphwarden.consent.admin_log import record_action
from graphwarden.consent.interfaces import AppInfo
from graphwarden.consent.models import App
from graphwarden.consent.platform_models import ReviewRequest
from graphwarden.consent.roles import has_role
from graphwarden.core.clock import Clock, SystemClock, as_utc
from graphwarden.core.errors import IntegrityViolation, InvalidInput, NotFound
from graphwarden.core.types import ApiVersion, AppId

#: ``policy.tables.needs_review``: (version, permission) → whether it needs App Review
NeedsReview = Callable[[ApiVersion, str], bool]
ReviewStatus = Literal["pending", "approved", "rejected"]
STATUSES: tuple[ReviewStatus, ...] = ("pending", "approved", "rejected")
#: a stated use shorter than this says nothing a reviewer could check
MIN_STATED_USE = 20


@dataclass(frozen=True, slots=True)
class Review:
    """A review request and, once decided, its decision."""

    id: int
    app_id: AppId
    app_name: str
    api_version: str
    permissions: tuple[str, ...]
    stated_use: str
    submitted_by: str
    submitted_at: datetime
    status: ReviewStatus
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None


def split_permissions(value: str) -> frozenset[str]:
    """``"email,user_likes"`` → ``{"email", "user_likes"}`` (the tables' storage format)."""
    return frozenset(p for p in (s.strip() for s in value.split(",")) if p)


def join_permissions(perms: Iterable[str]) -> str:
    return ",".join(sorted(set(perms)))


def grantable_permissions(
    engine: Engine,
    app: AppInfo,
    person: int,
    *,
    needs_review: NeedsReview,
    requested: Iterable[str] | None = None,
) -> tuple[frozenset[str], frozenset[str]]:
    """Split the permissions an app asks ``person`` for into (grantable, withheld).

    A permission is withheld when the app's version needs App Review for it, the app has not
    been approved for it, and ``person`` holds no role on the app. The consent screen offers
    only the grantable ones. ``requested`` defaults to the app's requested permissions.

    >>> # v3.0 app asking for user_likes before review, person without a role:
    >>> # grantable={"public_profile"}, withheld={"user_likes"}
    """
    asked = frozenset(app.requested_permissions if requested is None else requested)
    unreviewed = frozenset(
        p for p in asked if needs_review(app.api_version, p) and p not in app.approved_permissions
    )
    if not unreviewed or has_role(engine, app.id, person):
        return asked, frozenset()
    return asked - unreviewed, unreviewed


def _review(row: ReviewRequest, app: App) -> Review:
    return Review(
        id=row.id,
        app_id=AppId(row.app_id),
        app_name=app.name,
        api_version=app.api_version,
        permissions=tuple(sorted(split_permissions(row.permissions))),
        stated_use=row.stated_use,
        submitted_by=row.submitted_by,
        submitted_at=as_utc(row.submitted_at),
        status=cast(ReviewStatus, row.status),
        decided_by=row.decided_by,
        decided_at=as_utc(row.decided_at) if row.decided_at else None,
        reason=row.reason,
    )


def submit_review(
    engine: Engine,
    app_id: int,
    permissions: Iterable[str],
    stated_use: str,
    *,
    submitted_by: str,
    needs_review: NeedsReview | None = None,
    clock: Clock | None = None,
) -> Review:
    """File a request for ``permissions`` with what the app will do with them.

    With ``needs_review`` given, permissions that need no review for the app's version are
    refused (there is nothing to approve). Permissions already approved are refused, and so is
    a second pending request for the same app.
    """
    clock = clock or SystemClock()
    perms = frozenset(p.strip() for p in permissions if p.strip())
    use = stated_use.strip()
    if not perms:
        raise InvalidInput("a review request names at least one permission")
    if len(use) < MIN_STATED_USE:
        raise InvalidInput(
            f"describe how the app uses the data (at least {MIN_STATED_USE} characters)"
        )
    with Session(engine) as session, session.begin():
        app = session.get(App, app_id)
        if app is None or app.status == "deleted":
            raise NotFound(f"no app {app_id}")
        version = cast(ApiVersion, app.api_version)
        if needs_review is not None:
            free = sorted(p for p in perms if not needs_review(version, p))
            if free:
                raise InvalidInput(
                    f"{', '.join(free)} need no App Review in {version}; request only the others"
                )
        already = perms & split_permissions(app.approved_permissions)
        if already:
            raise InvalidInput(f"already approved: {', '.join(sorted(already))}")
        pending = session.scalar(
            select(ReviewRequest.id).where(
                ReviewRequest.app_id == app_id, ReviewRequest.status == "pending"
            )
        )
        if pending is not None:
            raise IntegrityViolation(f"app {app_id} already has a pending request (#{pending})")
        row = ReviewRequest(
            app_id=app_id,
            permissions=join_permissions(perms),
            stated_use=use,
            submitted_by=submitted_by,
            submitted_at=clock.now(),
            status="pending",
        )
        session.add(row)
        session.flush()
        return _review(row, app)


def list_reviews(
    engine: Engine, *, status: str | None = "pending", app_id: int | None = None
) -> list[Review]:
    """Requests, oldest first (the queue order); ``status=None`` lists all."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"unknown status {status!r}: expected one of {', '.join(STATUSES)}")
    stmt = (
        select(ReviewRequest, App)
        .join(App, App.id == ReviewRequest.app_id)
        .order_by(ReviewRequest.submitted_at, ReviewRequest.id)
    )
    if status is not None:
        stmt = stmt.where(ReviewRequest.status == status)
    if app_id is not None:
        stmt = stmt.where(ReviewRequest.app_id == app_id)
    with Session(engine) as session:
        return [_review(row, app) for row, app in session.execute(stmt).all()]


def get_review(engine: Engine, review_id: int) -> Review:
    """One request; ``NotFound`` if there is none with this id."""
    with Session(engine) as session:
        row = session.get(ReviewRequest, review_id)
        app = session.get(App, row.app_id) if row is not None else None
        if row is None or app is None:
            raise NotFound(f"no review request {review_id}")
        return _review(row, app)


def decide(
    engine: Engine,
    review_id: int,
    *,
    approve: bool,
    admin: str,
    reason: str,
    clock: Clock | None = None,
) -> Review:
    """Approve or reject a pending request, naming the admin and the reason.

    Approval adds the permissions to the app's ``approved_permissions``. The decision and its
    admin-log entry commit together or not at all.
    """
    clock = clock or SystemClock()
    if not admin.strip():
        raise InvalidInput("a decision names the admin who made it")
    if not reason.strip():
        raise InvalidInput("a decision gives its reason")
    with Session(engine) as session, session.begin():
        row = session.get(ReviewRequest, review_id)
        app = session.get(App, row.app_id) if row is not None else None
        if row is None or app is None:
            raise NotFound(f"no review request {review_id}")
        if row.status != "pending":
            raise IntegrityViolation(
                f"review request {review_id} was already {row.status} by {row.decided_by}"
            )
        perms = split_permissions(row.permissions)
        row.status = "approved" if approve else "rejected"
        row.decided_by = admin.strip()
        row.decided_at = clock.now()
        row.reason = reason.strip()
        if approve:
            app.approved_permissions = join_permissions(
                split_permissions(app.approved_permissions) | perms
            )
        record_action(
            session,
            admin=admin,
            action="review:approve" if approve else "review:reject",
            target_type="app",
            target_id=app.id,
            target_label=app.name,
            clock=clock,
            reason=reason.strip(),
            detail={"review_id": row.id, "permissions": sorted(perms)},
        )
        session.flush()
        return _review(row, app)


def approve(
    engine: Engine, review_id: int, *, admin: str, reason: str, clock: Clock | None = None
) -> Review:
    """Approve a pending request (see :func:`decide`)."""
    return decide(engine, review_id, approve=True, admin=admin, reason=reason, clock=clock)


def reject(
    engine: Engine, review_id: int, *, admin: str, reason: str, clock: Clock | None = None
) -> Review:
    """Reject a pending request (see :func:`decide`)."""
    return decide(engine, review_id, approve=False, admin=admin, reason=reason, clock=clock)


__all__ = [
    "MIN_STATED_USE",
    "NeedsReview",
    "Review",
    "approve",
    "decide",
    "get_review",
    "grantable_permissions",
    "join_permissions",
    "list_reviews",
    "reject",
    "split_permissions",
    "submit_review",
]
