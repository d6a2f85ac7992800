"""The profile-field catalogue: every field a person has, its default audience, the category
of the legacy "apps others use" setting that governs it, and whether it is an edge.

The mapping from fields to *permissions* is platform policy and lives in
``graphwarden.policy.tables``; this module only says what a person's data is made of.
Order matters: a field's position is its index in the bulk arrays (audience matrix columns).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Audience(IntEnum):
    """Who may see a field, widest first. Stored as a small integer."""

    PUBLIC = 0
    FRIENDS_OF_FRIENDS = 1
    FRIENDS = 2
    ONLY_ME = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Audience:
        return cls[value.strip().upper()]


class Relation(IntEnum):
    """How the subject of a field stands to the person whose token asks."""

    SELF = 0
    FRIEND = 1
    FRIEND_OF_FRIEND = 2
    STRANGER = 3

    @property
    def label(self) -> str:
        return self.name.lower()


def audience_admits(audience: Audience, relation: Relation) -> bool:
    """Whether a viewer in ``relation`` to the subject is inside ``audience``.

    >>> audience_admits(Audience.FRIENDS, Relation.FRIEND_OF_FRIEND)
    False
    """
    if relation is Relation.SELF:
        return True
    if audience is Audience.PUBLIC:
        return True
    if audience is Audience.FRIENDS_OF_FRIENDS:
        return relation in (Relation.FRIEND, Relation.FRIEND_OF_FRIEND)
    if audience is Audience.FRIENDS:
        return relation is Relation.FRIEND
    return False


class AppsOthersUse(IntEnum):
    """Categories of the legacy "Apps others use" setting (2014: on by default).

    Each says whether a person's *friends* may bring that kind of information into apps.
    Basic info (name, gender, picture) was always shared and has no switch.
    """

    BIRTHDAY = 0
    HOMETOWN = 1
    LOCATION = 2
    RELATIONSHIPS = 3
    RELIGION_POLITICS = 4
    EDUCATION = 5
    WORK = 6
    LIKES = 7

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    index: int
    default_audience: Audience
    #: the "apps others use" category, or None where the field has no switch (basic info)
    category: AppsOthersUse | None
    #: edges (likes, friends) are lists, not scalar values
    edge: bool = False
    #: basic-info fields are always visible to anyone who can see the person at all
    basic: bool = False


_F = FieldSpec
FIELDS: tuple[FieldSpec, ...] = (
    _F("id", 0, Audience.PUBLIC, None, basic=True),
    _F("name", 1, Audience.PUBLIC, None, basic=True),
    _F("first_name", 2, Audience.PUBLIC, None, basic=True),
    _F("last_name", 3, Audience.PUBLIC, None, basic=True),
    _F("gender", 4, Audience.PUBLIC, None, basic=True),
    _F("picture", 5, Audience.PUBLIC, None, basic=True),
    _F("email", 6, Audience.ONLY_ME, None),
    _F("phone", 7, Audience.ONLY_ME, None),
    _F("birthday", 8, Audience.FRIENDS, AppsOthersUse.BIRTHDAY),
    _F("hometown", 9, Audience.FRIENDS, AppsOthersUse.HOMETOWN),
    _F("location", 10, Audience.FRIENDS, AppsOthersUse.LOCATION),
    _F("country", 11, Audience.FRIENDS, AppsOthersUse.LOCATION),
    _F("relationship_status", 12, Audience.FRIENDS, AppsOthersUse.RELATIONSHIPS),
    _F("religion", 13, Audience.FRIENDS, AppsOthersUse.RELIGION_POLITICS),
    _F("political", 14, Audience.FRIENDS, AppsOthersUse.RELIGION_POLITICS),
    _F("education", 15, Audience.FRIENDS, AppsOthersUse.EDUCATION),
    _F("work", 16, Audience.FRIENDS, AppsOthersUse.WORK),
    _F("likes", 17, Audience.FRIENDS, AppsOthersUse.LIKES, edge=True),
    _F("friends", 18, Audience.FRIENDS, None, edge=True),
)
FIELD_BY_NAME: dict[str, FieldSpec] = {f.name: f for f in FIELDS}
FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)
#: fields whose audience a person can set (id is always public)
AUDIENCE_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.name != "id")
SCALAR_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if not f.edge)
N_FIELDS = len(FIELDS)
N_CATEGORIES = len(AppsOthersUse)


def field(name: str) -> FieldSpec:
    """The spec of ``name``; raises ``KeyError`` for an unknown field."""
    return FIELD_BY_NAME[name]


__all__ = [
    "AUDIENCE_FIELDS",
    "FIELDS",
    "FIELD_BY_NAME",
    "FIELD_NAMES",
    "N_CATEGORIES",
    "N_FIELDS",
    "SCALAR_FIELDS",
    "AppsOthersUse",
    "Audience",
    "FieldSpec",
    "Relation",
    "audience_admits",
    "field",
]
