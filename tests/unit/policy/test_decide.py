"""Truth tables of the per-request face: (version, relation, audience, apps-others-use, grant,
uses_app) -> allowed, rule id."""

from __future__ import annotations

import pytest

from graphwarden.core.errors import InvalidInput, PolicyError
from graphwarden.graph.fields import FIELD_NAMES, Audience, Relation
from graphwarden.policy.decide import decide, decide_page, edge_member, edge_members

from .facts import ctx, subject

SELF, FRIEND, FOF, STRANGER = Relation
PUB, FOFA, FRIENDS, ONLY_ME = Audience
REVIEWED_ALL = ("user_birthday", "user_likes", "user_friends", "user_location")

# version, relation, field, audience, apps-others-use, owner granted, uses_app -> allowed, rule
# fmt: off
ROWS = [
    # v1.0: the owner's own fields by grant; public_profile is implicit
    ("v1.0", SELF, "name", FRIENDS, True, "", False, True, "self-field"),
    ("v1.0", SELF, "birthday", FRIENDS, True, "", False, False, "self-not-granted"),
    ("v1.0", SELF, "birthday", ONLY_ME, True, "user_birthday", False, True, "self-field"),
    ("v1.0", SELF, "phone", ONLY_ME, True, "email", False, False, "self-no-permission"),
    ("v1.0", SELF, "friends", FRIENDS, True, "", False, True, "self-field"),
    ("v1.0", SELF, "birthday", FRIENDS, True, "friends_birthday", False, False, "self-not-granted"),
    # v1.0: a friend's fields through friends_* twins
    ("v1.0", FRIEND, "name", ONLY_ME, False, "", False, True, "friend-basic"),
    ("v1.0", FRIEND, "birthday", FRIENDS, True, "friends_birthday", False, True, "friend-field"),
    ("v1.0", FRIEND, "birthday", PUB, True, "friends_birthday", False, True, "friend-field"),
    ("v1.0", FRIEND, "birthday", FOFA, True, "friends_birthday", False, True, "friend-field"),
    ("v1.0", FRIEND, "birthday", ONLY_ME, True, "friends_birthday", False, False,
     "friend-audience"),
    ("v1.0", FRIEND, "birthday", FRIENDS, False, "friends_birthday", False, False,
     "friend-apps-others-use"),
    ("v1.0", FRIEND, "birthday", FRIENDS, True, "user_birthday", False, False,
     "friend-not-granted"),
    ("v1.0", FRIEND, "country", FRIENDS, True, "friends_location", False, True, "friend-field"),
    ("v1.0", FRIEND, "religion", PUB, True, "friends_religion_politics", False, True,
     "friend-field"),
    ("v1.0", FRIEND, "likes", FRIENDS, True, "friends_likes", False, True, "friend-field"),
    ("v1.0", FRIEND, "likes", FRIENDS, False, "friends_likes", False, False,
     "friend-apps-others-use"),
    ("v1.0", FRIEND, "email", PUB, True, "email friends_birthday", False, False, "friend-no-twin"),
    ("v1.0", FRIEND, "phone", PUB, True, "", False, False, "friend-no-twin"),
    ("v1.0", FRIEND, "friends", PUB, True, "", False, False, "friend-no-twin"),
    # v1.0: anyone's public profile by id, nothing else
    ("v1.0", FOF, "gender", PUB, True, "", False, True, "public-basic"),
    ("v1.0", STRANGER, "picture", PUB, True, "", False, True, "public-basic"),
    ("v1.0", FOF, "birthday", PUB, True, "friends_birthday", False, False, "nonfriend-field"),
    ("v1.0", STRANGER, "likes", PUB, True, "friends_likes", True, False, "nonfriend-field"),
    # v2.0: friends_* is gone; of others only basic info, only when they use the app
    ("v2.0", SELF, "birthday", FRIENDS, True, "user_birthday", False, False, "review-required"),
    ("v2.0", SELF, "email", ONLY_ME, True, "email", False, True, "self-field"),
    ("v2.0", SELF, "friends", FRIENDS, True, "user_friends", False, True, "self-field"),
    ("v2.0", SELF, "friends", FRIENDS, True, "", False, False, "self-not-granted"),
    ("v2.0", SELF, "likes", FRIENDS, True, "friends_likes", False, False, "self-not-granted"),
    ("v2.0", FRIEND, "birthday", PUB, True, "friends_birthday", True, False, "other-field"),
    ("v2.0", FRIEND, "birthday", PUB, True, "friends_birthday", False, False,
     "other-not-app-user"),
    ("v2.0", FRIEND, "name", PUB, True, "", False, False, "other-not-app-user"),
    ("v2.0", FRIEND, "name", PUB, True, "", True, True, "app-user-basic"),
    ("v2.0", STRANGER, "id", PUB, True, "", True, True, "app-user-basic"),
    ("v2.0", STRANGER, "id", PUB, True, "", False, False, "other-not-app-user"),
    # v3.0: review for nearly everything; four permissions withdrawn
    ("v3.0", SELF, "email", ONLY_ME, True, "email", False, True, "self-field"),
    ("v3.0", SELF, "friends", FRIENDS, True, "user_friends", False, False, "review-required"),
    ("v3.0", SELF, "religion", FRIENDS, True, "user_religion_politics", False, False,
     "permission-withdrawn"),
    ("v3.0", SELF, "work", FRIENDS, True, "user_work_history", False, False,
     "permission-withdrawn"),
    ("v3.0", SELF, "relationship_status", FRIENDS, True, "", False, False,
     "permission-withdrawn"),
    ("v3.0", FRIEND, "name", PUB, True, "", True, True, "app-user-basic"),
    ("v3.0", FRIEND, "location", PUB, True, "friends_location", True, False, "other-field"),
    ("v3.0", FOF, "name", PUB, True, "", False, False, "other-not-app-user"),
]
# fmt: on


@pytest.mark.parametrize(
    (
        "version",
        "relation",
        "field",
        "audience",
        "shares",
        "granted",
        "uses_app",
        "allowed",
        "rule",
    ),
    ROWS,
)
def test_truth_table(
    version: str,
    relation: Relation,
    field: str,
    audience: Audience,
    shares: bool,
    granted: str,
    uses_app: bool,
    allowed: bool,
    rule: str,
) -> None:
    d = decide(
        ctx(version, granted.split()),
        subject(relation, audience=audience, shares=shares, uses_app=uses_app),
        field,
    )
    assert (d.allowed, d.rule_id) == (allowed, f"{version}/{rule}")
    assert d.reason


# App Review: approval or a role on the app unlocks a granted permission
@pytest.mark.parametrize(
    ("version", "approved", "role", "allowed", "rule_id"),
    [
        ("v2.0", (), False, False, "v2.0/review-required"),
        ("v2.0", ("user_likes",), False, True, "v2.0/self-field"),
        ("v2.0", (), True, True, "v2.0/self-field"),
        ("v3.0", ("user_birthday",), False, False, "v3.0/review-required"),
        ("v3.0", ("user_likes",), False, True, "v3.0/self-field"),
        ("v1.0", (), False, True, "v1.0/self-field"),
    ],
)
def test_review(
    version: str, approved: tuple[str, ...], role: bool, allowed: bool, rule_id: str
) -> None:
    d = decide(ctx(version, ["user_likes"], approved=approved, role=role), subject(SELF), "likes")
    assert (d.allowed, d.rule_id) == (allowed, rule_id)


# The token-level rules come first and deny everything, with distinct ids
@pytest.mark.parametrize("version", ["v1.0", "v2.0", "v3.0"])
@pytest.mark.parametrize(
    ("kwargs", "suffix"),
    [
        ({"app_status": "suspended"}, "app-suspended"),
        ({"app_status": "deleted"}, "app-deleted"),
        ({"app_status": "in-review"}, "app-not-active"),
        ({"token_active": False}, "token-inactive"),
        ({"authorized": False}, "owner-not-authorized"),
    ],
)
def test_gates_deny_everything(version: str, kwargs: dict[str, object], suffix: str) -> None:
    c = ctx(
        version,
        ["user_birthday", "friends_birthday", "user_friends"],
        approved=REVIEWED_ALL,
        role=True,
        **kwargs,
    )  # type: ignore[arg-type]
    for rel in Relation:
        s = subject(rel, audience=PUB, uses_app=True, granted=["user_friends"])
        for f in FIELD_NAMES:
            d = decide(c, s, f)
            assert (d.allowed, d.rule_id) == (False, f"{version}/{suffix}")
        assert edge_member(c, s).rule_id == f"{version}/{suffix}"


@pytest.mark.parametrize("version", ["v1.0", "v2.0", "v3.0"])
def test_subject_with_platform_off_is_seen_only_by_self(version: str) -> None:
    c = ctx(version, ["friends_birthday"])
    for rel in (FRIEND, FOF, STRANGER):
        d = decide(c, subject(rel, platform=False, uses_app=True), "name")
        assert (d.allowed, d.rule_id) == (False, f"{version}/subject-platform-off")
    assert decide(c, subject(SELF, platform=False), "name").allowed


@pytest.mark.parametrize("version", ["v1.0", "v2.0", "v3.0"])
def test_lapse_leaves_only_the_owners_basic_info(version: str) -> None:
    c = ctx(
        version, ["email", "user_friends", "friends_birthday"], approved=REVIEWED_ALL, active=False
    )
    assert decide(c, subject(SELF), "name").rule_id == f"{version}/self-field"
    assert decide(c, subject(SELF), "email").rule_id == f"{version}/access-lapsed"
    friend = subject(FRIEND, uses_app=True, granted=["user_friends"])
    assert decide(c, friend, "name").rule_id == f"{version}/access-lapsed"
    assert edge_member(c, friend).rule_id == f"{version}/access-lapsed"


# version, owner granted, relation, friend uses app, friend granted -> rule id
@pytest.mark.parametrize(
    ("version", "granted", "relation", "uses_app", "friend_granted", "rule_id"),
    [
        ("v1.0", (), FRIEND, False, (), "v1.0/friend-list-member"),
        ("v1.0", (), FOF, False, (), "v1.0/friend-list-not-friend"),
        ("v2.0", ("user_friends",), FRIEND, True, ("user_friends",), "v2.0/friend-list-member"),
        ("v2.0", ("user_friends",), FRIEND, True, (), "v2.0/friend-list-not-app-user"),
        (
            "v2.0",
            ("user_friends",),
            FRIEND,
            False,
            ("user_friends",),
            "v2.0/friend-list-not-app-user",
        ),
        ("v2.0", (), FRIEND, True, ("user_friends",), "v2.0/self-not-granted"),
        ("v3.0", ("user_friends",), FRIEND, True, ("user_friends",), "v3.0/review-required"),
        (
            "v2.0",
            ("user_friends",),
            STRANGER,
            True,
            ("user_friends",),
            "v2.0/friend-list-not-friend",
        ),
    ],
)
def test_friends_edge_membership(
    version: str,
    granted: tuple[str, ...],
    relation: Relation,
    uses_app: bool,
    friend_granted: tuple[str, ...],
    rule_id: str,
) -> None:
    d = edge_member(
        ctx(version, granted), subject(relation, uses_app=uses_app, granted=friend_granted)
    )
    assert d.rule_id == rule_id
    assert d.allowed == rule_id.endswith("/friend-list-member")


def test_reviewed_friends_edge_under_v3() -> None:
    c = ctx("v3.0", ["user_friends"], approved=["user_friends"])
    d = edge_member(c, subject(FRIEND, uses_app=True, granted=["user_friends"]))
    assert (d.allowed, d.rule_id) == (True, "v3.0/friend-list-member")


def test_unknown_field_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="unknown field 'ssn'"):
        decide(ctx(), subject(), "ssn")
    with pytest.raises(InvalidInput):
        decide_page(ctx(), [subject()], ["name", "ssn"])


def test_unknown_version_is_policy_error() -> None:
    with pytest.raises(PolicyError, match=r"unknown API version 'v9\.9'"):
        decide(ctx("v9.9"), subject(), "name")


def test_malformed_subject_is_invalid_input() -> None:
    s = subject()
    bad = type(s)(s.relation, s.audiences[:3], s.apps_others_use)
    with pytest.raises(InvalidInput):
        decide(ctx(), bad, "name")


def test_page_matches_single_decisions() -> None:
    c = ctx("v1.0", ["friends_birthday", "friends_likes", "user_location"])
    subjects = [
        subject(rel, audience=aud, shares=sh)
        for rel in Relation
        for aud in Audience
        for sh in (True, False)
    ]
    page = decide_page(c, subjects, FIELD_NAMES)
    assert page == [[decide(c, s, f) for f in FIELD_NAMES] for s in subjects]
    assert decide_page(ctx(token_active=False), subjects[:2], ["name"])[1][0].rule_id == (
        "v1.0/token-inactive"
    )


def test_a_subject_repeated_in_a_page_gets_its_decisions_once() -> None:
    # a page built from interned facts holds the same object many times: each row must still
    # hold one decision per field, not the decisions appended again at every repetition
    c = ctx("v1.0", ["friends_birthday"])
    friend, other = subject(Relation.FRIEND), subject(Relation.STRANGER)
    fields = ["name", "birthday"]
    page = decide_page(c, [friend, other, friend, friend, other], fields)
    single = {id(s): [decide(c, s, f) for f in fields] for s in (friend, other)}
    assert page == [single[id(s)] for s in (friend, other, friend, friend, other)]
    assert all(len(row) == len(fields) for row in page)
    assert decide_page(c, [friend, friend], []) == [[], []]


def test_edge_members_equal_edge_member_for_each_subject_repeated_or_not() -> None:
    for version in ("v1.0", "v2.0"):
        c = ctx(version, ["user_friends"])
        users = subject(Relation.FRIEND, uses_app=True, granted=["user_friends"])
        page = [users, subject(Relation.FRIEND), users, subject(Relation.STRANGER), users]
        assert edge_members(c, page) == [edge_member(c, s) for s in page]
    assert edge_members(ctx(), []) == []


def test_every_policy_memo_cache_is_cleared_between_modules() -> None:
    from importlib import import_module

    from tests.conftest import clear_memo_caches

    decide_module = import_module("graphwarden.policy.decide")
    rules = import_module("graphwarden.policy.rules")
    bulk = import_module("graphwarden.policy.bulk")
    decide(ctx("v1.0", ["friends_birthday"]), subject(), "birthday")
    bulk._compile("v2.0")
    caches = [decide_module._decision, decide_module._owner_facts, rules.evaluate, bulk._compile]
    assert all(c.cache_info().currsize > 0 for c in caches)
    cleared = clear_memo_caches()
    assert {
        "graphwarden.policy.decide._decision",
        "graphwarden.policy.decide._owner_facts",
        "graphwarden.policy.rules.evaluate",
        "graphwarden.policy.bulk._compile",
    } <= set(cleared)
    assert all(c.cache_info().currsize == 0 for c in caches)
