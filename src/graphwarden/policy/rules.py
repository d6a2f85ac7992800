"""The rule interpreter: reads a :class:`~graphwarden.policy.tables.PolicyTable` and answers
one decision from plain, finite facts.

Both faces call it: :mod:`graphwarden.policy.decide` once per distinct case (cached), and
:mod:`graphwarden.policy.bulk` over the whole finite domain to compile its lookup table. So
the two faces cannot drift apart: there is one interpreter and one set of tables.
"""

from __future__ import annotations

from functools import lru_cache

from graphwarden.graph.fields import FIELDS, N_FIELDS, Audience, Relation
from graphwarden.policy.tables import (
    PUBLIC_PROFILE,
    FriendList,
    OthersBasic,
    PolicyTable,
    Rule,
    friend_twin,
    needs_review,
    own_permission,
    table,
)

#: pseudo-field index: "the subject is listed in the owner's ``friends`` edge"
MEMBER: int = N_FIELDS
_FRIENDS_EDGE = "friends"


def gate(
    version: str,
    app_status: str,
    token_active: bool,
    owner_authorized: bool,
    in_development: bool = False,
    owner_has_role: bool = False,
) -> Rule | None:
    """The rules that come before any subject or field: app, token, owner (and, for an app
    in development mode, the owner's role on it). None: pass."""
    t = table(version)
    if app_status != "active":
        if app_status == "suspended":
            return t.rule("app-suspended")
        if app_status == "deleted":
            return t.rule("app-deleted")
        return t.rule("app-not-active")
    if not token_active:
        return t.rule("token-inactive")
    if not owner_authorized:
        return t.rule("owner-not-authorized")
    return development(version, in_development, owner_has_role)


def development(version: str, in_development: bool, has_role: bool) -> Rule | None:
    """The development-mode rule, one rule for every path: an app in development mode reads
    nobody without a role on it — not through a token of theirs (the owner, in :func:`gate`)
    and not through a role holder's token (each subject other than the owner, friends of
    role holders included). None: the rule does not stand in the way."""
    if in_development and not has_role:
        return table(version).rule("app-in-development")
    return None


def field_permissions(version: str, field_index: int) -> tuple[str | None, str | None]:
    """(own permission, friends_* twin) of a field index (``MEMBER``: the friends edge)."""
    name = _FRIENDS_EDGE if field_index == MEMBER else FIELDS[field_index].name
    return own_permission(version, name), friend_twin(version, name)


def reviewed(version: str, perm: str | None, approved: frozenset[str], has_role: bool) -> bool:
    """Whether ``perm`` may be used by this app for this owner as far as App Review goes."""
    if perm is None or not needs_review(version, perm):
        return True
    return has_role or perm in approved


@lru_cache(maxsize=65536)
def evaluate(
    version: str,
    field_index: int,
    relation: Relation,
    audience: Audience,
    shares: bool,
    subject_platform: bool,
    uses_app: bool,
    subject_friends: bool,
    own_granted: bool,
    own_reviewed: bool,
    twin_granted: bool,
    twin_reviewed: bool,
    data_access_active: bool,
) -> Rule:
    """The rule that decides one field of one subject, after :func:`gate` passed.

    ``shares``: the subject's "apps others use" switch for the field's category (True where
    the field has none). ``own_granted``/``twin_granted``: the owner granted the permission
    covering the field / its ``friends_*`` twin; ``*_reviewed``: App Review does not stand in
    the way (see :func:`reviewed`). ``field_index == MEMBER`` asks whether the subject is
    listed in the owner's friends edge.
    """
    t = table(version)
    relation = Relation(relation)
    is_self = relation is Relation.SELF
    member = field_index == MEMBER
    spec = None if member else FIELDS[field_index]
    basic = spec is not None and spec.basic

    if not subject_platform and not is_self:
        return t.rule("subject-platform-off")
    if not data_access_active and not (is_self and basic):
        return t.rule("access-lapsed")

    own, twin = field_permissions(version, field_index)
    if is_self or member:
        owner_rule = _own(t, own, own_granted, own_reviewed)
        if not member or not owner_rule.allowed:
            return owner_rule
        return _member(t, relation, uses_app, subject_friends)

    if t.others_basic is OthersBasic.APP_USERS:
        if not uses_app:
            return t.rule("other-not-app-user")
        return t.rule("app-user-basic") if basic else t.rule("other-field")

    # v1.0: basic info of anyone; a friend's other fields through friends_* twins
    if basic:
        return t.rule("friend-basic") if relation is Relation.FRIEND else t.rule("public-basic")
    if relation is not Relation.FRIEND:
        return t.rule("nonfriend-field")
    if twin is None:
        return t.rule("friend-no-twin")
    if not twin_granted:
        return t.rule("friend-not-granted")
    if not twin_reviewed:
        return t.rule("review-required")
    if Audience(audience) not in t.friend_audiences:
        return t.rule("friend-audience")
    if not shares:
        return t.rule("friend-apps-others-use")
    return t.rule("friend-field")


def _own(t: PolicyTable, perm: str | None, granted: bool, ok_review: bool) -> Rule:
    """The owner's own field (or friends edge) covered by ``perm``."""
    if perm is None:
        return t.rule("self-no-permission")
    if perm in t.withdrawn:
        return t.rule("permission-withdrawn")
    if perm != PUBLIC_PROFILE and not granted:
        return t.rule("self-not-granted")
    if not ok_review:
        return t.rule("review-required")
    return t.rule("self-field")


def _member(t: PolicyTable, relation: Relation, uses_app: bool, subject_friends: bool) -> Rule:
    if relation is not Relation.FRIEND:
        return t.rule("friend-list-not-friend")
    if t.friend_list is FriendList.APP_USERS_WITH_USER_FRIENDS and not (
        uses_app and subject_friends
    ):
        return t.rule("friend-list-not-app-user")
    return t.rule("friend-list-member")


__all__ = ["MEMBER", "development", "evaluate", "field_permissions", "gate", "reviewed"]
