"""The admin action log: every admin decision, naming the admin, written in the same
transaction as the decision itself.

Actions are tags with a grammar, ``<object>:<verb>`` or ``<object>:<part>:<verb>``:

``review:approve`` ``review:reject``            an App Review decision
``app:role:grant`` ``app:role:revoke``          a role on an app changed
``app:secret:rotate`` ``app:signing-key:rotate`` credentials replaced
``app:mode:set`` ``app:register``                the app's mode changed, the app was registered

Each entry copies its target's label, so it still reads correctly after the target is gone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from graphwarden.consent.platform_models import AdminAction
from graphwarden.core.clock import Clock, as_utc
from graphwarden.core.errors import InvalidInput

_ACTION = re.compile(r"^[a-z][a-z-]*(:[a-z][a-z-]*){1,2}$")


@dataclass(frozen=True, slots=True)
class AdminActionEntry:
    """One line of the admin action log."""

    id: int
    at: datetime
    admin: str
    action: str
    target_type: str
    target_id: str
    target_label: str
    reason: str
    detail: Mapping[str, Any]


def record_action(
    session: Session,
    *,
    admin: str,
    action: str,
    target_type: str,
    target_id: str | int,
    target_label: str,
    clock: Clock,
    reason: str = "",
    detail: Mapping[str, Any] | None = None,
) -> AdminAction:
    """Add an entry to ``session`` (the caller's transaction commits it with the decision).

    Raises ``InvalidInput`` for an unnamed admin or an action tag outside the grammar.
    """
    if not admin.strip():
        raise InvalidInput("an admin action must name the admin")
    if not _ACTION.match(action):
        raise InvalidInput(f"action tag {action!r} does not follow <object>:<verb>")
    row = AdminAction(
        at=clock.now(),
        admin=admin.strip()[:200],
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        target_label=target_label[:300],
        reason=reason,
        detail=json.dumps(dict(detail or {}), sort_keys=True, default=str),
    )
    session.add(row)
    return row


def _entry(row: AdminAction) -> AdminActionEntry:
    return AdminActionEntry(
        id=row.id,
        at=as_utc(row.at),
        admin=row.admin,
        action=row.action,
        target_type=row.target_type,
        target_id=row.target_id,
        target_label=row.target_label,
        reason=row.reason,
        detail=json.loads(row.detail or "{}"),
    )


def list_actions(
    engine: Engine,
    *,
    target_type: str | None = None,
    target_id: str | int | None = None,
    action_prefix: str | None = None,
    limit: int = 100,
) -> list[AdminActionEntry]:
    """The newest entries first, optionally for one target or one family of actions."""
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit must be between 1 and 1000")
    stmt = select(AdminAction).order_by(AdminAction.id.desc()).limit(limit)
    if target_type is not None:
        stmt = stmt.where(AdminAction.target_type == target_type)
    if target_id is not None:
        stmt = stmt.where(AdminAction.target_id == str(target_id))
    if action_prefix is not None:
        stmt = stmt.where(AdminAction.action.startswith(action_prefix, autoescape=True))
    with Session(engine) as session:
        return [_entry(row) for row in session.scalars(stmt)]


__all__ = ["AdminActionEntry", "list_actions", "record_action"]
