"""Incidents: open one about an app (its exact blast radius and potential exposure), notify the
people it affected, close it. Every step is written to the admin action log in the same
transaction (``incident:open``, ``incident:notify``, ``incident:close``).

Figures come from the ledger (a :class:`~graphwarden.analytics.snapshot.Snapshot` at a signed
head) through the Ibis queries of :mod:`graphwarden.analytics.blast`, on the engine asked for.
Notices are one per affected person and incident, idempotently: notifying again creates only
the notices still missing (none, for an unchanged incident). A person lists their own
undismissed notices and dismisses them; anyone else's notice does not exist for them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from graphwarden.analytics.blast import AffectedPerson, BlastRadius, affected_people, blast_radius
from graphwarden.analytics.engines import connect, ledger_table, people_table
from graphwarden.analytics.incident_models import Incident, Notice
from graphwarden.analytics.potential import potential_exposure
from graphwarden.analytics.snapshot import Snapshot
from graphwarden.consent.admin_log import record_action
from graphwarden.consent.models import App, Authorization
from graphwarden.consent.review import split_permissions
from graphwarden.core.clock import Clock, as_utc
from graphwarden.core.errors import InvalidInput, NotFound
from graphwarden.graph.policy_arrays import read_policy_arrays

Status = Literal["opened", "notified", "closed"]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class IncidentView:
    """An incident as its pages and commands show it."""

    id: int
    app_id: int
    app_name: str
    status: Status
    opened_by: str
    opened_at: datetime
    notified_at: datetime | None
    closed_at: datetime | None
    reason: str
    tree_size: int
    root_hash: str
    blast: BlastRadius
    potential: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "app_id": self.app_id,
            "app_name": self.app_name,
            "status": self.status,
            "opened_by": self.opened_by,
            "opened_at": self.opened_at.isoformat(),
            "notified_at": None if self.notified_at is None else self.notified_at.isoformat(),
            "closed_at": None if self.closed_at is None else self.closed_at.isoformat(),
            "reason": self.reason,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "blast_radius": self.blast.to_json(),
            "potential": self.potential,
        }


@dataclass(frozen=True)
class NoticeView:
    """One notice: which app, which of the person's fields, when, through whose token."""

    id: int
    incident_id: int
    person_id: int
    app_id: int
    app_name: str
    fields: tuple[str, ...]
    first_at: datetime
    last_at: datetime
    via: tuple[int, ...]
    dismissed_at: datetime | None

    @property
    def own(self) -> bool:
        """Whether the person's own authorization carried some of it."""
        return self.person_id in self.via

    @property
    def friends(self) -> tuple[int, ...]:
        """Friends whose authorization carried it."""
        return tuple(v for v in self.via if v != self.person_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "incident_id": self.incident_id,
            "person_id": self.person_id,
            "app_id": self.app_id,
            "app_name": self.app_name,
            "fields": list(self.fields),
            "first_at": self.first_at.isoformat(),
            "last_at": self.last_at.isoformat(),
            "via_own_authorization": self.own,
            "via_friends": list(self.friends),
            "dismissed_at": None if self.dismissed_at is None else self.dismissed_at.isoformat(),
        }


def _view(row: Incident) -> IncidentView:
    return IncidentView(
        id=row.id,
        app_id=row.app_id,
        app_name=row.app_name,
        status=row.status,  # type: ignore[arg-type]
        opened_by=row.opened_by,
        opened_at=as_utc(row.opened_at),
        notified_at=None if row.notified_at is None else as_utc(row.notified_at),
        closed_at=None if row.closed_at is None else as_utc(row.closed_at),
        reason=row.reason,
        tree_size=int(row.tree_size),
        root_hash=row.root_hash,
        blast=BlastRadius.from_json(json.loads(row.blast_radius)),
        potential=json.loads(row.potential or "{}"),
    )


def _notice(row: Notice) -> NoticeView:
    return NoticeView(
        id=row.id,
        incident_id=row.incident_id,
        person_id=row.person_id,
        app_id=row.app_id,
        app_name=row.app_name,
        fields=tuple(f for f in row.fields.split(",") if f),
        first_at=as_utc(row.first_at),
        last_at=as_utc(row.last_at),
        via=tuple(int(v) for v in row.via.split(",") if v),
        dismissed_at=None if row.dismissed_at is None else as_utc(row.dismissed_at),
    )


def _app(session: Session, app_id: int) -> App:
    app = session.get(App, int(app_id))
    if app is None:
        raise NotFound(f"no app {app_id}")
    return app


def compute_blast(
    snapshot: Snapshot, app_id: int, *, engine_name: str = "duckdb", spark_master: str = "local[2]"
) -> BlastRadius:
    """The app's blast radius over ``snapshot`` at its signed head, on ``engine_name``."""
    con = connect(engine_name, spark_master=spark_master)
    return blast_radius(
        con,
        ledger_table(con, snapshot.ledger),
        people_table(con, snapshot.people),
        app_id,
        snapshot.tree_size,
    )


def compute_affected(
    snapshot: Snapshot,
    app_id: int,
    tree_size: int,
    *,
    engine_name: str = "duckdb",
    spark_master: str = "local[2]",
) -> list[AffectedPerson]:
    """Every affected person of ``app_id`` among the records ``seq < tree_size``."""
    if tree_size > snapshot.tree_size:
        raise InvalidInput(
            f"the snapshot holds {snapshot.tree_size} records, fewer than the {tree_size} asked for"
        )
    con = connect(engine_name, spark_master=spark_master)
    return affected_people(
        con, ledger_table(con, snapshot.ledger), people_table(con, snapshot.people), app_id,
        tree_size,
    )  # fmt: skip


def app_potential(engine: Engine, app_id: int) -> dict[str, Any]:
    """What the app could have taken through everyone who authorized it, under its version
    and their grants (:func:`graphwarden.analytics.potential.potential_exposure`)."""
    with Session(engine) as session:
        app = _app(session, app_id)
        version, approved = app.api_version, split_permissions(app.approved_permissions)
        grants = {
            int(a.person_id): split_permissions(a.granted)
            for a in session.scalars(select(Authorization).where(Authorization.app_id == app_id))
        }
    if not grants:
        return {"version": version, "installers": 0, "people": 0, "non_consenting": 0,
                "non_consenting_non_public": 0, "by_field": {}}  # fmt: skip
    arrays = read_policy_arrays(engine)
    return potential_exposure(arrays, version, sorted(grants), grants, approved=approved).to_json()


def open_incident(
    engine: Engine,
    app_id: int,
    snapshot: Snapshot,
    *,
    admin: str,
    clock: Clock,
    reason: str = "",
    engine_name: str = "duckdb",
    spark_master: str = "local[2]",
) -> IncidentView:
    """Open an incident about ``app_id``: its blast radius at the snapshot's head and its
    potential exposure, stored, and ``incident:open`` in the admin log."""
    with Session(engine) as session:
        app_name = _app(session, app_id).name
    blast = compute_blast(snapshot, app_id, engine_name=engine_name, spark_master=spark_master)
    potential = app_potential(engine, app_id)
    with Session(engine) as session, session.begin():
        row = Incident(
            app_id=int(app_id),
            app_name=app_name,
            status="opened",
            opened_by=admin,
            opened_at=clock.now(),
            reason=reason,
            tree_size=snapshot.tree_size,
            root_hash=snapshot.root_hash,
            blast_radius=json.dumps(blast.to_json(), sort_keys=True),
            potential=json.dumps(potential, sort_keys=True),
        )
        session.add(row)
        session.flush()
        record_action(
            session,
            admin=admin,
            action="incident:open",
            target_type="app",
            target_id=app_id,
            target_label=app_name,
            clock=clock,
            reason=reason,
            detail={
                "incident": row.id,
                "tree_size": snapshot.tree_size,
                "people": blast.people,
                "non_consenting": blast.non_consenting,
                "records": blast.records,
            },
        )
        session.flush()
        return _view(row)


def get_incident(engine: Engine, incident_id: int) -> IncidentView:
    """One incident; ``NotFound`` if there is none."""
    with Session(engine) as session:
        row = session.get(Incident, int(incident_id))
        if row is None:
            raise NotFound(f"no incident {incident_id}")
        return _view(row)


def list_incidents(engine: Engine, *, status: str | None = None) -> list[IncidentView]:
    """Incidents, newest first (optionally of one status)."""
    stmt = select(Incident).order_by(Incident.id.desc())
    if status is not None:
        stmt = stmt.where(Incident.status == status)
    with Session(engine) as session:
        return [_view(r) for r in session.scalars(stmt)]


def _at(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(micros))


def notify_incident(
    engine: Engine,
    incident_id: int,
    affected: list[AffectedPerson],
    *,
    admin: str,
    clock: Clock,
) -> int:
    """Create the missing notices of ``incident_id`` (one per person in ``affected``, the
    incident's affected people at its tree size); returns how many were created. The incident
    becomes ``notified`` and ``incident:notify`` is logged with the count."""
    with Session(engine) as session, session.begin():
        row = session.get(Incident, int(incident_id))
        if row is None:
            raise NotFound(f"no incident {incident_id}")
        if row.status == "closed":
            raise InvalidInput(f"incident {incident_id} is closed")
        have = set(session.scalars(select(Notice.person_id).where(Notice.incident_id == row.id)))
        now = clock.now()
        fresh = [
            {
                "incident_id": row.id,
                "person_id": p.person_id,
                "app_id": row.app_id,
                "app_name": row.app_name,
                "fields": ",".join(p.fields),
                "first_at": _at(p.first_at_us),
                "last_at": _at(p.last_at_us),
                "via": ",".join(str(v) for v in p.via),
                "created_at": now,
            }
            for p in affected
            if p.person_id not in have
        ]
        for lo in range(0, len(fresh), 5000):
            session.execute(Notice.__table__.insert(), fresh[lo : lo + 5000])
        if row.status == "opened":
            row.status = "notified"
            row.notified_at = now
        record_action(
            session,
            admin=admin,
            action="incident:notify",
            target_type="app",
            target_id=row.app_id,
            target_label=row.app_name,
            clock=clock,
            detail={"incident": row.id, "created": len(fresh), "affected": len(affected)},
        )
        return len(fresh)


def close_incident(
    engine: Engine, incident_id: int, *, admin: str, clock: Clock, reason: str = ""
) -> IncidentView:
    """Close an incident (``incident:close`` in the admin log)."""
    with Session(engine) as session, session.begin():
        row = session.get(Incident, int(incident_id))
        if row is None:
            raise NotFound(f"no incident {incident_id}")
        if row.status == "closed":
            raise InvalidInput(f"incident {incident_id} is already closed")
        row.status = "closed"
        row.closed_at = clock.now()
        record_action(
            session,
            admin=admin,
            action="incident:close",
            target_type="app",
            target_id=row.app_id,
            target_label=row.app_name,
            clock=clock,
            reason=reason,
            detail={"incident": row.id},
        )
        session.flush()
        return _view(row)


def incident_notices(engine: Engine, incident_id: int) -> list[NoticeView]:
    """Every notice of one incident, by person."""
    with Session(engine) as session:
        stmt = select(Notice).where(Notice.incident_id == incident_id).order_by(Notice.person_id)
        return [_notice(r) for r in session.scalars(stmt)]


def open_notices(engine: Engine, person_id: int) -> list[NoticeView]:
    """The person's notices they have not dismissed, newest incident first."""
    with Session(engine) as session:
        stmt = (
            select(Notice)
            .where(Notice.person_id == int(person_id), Notice.dismissed_at.is_(None))
            .order_by(Notice.incident_id.desc())
        )
        return [_notice(r) for r in session.scalars(stmt)]


def dismiss_notice(engine: Engine, person_id: int, notice_id: int, *, clock: Clock) -> NoticeView:
    """The person dismisses one of their notices; anyone else's is ``NotFound``, as if it did
    not exist. Dismissing twice keeps the first time."""
    with Session(engine) as session, session.begin():
        row = session.get(Notice, int(notice_id))
        if row is None or row.person_id != int(person_id):
            raise NotFound(f"no notice {notice_id}")
        if row.dismissed_at is None:
            row.dismissed_at = clock.now()
        session.flush()
        return _notice(row)


__all__ = [
    "IncidentView",
    "NoticeView",
    "app_potential",
    "close_incident",
    "compute_affected",
    "compute_blast",
    "dismiss_notice",
    "get_incident",
    "incident_notices",
    "list_incidents",
    "notify_incident",
    "open_incident",
    "open_notices",
]
