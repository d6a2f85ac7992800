"""Differential test: the policy tables against the hand-written Cedar policies."""

from __future__ import annotations

import numpy as np
import pytest

from graphwarden.core.types import API_VERSIONS
from graphwarden.graph.fields import N_CATEGORIES, N_FIELDS, Audience, Relation
from graphwarden.policy.context import AccessContext, SubjectFacts
from graphwarden.policy.decide import decide, edge_member

from .cedar_oracle import MEMBER, cedar_allows, entities, policies, request
from .facts import ALL_PERMISSIONS, ctx

SAMPLES = 4000


def _sample(rng: np.random.Generator) -> tuple[AccessContext, SubjectFacts, int]:
    """One random case, biased towards working tokens so the interesting rules are reached."""
    perms = np.array(ALL_PERMISSIONS)
    c = ctx(
        str(rng.choice(API_VERSIONS)),
        perms[rng.random(len(perms)) < 0.4].tolist(),
        app_status=str(rng.choice(["active"] * 17 + ["suspended", "deleted", "pending"])),
        token_active=bool(rng.random() < 0.95),
        approved=perms[rng.random(len(perms)) < 0.4].tolist(),
        role=bool(rng.random() < 0.2),
        active=bool(rng.random() < 0.9),
        authorized=bool(rng.random() < 0.95),
        development=bool(rng.random() < 0.15),
    )
    s = SubjectFacts(
        relation=Relation(int(rng.integers(0, 4))),
        audiences=tuple(Audience(int(a)) for a in rng.integers(0, 4, N_FIELDS)),
        apps_others_use=tuple(bool(b) for b in rng.random(N_CATEGORIES) < 0.8),
        platform_enabled=bool(rng.random() < 0.95),
        uses_app=bool(rng.random() < 0.5),
        subject_granted=frozenset(["user_friends"] if rng.random() < 0.5 else []),
        subject_has_role=bool(rng.random() < 0.3),
    )
    return c, s, int(rng.integers(0, MEMBER + 1))


def _ours(c: AccessContext, s: SubjectFacts, code: int) -> tuple[bool, str]:
    from graphwarden.graph.fields import FIELD_NAMES

    d = edge_member(c, s) if code == MEMBER else decide(c, s, FIELD_NAMES[code])
    return d.allowed, d.rule_id


@pytest.mark.parametrize("seed", [20140430])
def test_tables_agree_with_cedar_on_sampled_decisions(seed: int) -> None:
    rng = np.random.default_rng(seed)
    cases = [_sample(rng) for _ in range(SAMPLES)]
    expected = cedar_allows(cases, policies(), entities())
    disagreements = [
        (request(c, s, code), _ours(c, s, code), want)
        for (c, s, code), want in zip(cases, expected, strict=True)
        if _ours(c, s, code)[0] != want
    ]
    assert not disagreements, disagreements[:3]
    # the sample is not degenerate: both outcomes and every version occur in numbers
    assert 0.05 < sum(expected) / SAMPLES < 0.95
    allowed_versions = {c.api_version for (c, _, _), ok in zip(cases, expected, strict=True) if ok}
    assert allowed_versions == set(API_VERSIONS)
