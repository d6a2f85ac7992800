"""What the consent screen offers a person, and how each permission is explained.

The offer is computed the same way when the screen is shown (GET) and when the decision is
posted (POST), so a person can only grant what they were shown. Permissions are checked
against the app's platform version in :mod:`graphwarden.policy.tables`.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphwarden.consent.interfaces import AppInfo, AuthorizationInfo
from graphwarden.consent.review import grantable_permissions
from graphwarden.consent.roles import can_authorize
from graphwarden.core.types import PersonId
from graphwarden.policy import tables

PUBLIC_PROFILE = "public_profile"

#: what each of a person's own permissions reveals, in plain language
_OWN_TEXT: dict[str, str] = {
    PUBLIC_PROFILE: "Your public profile: name, profile picture, gender and your id.",
    "email": "Your email address.",
    "user_birthday": "Your birthday.",
    "user_hometown": "Your hometown.",
    "user_location": "Your current city and country.",
    "user_relationships": "Your relationship status.",
    "user_religion_politics": "Your religious and political views.",
    "user_education_history": "Your education history.",
    "user_work_history": "Your work history.",
    "user_likes": "The Pages you like.",
    "user_friends": "Your friends who also use this app.",
}

#: what each friends_* permission reveals about each friend (the phrase after "each friend's")
_FRIEND_TEXT: dict[str, str] = {
    "friends_birthday": "birthday",
    "friends_hometown": "hometown",
    "friends_location": "current city and country",
    "friends_relationships": "relationship status",
    "friends_religion_politics": "religious and political views",
    "friends_education_history": "education history",
    "friends_work_history": "work history",
    "friends_likes": "Page likes",
}


@dataclass(frozen=True, slots=True)
class PermissionLine:
    name: str
    text: str
    #: reveals other people's data (a friends_* permission)
    about_friends: bool
    #: the person may uncheck it (never public_profile, never in v1.0)
    declinable: bool
    checked: bool = True


@dataclass(frozen=True, slots=True)
class Offer:
    """The permissions on the screen and what is left off it, with the reasons."""

    app: AppInfo
    lines: tuple[PermissionLine, ...]
    #: needs App Review the app has not passed: not offered
    withheld: frozenset[str]
    #: declined before and not re-asked with auth_type=rerequest: stays declined
    previously_declined: frozenset[str]
    #: v1.0 apps: the whole set is accepted or refused (2014 behaviour)
    all_or_nothing: bool
    #: the person already granted every permission the app asks (none declined, no
    #: rerequest): there is nothing to ask, and the screen is skipped
    already_granted: bool = False

    @property
    def offered(self) -> frozenset[str]:
        return frozenset(line.name for line in self.lines)

    def decide(self, checked: set[str]) -> tuple[frozenset[str], frozenset[str]]:
        """(granted, declined) for the boxes a person left checked."""
        if self.all_or_nothing:
            return self.offered, frozenset()
        granted = {PUBLIC_PROFILE} | {line.name for line in self.lines if line.name in checked}
        granted |= {line.name for line in self.lines if not line.declinable}
        return frozenset(granted), self.offered - granted


class UnrequestablePermissionError(ValueError):
    """The app asked for a permission its version does not know or no longer allows."""


class NotAllowedToAuthorizeError(ValueError):
    """The app admits nobody (suspended) or only its role holders (development mode)."""


def explain(version: str, permission: str) -> PermissionLine:
    """The line for ``permission`` on a ``version`` app's consent screen."""
    v1 = version == "v1.0"
    if permission.startswith("friends_"):
        what = _FRIEND_TEXT.get(permission, permission.removeprefix("friends_").replace("_", " "))
        return PermissionLine(
            name=permission,
            text=f"Your FRIENDS' data: each friend's {what}. "
            "This reveals information about your friends, who are not asked.",
            about_friends=True,
            declinable=not v1,
        )
    text = _OWN_TEXT.get(permission, permission.replace("_", " ") + ".")
    return PermissionLine(
        name=permission,
        text=text,
        about_friends=False,
        declinable=not v1 and permission != PUBLIC_PROFILE,
    )


def build_offer(
    engine: object,
    app: AppInfo,
    person: PersonId,
    requested: list[str],
    previous: AuthorizationInfo | None,
    *,
    rerequest: bool,
) -> Offer:
    """What to show ``person`` for ``app`` asking ``requested``.

    Raises :class:`UnrequestablePermissionError` for a permission the version does not allow and
    :class:`NotAllowedToAuthorizeError` when the app does not admit this person.
    """
    version = app.api_version
    bad = sorted(p for p in requested if not tables.requestable(version, p))
    if bad:
        raise UnrequestablePermissionError(
            f"the {version} platform does not allow requesting: {', '.join(bad)}"
        )
    if not can_authorize(engine, app, int(person)):  # type: ignore[arg-type]
        raise NotAllowedToAuthorizeError("this app is not available to you")
    asked = [PUBLIC_PROFILE, *(p for p in requested if p != PUBLIC_PROFILE)]
    grantable, withheld = grantable_permissions(
        engine,  # type: ignore[arg-type]
        app,
        int(person),
        needs_review=tables.needs_review,
        requested=asked,
    )
    grantable = grantable | {PUBLIC_PROFILE}
    all_or_nothing = version == "v1.0"
    previously_declined: frozenset[str] = frozenset()
    # v2.0+: a declined permission is asked again only with auth_type=rerequest
    if previous is not None and previous.removed_at is None and not (rerequest or all_or_nothing):
        previously_declined = frozenset(grantable & previous.declined)
    lines = tuple(
        explain(version, p) for p in asked if p in grantable and p not in previously_declined
    )
    live = previous is not None and previous.removed_at is None
    standing = (previous.granted - previous.declined) if previous is not None and live else set()
    return Offer(
        app=app,
        lines=lines,
        withheld=frozenset(withheld),
        previously_declined=previously_declined,
        all_or_nothing=all_or_nothing,
        already_granted=live
        and not rerequest
        and not previously_declined
        and all(line.name in standing for line in lines),
    )


__all__ = [
    "NotAllowedToAuthorizeError",
    "Offer",
    "PermissionLine",
    "UnrequestablePermissionError",
    "build_offer",
    "explain",
]
