"""What-if: the recorded disclosures replayed under another policy version, through the
policy's bulk face, and what that version would have denied.

Each record (owner, subject, field, time) is decided again with the facts of the moment it
was served: the relation of subject to owner in the stored graph, the subject's audience
and "apps others use" switch, whether the subject had authorized the app by then (and
granted ``user_friends``), and the owner's grants to the app. A friend's field also needs the
friend to be listed in the owner's friends edge under that version, as the Graph API's read
path does. The app is taken to have passed App Review for the permissions it asked for: the
question is what the version's rules allow, not what a reviewer would have approved.

Records fall in three groups: *own* (the token owner's own data: they consented to this),
*consenting* (someone who authorized the app, reached through another person's token) and
*non-consenting* (someone who never authorized the app).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from graphwarden.analytics.exposure import quiet_backend
from graphwarden.consent.models import App, Authorization
from graphwarden.consent.review import split_permissions
from graphwarden.core.errors import InvalidInput
from graphwarden.core.types import API_VERSIONS
from graphwarden.graph.fields import FIELD_BY_NAME, N_FIELDS, Audience, Relation
from graphwarden.graph.policy_arrays import PolicyArrays
from graphwarden.policy.bulk import MEMBER_FIELD, BulkPolicy, permission_mask

_GROUPS = ("own", "consenting", "non_consenting")
_FRIENDS = FIELD_BY_NAME["friends"].index


@dataclass(frozen=True)
class AppWhatIf:
    """One app's records under another version."""

    app_id: int
    recorded_version: str
    records: int
    denied_records: int
    people: int
    #: distinct people with at least one denied record
    denied_people: int
    #: people none of whose records the version would have allowed
    people_no_longer_exposed: int
    #: group -> {"records", "denied_records", "people", "denied_people"}
    by_group: dict[str, dict[str, int]] = field(default_factory=dict)
    #: field -> {"records", "denied_records", "people", "denied_people"}
    by_field: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "app_id": self.app_id,
            "recorded_version": self.recorded_version,
            "records": self.records,
            "denied_records": self.denied_records,
            "people": self.people,
            "denied_people": self.denied_people,
            "people_no_longer_exposed": self.people_no_longer_exposed,
            "by_group": self.by_group,
            "by_field": self.by_field,
        }


@dataclass(frozen=True)
class WhatIf:
    """The replay of recorded disclosures under ``version``."""

    version: str
    tree_size: int
    apps: list[AppWhatIf]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "tree_size": self.tree_size,
            "apps": [a.to_json() for a in self.apps],
        }


def _records(ledger: Any, app_id: int | None, tree_size: int | None) -> pa.Table:
    t = ledger
    if app_id is not None:
        t = t.filter(t.app_id == int(app_id))
    if tree_size is not None:
        t = t.filter(t.seq < int(tree_size))
    with quiet_backend():
        return t.select("app_id", "at", "owner_id", "subject_id", "field").to_pyarrow()


def _counts(subjects: npt.NDArray[np.int64], denied: npt.NDArray[np.bool_]) -> dict[str, int]:
    return {
        "records": int(subjects.size),
        "denied_records": int(denied.sum()),
        "people": int(np.unique(subjects).size),
        "denied_people": int(np.unique(subjects[denied]).size),
    }


def what_if(
    ledger: Any,
    engine: Engine,
    arrays: PolicyArrays,
    version: str,
    *,
    app_id: int | None = None,
    tree_size: int | None = None,
) -> WhatIf:
    """Replay the ``ledger`` table's records (one app's, or all) under ``version``."""
    if version not in API_VERSIONS:
        raise InvalidInput(f"unknown policy version {version!r}; one of {', '.join(API_VERSIONS)}")
    table = _records(ledger, app_id, tree_size)
    apps_seen = sorted(set(table.column("app_id").to_pylist()))
    if app_id is not None and not apps_seen:
        apps_seen = []
    with Session(engine) as session:
        apps = {a.id: a for a in session.scalars(select(App).where(App.id.in_(apps_seen)))}
        auths = list(
            session.scalars(select(Authorization).where(Authorization.app_id.in_(apps_seen)))
        )
    results = []
    for aid in apps_seen:
        app = apps.get(aid)
        if app is None:
            continue
        part = table.filter(pc.equal(table.column("app_id"), aid))
        results.append(
            _app_what_if(part, app, [a for a in auths if a.app_id == aid], arrays, version)
        )
    return WhatIf(version=version, tree_size=-1 if tree_size is None else tree_size, apps=results)


def _app_what_if(
    part: pa.Table, app: App, auths: Iterable[Authorization], arrays: PolicyArrays, version: str
) -> AppWhatIf:
    policy = BulkPolicy.for_version(version)
    owners = part.column("owner_id").to_numpy().astype(np.int64)
    subjects = part.column("subject_id").to_numpy().astype(np.int64)
    at_us = pc.cast(part.column("at"), pa.int64()).to_numpy().astype(np.int64)
    names = part.column("field").to_pylist()
    codes = np.array([FIELD_BY_NAME[f].index for f in names], dtype=np.uint8)
    o_rows, s_rows = arrays.rows_of(owners), arrays.rows_of(subjects)
    relation = arrays.graph.relation(o_rows, s_rows)
    granted: dict[int, frozenset[str]] = {}
    since: dict[int, int] = {}
    for a in auths:
        granted[int(a.person_id)] = split_permissions(a.granted)
        created = a.created_at if a.created_at.tzinfo else a.created_at.replace(tzinfo=UTC)
        since[int(a.person_id)] = int(created.timestamp() * 1_000_000)
    owner_mask = np.array(
        [permission_mask(granted.get(int(o), ())) for o in owners], dtype=np.uint32
    )
    far = np.iinfo(np.int64).max
    subject_since = np.array([since.get(int(s), far) for s in subjects], dtype=np.int64)
    uses = subject_since <= at_us
    friends_grant = uses & np.array(
        ["user_friends" in granted.get(int(s), ()) for s in subjects], dtype=np.bool_
    )
    approved = permission_mask(
        split_permissions(app.approved_permissions) | split_permissions(app.requested_permissions)
    )
    allowed = np.zeros(subjects.size, dtype=np.bool_)
    friend_read = (relation == int(Relation.FRIEND)) & (owners != subjects)
    for code in np.unique(codes):
        sel = np.flatnonzero(codes == code)
        allowed[sel] = _decide(
            policy, arrays, s_rows[sel], int(code), relation[sel], uses[sel],
            friends_grant[sel], owner_mask[sel], approved,
        )  # fmt: skip
    listed_sel = np.flatnonzero(friend_read)
    if listed_sel.size:
        listed = _decide(
            policy, arrays, s_rows[listed_sel], MEMBER_FIELD, relation[listed_sel],
            uses[listed_sel], friends_grant[listed_sel], owner_mask[listed_sel], approved,
        )  # fmt: skip
        allowed[listed_sel] &= listed
    denied = ~allowed
    consenting_people = np.array(sorted(since), dtype=np.int64)
    group = np.where(owners == subjects, 0, np.where(np.isin(subjects, consenting_people), 1, 2))
    people, first = np.unique(subjects, return_inverse=True)
    allowed_any = np.zeros(people.size, dtype=np.bool_)
    np.logical_or.at(allowed_any, first, allowed)
    field_names = np.array(names, dtype=object)
    return AppWhatIf(
        app_id=int(app.id),
        recorded_version=app.api_version,
        records=int(subjects.size),
        denied_records=int(denied.sum()),
        people=int(people.size),
        denied_people=int(np.unique(subjects[denied]).size),
        people_no_longer_exposed=int((~allowed_any).sum()),
        by_group={
            name: _counts(subjects[group == g], denied[group == g])
            for g, name in enumerate(_GROUPS)
        },
        by_field={
            str(f): _counts(subjects[field_names == f], denied[field_names == f])
            for f in sorted(set(names))
        },
    )


def _decide(
    policy: BulkPolicy,
    arrays: PolicyArrays,
    rows: npt.NDArray[np.int64],
    code: int,
    relation: npt.NDArray[np.uint8],
    uses: npt.NDArray[np.bool_],
    friends_grant: npt.NDArray[np.bool_],
    owner_mask: npt.NDArray[np.uint32],
    approved: int,
) -> npt.NDArray[np.bool_]:
    m = rows.size
    col = _FRIENDS if code == MEMBER_FIELD else code
    if code == MEMBER_FIELD or code >= N_FIELDS:
        shares = np.ones(m, dtype=np.bool_)
    else:
        shares = arrays.shares_field(rows, code)
    allowed, _ = policy.decide(
        relation=relation.astype(np.uint8),
        field=np.full(m, code, dtype=np.uint8),
        audience=arrays.audience[rows, col]
        if col < N_FIELDS
        else np.full(m, int(Audience.PUBLIC), dtype=np.uint8),
        shares=shares,
        subject_platform=arrays.platform_enabled[rows],
        uses_app=uses,
        subject_friends_grant=friends_grant,
        owner_grant_mask=owner_mask,
        approved_mask=approved,
    )
    return allowed


__all__ = ["AppWhatIf", "WhatIf", "what_if"]
