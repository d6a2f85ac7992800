"""The contract of the graph store. ``SqlGraphStore`` (SQLAlchemy, SQLite or PostgreSQL) and
``MemoryGraphStore`` (plain dicts, for tests and the simulator) both implement it, and one
conformance suite runs against both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Protocol

from graphwarden.core.types import PageId, PersonId
from graphwarden.graph.fields import (
    AUDIENCE_FIELDS,
    FIELD_BY_NAME,
    AppsOthersUse,
    Audience,
    Relation,
)


@dataclass(frozen=True, slots=True)
class Profile:
    """A person's profile fields (values, not who may see them)."""

    id: PersonId
    name: str
    first_name: str
    last_name: str
    gender: str
    birthday: str | None = None  # ISO YYYY-MM-DD
    email: str | None = None
    phone: str | None = None
    hometown: str | None = None
    location: str | None = None
    country: str | None = None
    relationship_status: str | None = None
    religion: str | None = None
    political: str | None = None
    education: str | None = None
    work: str | None = None
    platform_enabled: bool = True


#: every field of :class:`Profile`, in order: the columns of the ``people`` table it is read from
PROFILE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Profile))
#: the profile's text columns (everything but the id and the platform switch)
PROFILE_TEXT_COLUMNS: tuple[str, ...] = tuple(
    name for name in PROFILE_FIELDS if name not in ("id", "platform_enabled")
)


def default_audiences() -> dict[str, Audience]:
    return {name: FIELD_BY_NAME[name].default_audience for name in AUDIENCE_FIELDS}


def default_sharing() -> dict[AppsOthersUse, bool]:
    return dict.fromkeys(AppsOthersUse, True)


@dataclass(frozen=True, slots=True)
class PrivacySettings:
    """Who may see each field, and what friends may bring into apps."""

    audiences: dict[str, Audience] = field(default_factory=default_audiences)
    apps_others_use: dict[AppsOthersUse, bool] = field(default_factory=default_sharing)

    def audience(self, field_name: str) -> Audience:
        if field_name == "id":
            return Audience.PUBLIC
        return self.audiences[field_name]


#: a person's privacy settings as plain ints, for the Graph API's hot path: the audience
#: (``int(Audience)``) of each of ``AUDIENCE_FIELDS`` in order, then each "apps others use"
#: switch in ``AppsOthersUse`` order (0/1; a driver may hand back ``bool``, equal to 0/1)
PrivacyVector = tuple[int, ...]


def privacy_vector(settings: PrivacySettings) -> PrivacyVector:
    """The :data:`PrivacyVector` of ``settings`` (missing entries take their defaults).

    >>> privacy_vector(PrivacySettings())[-len(AppsOthersUse):]
    (1, 1, 1, 1, 1, 1, 1, 1)
    """
    return (
        *(
            int(settings.audiences.get(name, FIELD_BY_NAME[name].default_audience))
            for name in AUDIENCE_FIELDS
        ),
        *(int(bool(settings.apps_others_use.get(c, True))) for c in AppsOthersUse),
    )


@dataclass(frozen=True, slots=True)
class PageInfo:
    id: PageId
    name: str
    category: str


class GraphStore(Protocol):
    # --- reads -------------------------------------------------------------------------
    def get_profile(self, person: PersonId) -> Profile | None: ...

    def get_profiles(self, people: Sequence[PersonId]) -> dict[PersonId, Profile]: ...

    def get_privacy(self, people: Sequence[PersonId]) -> dict[PersonId, PrivacySettings]: ...

    def privacy_vectors(self, people: Sequence[PersonId]) -> dict[PersonId, PrivacyVector]:
        """The :data:`PrivacyVector` of each of ``people`` that exists (one query in SQL)."""
        ...

    def profiles_with_privacy(
        self, people: Sequence[PersonId]
    ) -> dict[PersonId, tuple[Profile, PrivacyVector]]:
        """Profile and :data:`PrivacyVector` of each of ``people`` that exists, together
        (one query in SQL): what the Graph API reads for a page when the policy is on."""
        ...

    def friend_ids(
        self, person: PersonId, *, after: PersonId | None = None, limit: int | None = None
    ) -> list[PersonId]:
        """Friends of ``person`` in ascending id order, strictly after ``after``."""
        ...

    def friend_count(self, person: PersonId) -> int: ...

    def are_friends(self, a: PersonId, b: PersonId) -> bool: ...

    def mutual_friend_exists(self, a: PersonId, b: PersonId) -> bool: ...

    def relations(self, owner: PersonId, subjects: Sequence[PersonId]) -> dict[PersonId, Relation]:
        """How each subject stands to ``owner`` (SELF, FRIEND, FRIEND_OF_FRIEND, STRANGER);
        unknown people are strangers. At most two queries in the SQL store."""
        ...

    def liked_pages(
        self, person: PersonId, *, after: PageId | None = None, limit: int | None = None
    ) -> list[PageInfo]: ...

    def likes_of(self, people: Sequence[PersonId]) -> dict[PersonId, list[PageInfo]]:
        """Liked pages of each person in ``people`` (page id order); every asked person has an
        entry, empty when they like nothing or do not exist."""
        ...

    def list_people(
        self, *, after: PersonId | None = None, limit: int = 100
    ) -> list[tuple[PersonId, str, int]]:
        """(id, name, friend_count) in id order."""
        ...

    def person_count(self) -> int: ...

    # --- writes ------------------------------------------------------------------------
    def add_person(self, profile: Profile, privacy: PrivacySettings | None = None) -> None: ...

    def add_people(self, people: Iterable[tuple[Profile, PrivacySettings | None]]) -> int:
        """Bulk load: all or none; returns how many were added."""
        ...

    def add_friendship(self, a: PersonId, b: PersonId) -> None:
        """Raises ``IntegrityViolation`` for a self-friendship or a duplicate."""
        ...

    def add_friendships(self, pairs: Iterable[tuple[PersonId, PersonId]]) -> int:
        """Bulk load: all or none (same rules as ``add_friendship``); returns how many."""
        ...

    def add_page(self, page: PageInfo) -> None: ...

    def add_like(self, person: PersonId, page: PageId) -> None: ...

    def add_likes(self, likes: Iterable[tuple[PersonId, PageId]]) -> int:
        """Bulk load: all or none; returns how many."""
        ...

    def set_audience(self, person: PersonId, field_name: str, audience: Audience) -> None: ...

    def set_apps_others_use(self, person: PersonId, category: AppsOthersUse, on: bool) -> None: ...

    def set_platform_enabled(self, person: PersonId, on: bool) -> None: ...


def iter_chunks(items: Iterable[PersonId], size: int) -> Iterable[list[PersonId]]:
    chunk: list[PersonId] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


__all__ = [
    "PROFILE_FIELDS",
    "PROFILE_TEXT_COLUMNS",
    "GraphStore",
    "PageInfo",
    "PrivacySettings",
    "PrivacyVector",
    "Profile",
    "default_audiences",
    "default_sharing",
    "iter_chunks",
    "privacy_vector",
]
