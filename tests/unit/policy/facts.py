"""Builders and hypothesis strategies for policy facts, shared by the policy tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st

from graphwarden.core.types import API_VERSIONS
from graphwarden.graph.fields import (
    FIELD_NAMES,
    FIELDS,
    N_CATEGORIES,
    N_FIELDS,
    Audience,
    Relation,
)
from graphwarden.policy.bulk import PERMISSION_BITS, context_arguments
from graphwarden.policy.context import AccessContext, SubjectFacts

ALL_PERMISSIONS: tuple[str, ...] = (*PERMISSION_BITS, "user_photos")
DEFAULT_AUDIENCES = tuple(f.default_audience for f in FIELDS)


def ctx(
    version: str = "v1.0",
    granted: Sequence[str] = (),
    *,
    app_status: str = "active",
    token_active: bool = True,
    approved: Sequence[str] = (),
    role: bool = False,
    active: bool = True,
    authorized: bool = True,
    development: bool = False,
) -> AccessContext:
    return AccessContext(
        api_version=version,  # type: ignore[arg-type]
        app_status=app_status,
        token_active=token_active,
        owner_granted=frozenset(granted),
        approved_permissions=frozenset(approved),
        owner_has_role=role,
        data_access_active=active,
        owner_authorized=authorized,
        app_in_development=development,
    )


def subject(
    relation: Relation = Relation.FRIEND,
    *,
    audience: Audience | None = None,
    shares: bool = True,
    platform: bool = True,
    uses_app: bool = False,
    granted: Sequence[str] = (),
    role: bool = False,
) -> SubjectFacts:
    """A subject with default audiences (or every audience set to ``audience``)."""
    audiences = DEFAULT_AUDIENCES if audience is None else (audience,) * N_FIELDS
    return SubjectFacts(
        relation=relation,
        audiences=audiences,
        apps_others_use=(shares,) * N_CATEGORIES,
        platform_enabled=platform,
        uses_app=uses_app,
        subject_granted=frozenset(granted),
        subject_has_role=role,
    )


versions = st.sampled_from(API_VERSIONS)
field_names = st.sampled_from(FIELD_NAMES)


@st.composite
def contexts(draw: st.DrawFn, version: str | None = None) -> AccessContext:
    """Mostly working tokens (so the interesting rules are reached), sometimes broken ones."""
    return ctx(
        version or draw(versions),
        draw(st.frozensets(st.sampled_from(ALL_PERMISSIONS))),
        app_status=draw(st.sampled_from(["active"] * 6 + ["suspended", "deleted", "pending"])),
        token_active=draw(st.booleans() | st.just(True)),
        approved=draw(st.frozensets(st.sampled_from(ALL_PERMISSIONS))),
        role=draw(st.booleans()),
        active=draw(st.booleans() | st.just(True)),
        authorized=draw(st.booleans() | st.just(True)),
        development=draw(st.booleans()),
    )


@st.composite
def subjects(draw: st.DrawFn) -> SubjectFacts:
    return SubjectFacts(
        relation=draw(st.sampled_from(list(Relation))),
        audiences=tuple(
            draw(st.lists(st.sampled_from(list(Audience)), min_size=N_FIELDS, max_size=N_FIELDS))
        ),
        apps_others_use=tuple(
            draw(st.lists(st.booleans(), min_size=N_CATEGORIES, max_size=N_CATEGORIES))
        ),
        platform_enabled=draw(st.booleans() | st.just(True)),
        uses_app=draw(st.booleans()),
        subject_granted=draw(st.frozensets(st.sampled_from(["public_profile", "user_friends"]))),
        subject_has_role=draw(st.booleans()),
    )


def bulk_arrays(
    cases: Sequence[tuple[SubjectFacts, int]],
) -> dict[str, Any]:
    """The bulk face's per-case arrays for (subject, field code) pairs."""
    rel, fld, aud, shr, plat, uses, sfr, role = [], [], [], [], [], [], [], []
    for s, code in cases:
        spec = FIELDS[code] if code < N_FIELDS else FIELDS[FIELD_NAMES.index("friends")]
        rel.append(int(s.relation))
        fld.append(code)
        aud.append(int(s.audiences[spec.index]))
        shr.append(
            True if spec.category is None or code >= N_FIELDS else s.apps_others_use[spec.category]
        )
        plat.append(s.platform_enabled)
        uses.append(s.uses_app)
        sfr.append("user_friends" in s.subject_granted)
        role.append(s.subject_has_role)
    return {
        "relation": np.array(rel, dtype=np.uint8),
        "field": np.array(fld, dtype=np.uint8),
        "audience": np.array(aud, dtype=np.uint8),
        "shares": np.array(shr, dtype=np.bool_),
        "subject_platform": np.array(plat, dtype=np.bool_),
        "uses_app": np.array(uses, dtype=np.bool_),
        "subject_friends_grant": np.array(sfr, dtype=np.bool_),
        "subject_has_role": np.array(role, dtype=np.bool_),
    }


def bulk_context(c: AccessContext) -> dict[str, Any]:
    """The bulk face's token-level arguments for an :class:`AccessContext`."""
    return context_arguments(c)
