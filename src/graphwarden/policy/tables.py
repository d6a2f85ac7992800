"""The declared rule tables of the three platform versions: policy as data.

Each :class:`PolicyTable` says, for one Graph API version, which permission covers which of
the token owner's own fields, which permissions have a ``friends_*`` twin that reaches a
friend's field (v1.0 only), which permissions need App Review, which can no longer be
requested, how long access lasts without use, which audiences a friend's token may see, and
whose friend list and basic info an app may read. The interpreter in
:mod:`graphwarden.policy.rules` reads these tables; nothing else in graphwarden decides.

Every rule has a stable id (``"v1.0/friend-field"``) and a reason a person can read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Final

from graphwarden.core.errors import PolicyError
from graphwarden.core.types import API_VERSIONS, ApiVersion
from graphwarden.graph.fields import FIELD_BY_NAME, Audience, Relation

#: the permission every login carries; it is never declined and never reviewed
PUBLIC_PROFILE: Final = "public_profile"
BASIC_FIELDS: Final = ("id", "name", "first_name", "last_name", "gender", "picture")


class Effect(Enum):
    ALLOW = "allow"
    DENY = "deny"


class FriendList(Enum):
    """Who the owner's ``friends`` edge lists."""

    #: v1.0: every friend (the list came with basic info)
    ALL_FRIENDS = "all_friends"
    #: v2.0+: only friends who use the app and granted ``user_friends`` themselves
    APP_USERS_WITH_USER_FRIENDS = "app_users_with_user_friends"


class OthersBasic(Enum):
    """Whose basic info (public profile) an app may read besides the owner's."""

    #: v1.0: anyone's, by id
    ANYONE = "anyone"
    #: v2.0+: only people who use the app themselves
    APP_USERS = "app_users"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    effect: Effect
    reason: str

    @property
    def allowed(self) -> bool:
        return self.effect is Effect.ALLOW


@dataclass(frozen=True)
class PolicyTable:
    """One platform version's policy. Read it top to bottom; it is the whole policy."""

    version: ApiVersion
    #: permission -> the owner's own fields it covers (``public_profile`` is implicit)
    permissions: Mapping[str, tuple[str, ...]]
    #: ``friends_X`` -> ``user_X``: the twin reaches a friend's fields of ``user_X`` (v1.0)
    friend_twins: Mapping[str, str]
    #: audiences of a friend's field that a friend's token may see (with a twin granted)
    friend_audiences: frozenset[Audience]
    friend_list: FriendList
    others_basic: OthersBasic
    #: permissions usable without App Review; ``None``: this version has no App Review
    review_free: frozenset[str] | None
    #: permissions that can no longer be requested; a grant of one discloses nothing
    withdrawn: frozenset[str]
    #: days without use after which the app's data access lapses; ``None``: never
    lapse_days: int | None
    #: every rule this version can answer with, by id
    rules: Mapping[str, Rule] = field(default_factory=dict)

    def rule(self, suffix: str) -> Rule:
        """The rule ``"<version>/<suffix>"``; a missing one is a malformed table."""
        try:
            return self.rules[f"{self.version}/{suffix}"]
        except KeyError:
            raise PolicyError(f"{self.version} has no rule {suffix!r}") from None


# --- the fields each permission covers ----------------------------------------------------
_OWN_FIELDS: dict[str, tuple[str, ...]] = {
    PUBLIC_PROFILE: BASIC_FIELDS,
    "email": ("email",),
    "user_birthday": ("birthday",),
    "user_hometown": ("hometown",),
    "user_location": ("location", "country"),
    "user_relationships": ("relationship_status",),
    "user_religion_politics": ("religion", "political"),
    "user_education_history": ("education",),
    "user_work_history": ("work",),
    "user_likes": ("likes",),
}
# v1.0: the friend list came with basic info; v2.0 made it a permission of its own
_V1_OWN = {**_OWN_FIELDS, PUBLIC_PROFILE: (*BASIC_FIELDS, "friends")}
_V2_OWN = {**_OWN_FIELDS, "user_friends": ("friends",)}
_V1_TWINS = {"friends_" + p.removeprefix("user_"): p for p in _OWN_FIELDS if p.startswith("user_")}
_FRIEND_AUDIENCES = frozenset({Audience.PUBLIC, Audience.FRIENDS_OF_FRIENDS, Audience.FRIENDS})

# --- reasons, shared wording; each version declares which rules it has ---------------------
_COMMON: dict[str, tuple[Effect, str]] = {
    "app-suspended": (Effect.DENY, "The app is suspended; it receives nothing."),
    "app-deleted": (Effect.DENY, "The app is deleted; it receives nothing."),
    "app-not-active": (Effect.DENY, "The app's status is not active; it receives nothing."),
    "token-inactive": (Effect.DENY, "The access token is revoked, expired or unknown."),
    "app-in-development": (
        Effect.DENY,
        "The app is in development mode: it sees only people who hold a role on it "
        "(admin, developer, tester), and only through their own tokens.",
    ),
    "owner-not-authorized": (
        Effect.DENY,
        "The token's owner removed the app or turned the platform off.",
    ),
    "subject-platform-off": (
        Effect.DENY,
        "The person turned the platform off; apps see nothing of them through others.",
    ),
    "access-lapsed": (
        Effect.DENY,
        "The owner has not used the app within the lapse window; only their basic info remains.",
    ),
    "self-field": (Effect.ALLOW, "The owner granted the permission that covers this field."),
    "self-no-permission": (Effect.DENY, "No permission covers this field; it is never disclosed."),
    "self-not-granted": (
        Effect.DENY,
        "The owner did not grant the permission that covers this field.",
    ),
    "review-required": (
        Effect.DENY,
        "The permission needs App Review, the app was not approved for it, "
        "and the owner holds no role on the app.",
    ),
    "friend-list-member": (Effect.ALLOW, "This friend is listed in the owner's friends edge."),
    "friend-list-not-friend": (Effect.DENY, "Only friends appear in the friends edge."),
}
_V1_RULES: dict[str, tuple[Effect, str]] = {
    "friend-basic": (Effect.ALLOW, "A friend's basic info came with basic info in v1.0."),
    "public-basic": (Effect.ALLOW, "Anyone's public profile could be read by id in v1.0."),
    "friend-no-twin": (
        Effect.DENY,
        "No friends_* permission reaches this field of a friend (no friends_email).",
    ),
    "friend-not-granted": (
        Effect.DENY,
        "The owner did not grant the friends_* permission for this field.",
    ),
    "friend-audience": (
        Effect.DENY,
        "The friend's audience for this field does not include the owner.",
    ),
    "friend-apps-others-use": (
        Effect.DENY,
        "The friend turned off bringing this information into apps others use.",
    ),
    "friend-field": (
        Effect.ALLOW,
        "The owner granted friends_* for this field, the friend's audience includes friends, "
        "and the friend lets friends bring it into apps.",
    ),
    "nonfriend-field": (Effect.DENY, "Of a person who is not a friend only basic info is public."),
}
_V2_RULES: dict[str, tuple[Effect, str]] = {
    "other-not-app-user": (
        Effect.DENY,
        "The person does not use the app; an app sees nothing of them.",
    ),
    "app-user-basic": (Effect.ALLOW, "Basic info of a person who uses the app themselves."),
    "other-field": (Effect.DENY, "Of another person an app sees only basic info."),
    "friend-list-not-app-user": (
        Effect.DENY,
        "The friends edge lists only friends who use the app and granted user_friends.",
    ),
}
_V3_RULES: dict[str, tuple[Effect, str]] = {
    **_V2_RULES,
    "permission-withdrawn": (
        Effect.DENY,
        "Apps can no longer request this permission (2018); a past grant discloses nothing.",
    ),
}


def _rules(version: str, *parts: dict[str, tuple[Effect, str]]) -> Mapping[str, Rule]:
    merged = {k: v for part in parts for k, v in part.items()}
    return MappingProxyType(
        {f"{version}/{k}": Rule(f"{version}/{k}", e, r) for k, (e, r) in merged.items()}
    )


V1_0 = PolicyTable(
    version="v1.0",
    permissions=MappingProxyType(_V1_OWN),
    friend_twins=MappingProxyType(_V1_TWINS),
    friend_audiences=_FRIEND_AUDIENCES,
    friend_list=FriendList.ALL_FRIENDS,
    others_basic=OthersBasic.ANYONE,
    review_free=None,
    withdrawn=frozenset(),
    lapse_days=None,
    rules=_rules("v1.0", _COMMON, _V1_RULES),
)
V2_0 = PolicyTable(
    version="v2.0",
    permissions=MappingProxyType(_V2_OWN),
    friend_twins=MappingProxyType({}),
    friend_audiences=frozenset(),
    friend_list=FriendList.APP_USERS_WITH_USER_FRIENDS,
    others_basic=OthersBasic.APP_USERS,
    review_free=frozenset({PUBLIC_PROFILE, "email", "user_friends"}),
    withdrawn=frozenset(),
    lapse_days=None,
    rules=_rules("v2.0", _COMMON, _V2_RULES),
)
V3_0 = PolicyTable(
    version="v3.0",
    permissions=MappingProxyType(_V2_OWN),
    friend_twins=MappingProxyType({}),
    friend_audiences=frozenset(),
    friend_list=FriendList.APP_USERS_WITH_USER_FRIENDS,
    others_basic=OthersBasic.APP_USERS,
    # "without review, Login gives only name, profile photo, email"
    review_free=frozenset({PUBLIC_PROFILE, "email"}),
    withdrawn=frozenset(
        {
            "user_religion_politics",
            "user_relationships",
            "user_education_history",
            "user_work_history",
        }
    ),
    lapse_days=90,
    rules=_rules("v3.0", _COMMON, _V3_RULES),
)

POLICIES: Mapping[ApiVersion, PolicyTable] = MappingProxyType(
    {"v1.0": V1_0, "v2.0": V2_0, "v3.0": V3_0}
)


def table(version: str) -> PolicyTable:
    """The table of ``version``; an unknown version raises :class:`PolicyError`."""
    try:
        return POLICIES[version]  # type: ignore[index]
    except KeyError:
        raise PolicyError(
            f"unknown API version {version!r}; known: {', '.join(API_VERSIONS)}"
        ) from None


def known_permissions(version: str) -> frozenset[str]:
    """Every permission name ``version`` knows (including ``friends_*`` twins in v1.0)."""
    t = table(version)
    return frozenset(t.permissions) | frozenset(t.friend_twins)


def requestable(version: str, perm: str) -> bool:
    """Whether an app may ask for ``perm`` under ``version`` (unknown names: ``False``).

    >>> requestable("v3.0", "user_religion_politics"), requestable("v2.0", "friends_likes")
    (False, False)
    """
    t = table(version)
    return perm in known_permissions(version) and perm not in t.withdrawn


def needs_review(version: str, perm: str) -> bool:
    """Whether ``perm`` needs App Review under ``version``.

    Unknown permissions answer ``True``: what nobody reviewed is not usable (fail closed).
    """
    t = table(version)
    if t.review_free is None:
        return perm not in known_permissions(version)
    return perm not in t.review_free


def lapse_days(version: str, *, overrides: Mapping[str, int | None] | None = None) -> int | None:
    """Days without use after which data access lapses under ``version`` (None: never).

    The decision honours ``AccessContext.data_access_active`` in every version, so a
    deployment may give v1.0/v2.0 a window too: pass ``overrides={"v2.0": 180}``.

    >>> lapse_days("v3.0"), lapse_days("v2.0"), lapse_days("v2.0", overrides={"v2.0": 180})
    (90, None, 180)
    """
    t = table(version)
    if overrides is not None and version in overrides:
        days = overrides[version]
        if days is not None and days <= 0:
            raise PolicyError(f"a lapse window must be a positive number of days, not {days}")
        return days
    return t.lapse_days


def own_permission(version: str, field_name: str) -> str | None:
    """The permission that covers the owner's own ``field_name`` (None: nothing covers it)."""
    t = table(version)
    for perm, fields in t.permissions.items():
        if field_name in fields:
            return perm
    return None


def friend_twin(version: str, field_name: str) -> str | None:
    """The ``friends_*`` permission that reaches a friend's ``field_name`` (v1.0), or None."""
    own = own_permission(version, field_name)
    for twin, base in table(version).friend_twins.items():
        if base == own:
            return twin
    return None


def permission_for(version: str, field_name: str, relation: Relation) -> str | None:
    """The permission the owner needs for ``field_name`` of a subject in ``relation``.

    ``None`` means no permission reaches it (e.g. phone, or a friend's email). Basic info of
    others is ``public_profile``; under v2.0+ it also needs the subject to use the app.

    >>> permission_for("v1.0", "birthday", Relation.FRIEND)
    'friends_birthday'
    """
    if field_name not in FIELD_BY_NAME:
        raise PolicyError(f"unknown field {field_name!r}")
    if relation is Relation.SELF:
        return own_permission(version, field_name)
    if FIELD_BY_NAME[field_name].basic:
        table(version)
        return PUBLIC_PROFILE
    if relation is Relation.FRIEND:
        return friend_twin(version, field_name)
    return None


__all__ = [
    "BASIC_FIELDS",
    "POLICIES",
    "PUBLIC_PROFILE",
    "Effect",
    "FriendList",
    "OthersBasic",
    "PolicyTable",
    "Rule",
    "friend_twin",
    "known_permissions",
    "lapse_days",
    "needs_review",
    "own_permission",
    "permission_for",
    "requestable",
    "table",
]
