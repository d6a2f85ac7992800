"""The declared tables: shape, helpers, and fail-closed answers."""

from __future__ import annotations

import pytest

from graphwarden.core.errors import PolicyError
from graphwarden.graph.fields import FIELD_NAMES, Relation
from graphwarden.policy.bulk import PERMISSION_BITS, permission_mask
from graphwarden.policy.tables import (
    POLICIES,
    known_permissions,
    lapse_days,
    needs_review,
    permission_for,
    requestable,
    table,
)

SELF, FRIEND, FOF, STRANGER = Relation


@pytest.mark.parametrize(
    ("version", "field", "relation", "permission"),
    [
        ("v1.0", "name", SELF, "public_profile"),
        ("v1.0", "friends", SELF, "public_profile"),
        ("v2.0", "friends", SELF, "user_friends"),
        ("v1.0", "country", SELF, "user_location"),
        ("v1.0", "country", FRIEND, "friends_location"),
        ("v1.0", "political", FRIEND, "friends_religion_politics"),
        ("v1.0", "likes", FRIEND, "friends_likes"),
        ("v1.0", "email", FRIEND, None),
        ("v1.0", "phone", SELF, None),
        ("v1.0", "friends", FRIEND, None),
        ("v1.0", "birthday", STRANGER, None),
        ("v1.0", "picture", STRANGER, "public_profile"),
        ("v2.0", "birthday", FRIEND, None),
        ("v3.0", "name", FOF, "public_profile"),
    ],
)
def test_permission_for(version: str, field: str, relation: Relation, permission: str) -> None:
    assert permission_for(version, field, relation) == permission


@pytest.mark.parametrize(
    ("version", "perm", "review", "can_request"),
    [
        ("v1.0", "user_likes", False, True),
        ("v1.0", "friends_likes", False, True),
        ("v1.0", "user_friends", True, False),  # no such permission before v2.0
        ("v2.0", "friends_likes", True, False),
        ("v2.0", "email", False, True),
        ("v2.0", "user_friends", False, True),
        ("v2.0", "user_likes", True, True),
        ("v3.0", "user_friends", True, True),
        ("v3.0", "email", False, True),
        ("v3.0", "public_profile", False, True),
        ("v3.0", "user_religion_politics", True, False),
        ("v3.0", "user_relationships", True, False),
        ("v3.0", "user_education_history", True, False),
        ("v3.0", "user_work_history", True, False),
        ("v3.0", "publish_actions", True, False),  # unknown: fail closed
    ],
)
def test_review_and_requestable(version: str, perm: str, review: bool, can_request: bool) -> None:
    assert needs_review(version, perm) is review
    assert requestable(version, perm) is can_request


def test_friends_twins_exist_only_in_v1() -> None:
    assert {p for p in known_permissions("v1.0") if p.startswith("friends_")} == {
        "friends_birthday", "friends_hometown", "friends_location", "friends_relationships",
        "friends_religion_politics", "friends_education_history", "friends_work_history",
        "friends_likes",
    }  # fmt: skip
    for v in ("v2.0", "v3.0"):
        assert not any(p.startswith("friends_") for p in known_permissions(v))


def test_lapse_windows() -> None:
    assert (lapse_days("v1.0"), lapse_days("v2.0"), lapse_days("v3.0")) == (None, None, 90)


@pytest.mark.parametrize(
    "call",
    [
        lambda: table("v4.0"),
        lambda: known_permissions("v0.9"),
        lambda: needs_review("latest", "email"),
        lambda: requestable("", "email"),
        lambda: permission_for("v9", "name", SELF),
    ],
)
def test_unknown_version_is_policy_error(call: object) -> None:
    with pytest.raises(PolicyError, match="unknown API version"):
        call()  # type: ignore[operator]


def test_unknown_field_is_policy_error() -> None:
    with pytest.raises(PolicyError, match="unknown field"):
        permission_for("v1.0", "ssn", SELF)


@pytest.mark.parametrize("version", list(POLICIES))
def test_table_shape(version: str) -> None:
    t = POLICIES[version]
    assert t.version == version
    covered = [f for fields in t.permissions.values() for f in fields]
    assert len(covered) == len(set(covered)), "a field is covered by two permissions"
    assert set(covered) == set(FIELD_NAMES) - {"phone"}
    assert all(rule_id.startswith(f"{version}/") for rule_id in t.rules)
    assert all(r.id == rule_id and r.reason.endswith(".") for rule_id, r in t.rules.items())
    assert t.withdrawn <= set(t.permissions)
    with pytest.raises(PolicyError):
        t.rule("no-such-rule")


def test_permission_bits_fit_uint32() -> None:
    assert set(PERMISSION_BITS) == set().union(*(known_permissions(v) for v in POLICIES))
    assert sorted(PERMISSION_BITS.values()) == list(range(len(PERMISSION_BITS)))
    assert len(PERMISSION_BITS) <= 32
    assert permission_mask(["email", "user_photos"]) == 1 << PERMISSION_BITS["email"]


def test_friends_twins_sit_right_above_their_user_permission() -> None:
    # the bulk face reads a field's own and twin bits with one shift
    for twin, base in POLICIES["v1.0"].friend_twins.items():
        assert PERMISSION_BITS[twin] == PERMISSION_BITS[base] + 1


def test_lapse_window_is_configurable_per_version() -> None:
    assert lapse_days("v1.0", overrides={"v1.0": 30}) == 30
    assert lapse_days("v3.0", overrides={"v3.0": None}) is None
    assert lapse_days("v3.0", overrides={"v2.0": 30}) == 90
    with pytest.raises(PolicyError, match="positive"):
        lapse_days("v2.0", overrides={"v2.0": 0})
    assert lapse_days("v2.0", overrides={"v2.0": 1}) == 1  # the shortest window there is
    with pytest.raises(PolicyError, match="positive"):
        lapse_days("v2.0", overrides={"v2.0": -1})
