"""The bulk face: shapes, per-case token flags, membership, and agreement on the whole domain."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from graphwarden.core.errors import InvalidInput, PolicyError
from graphwarden.graph.fields import FIELD_BY_NAME, FIELDS, N_FIELDS, Audience, Relation
from graphwarden.policy.bulk import MEMBER_FIELD, BulkPolicy, permission_mask
from graphwarden.policy.context import SubjectFacts
from graphwarden.policy.decide import decide, edge_member

from .facts import bulk_arrays, bulk_context, ctx, subject

BIRTHDAY = FIELD_BY_NAME["birthday"].index


def _arrays(n: int, **over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "relation": np.full(n, int(Relation.FRIEND), dtype=np.uint8),
        "field": np.full(n, BIRTHDAY, dtype=np.uint8),
        "audience": np.full(n, int(Audience.FRIENDS), dtype=np.uint8),
        "shares": np.ones(n, dtype=np.bool_),
        "subject_platform": np.ones(n, dtype=np.bool_),
        "uses_app": np.zeros(n, dtype=np.bool_),
        "subject_friends_grant": np.zeros(n, dtype=np.bool_),
    }
    base.update(over)
    return base


def test_v1_friend_birthday_and_per_case_masks() -> None:
    p = BulkPolicy.for_version("v1.0")
    masks = np.array([permission_mask(["friends_birthday"]), 0], dtype=np.uint32)
    allowed, codes = p.decide(**_arrays(2), owner_grant_mask=masks)  # type: ignore[arg-type]
    assert allowed.tolist() == [True, False]
    assert [p.rule_ids[c] for c in codes] == ["v1.0/friend-field", "v1.0/friend-not-granted"]


def test_per_case_token_flags_take_precedence_in_order() -> None:
    p = BulkPolicy.for_version("v1.0")
    allowed, codes = p.decide(
        **_arrays(4),  # type: ignore[arg-type]
        owner_grant_mask=permission_mask(["friends_birthday"]),
        token_active=np.array([True, False, True, False]),
        owner_authorized=np.array([True, True, False, False]),
        data_access_active=np.array([True, True, True, False]),
    )
    assert [p.rule_ids[c] for c in codes] == [
        "v1.0/friend-field",
        "v1.0/token-inactive",
        "v1.0/owner-not-authorized",
        "v1.0/token-inactive",
    ]
    assert allowed.tolist() == [True, False, False, False]


@pytest.mark.parametrize(
    ("status", "rule"), [("suspended", "app-suspended"), ("deleted", "app-deleted")]
)
def test_app_status_denies_every_case(status: str, rule: str) -> None:
    p = BulkPolicy.for_version("v2.0")
    allowed, codes = p.decide(
        **_arrays(5),
        owner_grant_mask=2**20 - 1,  # type: ignore[arg-type]
        app_status=status,
        owner_has_role=True,
    )
    assert not allowed.any()
    assert {p.rule_ids[c] for c in codes} == {f"v2.0/{rule}"}


def test_empty_input() -> None:
    allowed, codes = BulkPolicy.for_version("v3.0").decide(**_arrays(0), owner_grant_mask=0)  # type: ignore[arg-type]
    assert allowed.shape == codes.shape == (0,)


@pytest.mark.parametrize(
    "bad",
    [
        {"field": np.array([N_FIELDS + 1], dtype=np.uint8)},
        {"relation": np.array([4], dtype=np.uint8)},
        {"audience": np.array([7], dtype=np.uint8)},
        {"shares": np.ones(3, dtype=np.bool_)},
    ],
)
def test_bad_input_is_invalid_input(bad: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        BulkPolicy.for_version("v1.0").decide(**_arrays(1, **bad), owner_grant_mask=0)  # type: ignore[arg-type]


def test_bad_mask_shape_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        BulkPolicy.for_version("v1.0").decide(**_arrays(2), owner_grant_mask=np.zeros(3, np.uint32))  # type: ignore[arg-type]


def test_unknown_version_is_policy_error() -> None:
    with pytest.raises(PolicyError):
        BulkPolicy.for_version("v2.5")


@pytest.mark.parametrize("version", ["v1.0", "v2.0", "v3.0"])
def test_exhaustive_agreement_over_subject_facts(version: str) -> None:
    """Every relation × audience × switch × platform × app use × user_friends × field code,
    under a few owner contexts, gives the same answer on both faces."""
    contexts = [
        ctx(version, ["friends_birthday", "friends_likes", "user_friends", "email"]),
        ctx(
            version,
            ["user_birthday", "user_friends", "user_religion_politics"],
            approved=["user_birthday"],
            active=False,
        ),
        ctx(version, ["user_likes", "user_friends", "friends_location"], role=True),
    ]
    cases: list[tuple[SubjectFacts, int]] = []
    for rel, aud, sh, plat, uses, sf in itertools.product(Relation, Audience, *[(True, False)] * 4):
        s = subject(
            rel,
            audience=aud,
            shares=sh,
            platform=plat,
            uses_app=uses,
            granted=["user_friends"] if sf else [],
        )
        cases += [(s, code) for code in range(N_FIELDS + 1)]
    p = BulkPolicy.for_version(version)
    for c in contexts:
        allowed, codes = p.decide(**bulk_arrays(cases), **bulk_context(c))
        for (s, code), ok, rc in zip(cases, allowed, codes, strict=True):
            d = edge_member(c, s) if code == MEMBER_FIELD else decide(c, s, FIELDS[code].name)
            assert (bool(ok), p.rule_ids[rc]) == (d.allowed, d.rule_id)


def test_scalar_and_array_masks_agree() -> None:
    rng = np.random.default_rng(7)
    n = 5000
    arrays = {
        "relation": rng.integers(0, 4, n, dtype=np.uint8),
        "field": rng.integers(0, N_FIELDS + 1, n, dtype=np.uint8),
        "audience": rng.integers(0, 4, n, dtype=np.uint8),
        "shares": rng.random(n) < 0.8,
        "subject_platform": rng.random(n) < 0.95,
        "uses_app": rng.random(n) < 0.5,
        "subject_friends_grant": rng.random(n) < 0.5,
    }
    p = BulkPolicy.for_version("v1.0")
    mask = permission_mask(["friends_birthday", "friends_likes", "user_location"])
    a1, c1 = p.decide(**arrays, owner_grant_mask=mask)
    a2, c2 = p.decide(
        **arrays,
        owner_grant_mask=np.full(n, mask, dtype=np.uint32),
        data_access_active=np.ones(n, dtype=np.bool_),
    )
    assert (c1 == c2).all()
    assert (a1 == a2).all()
