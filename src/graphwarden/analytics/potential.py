"""Potential exposure: what an app could have taken, under a policy version, through its
installers, decided by the policy's bulk face over the stored graph.

An app reaches people through the Graph API's ``/me`` (the installer's own fields) and
``/me/friends`` (every friend the version lists, and of each the fields the version allows
given the installer's grants). :func:`potential_exposure` decides every (installer, field)
and (installer, friend, field) case with :class:`~graphwarden.policy.bulk.BulkPolicy`, only
for fields that hold a value, and counts the distinct people any allowed field of theirs
would reach. Beside the ledger's *actual* blast radius this says how much stopping the app
early saved. Reads of strangers by id (public fields only) are left out: they need the id
from elsewhere, and public fields are public.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from graphwarden.graph.fields import FIELD_BY_NAME, FIELDS, N_FIELDS, Audience, Relation
from graphwarden.graph.policy_arrays import PolicyArrays
from graphwarden.policy.bulk import MEMBER_FIELD, BulkPolicy, permission_mask

#: friendship pairs decided per step (bounds temporary memory)
_PAIR_CHUNK = 1_000_000
_FRIENDS = FIELD_BY_NAME["friends"].index


@dataclass(frozen=True)
class Potential:
    """What the app could have taken through its installers."""

    version: str
    installers: int
    people: int
    non_consenting: int
    #: non-consenting people with at least one non-public field within reach
    non_consenting_non_public: int
    #: field -> distinct people whose field was within reach
    by_field: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "installers": self.installers,
            "people": self.people,
            "non_consenting": self.non_consenting,
            "non_consenting_non_public": self.non_consenting_non_public,
            "by_field": self.by_field,
        }


def decide_cases(
    policy: BulkPolicy,
    arrays: PolicyArrays,
    rows: npt.NDArray[np.int64],
    code: int,
    relation: Relation,
    *,
    uses: npt.NDArray[np.bool_],
    friends_grant: npt.NDArray[np.bool_],
    owner_mask: int | npt.NDArray[np.uint32],
    approved_mask: int,
) -> npt.NDArray[np.bool_]:
    """The bulk face's decision for field ``code`` of the subjects ``rows`` (allowed only
    where the field also holds a value; the friends-edge listing has none to check)."""
    m = rows.size
    audience_col = _FRIENDS if code == MEMBER_FIELD else code
    allowed, _codes = policy.decide(
        relation=np.full(m, int(relation), dtype=np.uint8),
        field=np.full(m, code, dtype=np.uint8),
        audience=arrays.audience[rows, audience_col],
        shares=(
            np.ones(m, dtype=np.bool_) if code == MEMBER_FIELD else arrays.shares_field(rows, code)
        ),
        subject_platform=arrays.platform_enabled[rows],
        uses_app=uses,
        subject_friends_grant=friends_grant,
        owner_grant_mask=owner_mask,
        approved_mask=approved_mask,
    )
    if code != MEMBER_FIELD:
        allowed &= arrays.has_value[rows, code]
    return allowed


def _pairs(
    arrays: PolicyArrays, owners: npt.NDArray[np.int64]
) -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]:
    """(position in ``owners``, friend row) for every friendship of ``owners``, in chunks."""
    indptr, indices = arrays.graph.indptr, arrays.graph.indices
    deg = indptr[owners + 1] - indptr[owners]
    lo = 0
    while lo < owners.size:
        csum = np.cumsum(deg[lo:])
        hi = lo + max(1, int(np.searchsorted(csum, _PAIR_CHUNK, side="right")))
        hi = min(hi, owners.size)
        counts = deg[lo:hi]
        total = int(counts.sum())
        which = np.repeat(np.arange(lo, hi, dtype=np.int64), counts)
        offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
        friends = indices[np.repeat(indptr[owners[lo:hi]], counts) + offsets].astype(np.int64)
        yield which, friends
        lo = hi


def potential_exposure(
    arrays: PolicyArrays,
    version: str,
    installers: Sequence[int],
    grants: Mapping[int, frozenset[str]] | frozenset[str],
    *,
    approved: frozenset[str] = frozenset(),
) -> Potential:
    """What an app under ``version`` could have taken through ``installers`` (person ids).

    ``grants``: each installer's granted permissions (or one set for all); ``approved``: the
    app's App Review approvals.
    """
    policy = BulkPolicy.for_version(version)
    ids = np.unique(np.asarray(list(installers), dtype=np.int64))
    owners = arrays.rows_of(ids)
    n = arrays.n
    if isinstance(grants, frozenset):
        masks = np.full(owners.size, permission_mask(grants), dtype=np.uint32)
        friends_of = np.full(owners.size, "user_friends" in grants)
    else:
        masks = np.array([permission_mask(grants.get(int(i), ())) for i in ids], dtype=np.uint32)
        friends_of = np.array(["user_friends" in grants.get(int(i), ()) for i in ids])
    approved_mask = permission_mask(approved)
    installed = np.zeros(n, dtype=np.bool_)
    installed[owners] = True
    friends_grant = np.zeros(n, dtype=np.bool_)
    friends_grant[owners] = friends_of
    reach = np.zeros((n, N_FIELDS), dtype=np.bool_)
    non_public = np.zeros(n, dtype=np.bool_)

    def mark(rows: npt.NDArray[np.int64], code: int, ok: npt.NDArray[np.bool_]) -> None:
        hit = rows[ok]
        reach[hit, code] = True
        non_public[hit[arrays.audience[hit, code] != int(Audience.PUBLIC)]] = True

    self_uses = np.ones(owners.size, dtype=np.bool_)
    for f in FIELDS:
        ok = decide_cases(
            policy, arrays, owners, f.index, Relation.SELF, uses=self_uses,
            friends_grant=friends_of, owner_mask=masks, approved_mask=approved_mask,
        )  # fmt: skip
        mark(owners, f.index, ok)
    edge = decide_cases(
        policy, arrays, owners, _FRIENDS, Relation.SELF, uses=self_uses,
        friends_grant=friends_of, owner_mask=masks, approved_mask=approved_mask,
    )  # fmt: skip
    listing = np.flatnonzero(edge)
    for which, friends in _pairs(arrays, owners[listing]):
        pair_mask = masks[listing][which]
        uses = installed[friends]
        fg = friends_grant[friends]
        listed = decide_cases(
            policy, arrays, friends, MEMBER_FIELD, Relation.FRIEND, uses=uses,
            friends_grant=fg, owner_mask=pair_mask, approved_mask=approved_mask,
        )  # fmt: skip
        mark(friends, 0, listed)
        for f in FIELDS[1:]:
            ok = listed & decide_cases(
                policy, arrays, friends, f.index, Relation.FRIEND, uses=uses,
                friends_grant=fg, owner_mask=pair_mask, approved_mask=approved_mask,
            )  # fmt: skip
            mark(friends, f.index, ok)
    exposed = reach.any(axis=1)
    return Potential(
        version=version,
        installers=int(owners.size),
        people=int(exposed.sum()),
        non_consenting=int((exposed & ~installed).sum()),
        non_consenting_non_public=int((non_public & ~installed).sum()),
        by_field={f.name: int(reach[:, f.index].sum()) for f in FIELDS if reach[:, f.index].any()},
    )


__all__ = ["Potential", "decide_cases", "potential_exposure"]
