"""An in-memory graph store: plain dicts behind the same contract as the SQL store.

For tests and the simulator. The conformance suite in ``tests/unit/graph/test_store.py`` runs
against both, so anything true of one is true of the other.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Sequence
from dataclasses import replace

from graphwarden.core.errors import IntegrityViolation, InvalidInput, NotFound
from graphwarden.core.types import PageId, PersonId
from graphwarden.graph.fields import AUDIENCE_FIELDS, AppsOthersUse, Audience, Relation
from graphwarden.graph.interfaces import (
    PageInfo,
    PrivacySettings,
    PrivacyVector,
    Profile,
    default_audiences,
    default_sharing,
    privacy_vector,
)


def _check_limit(limit: int | None) -> None:
    if limit is not None and limit < 0:
        raise InvalidInput(f"limit must not be negative, got {limit}")


def _page(items: list[int], after: int | None, limit: int | None) -> list[int]:
    start = 0 if after is None else bisect.bisect_right(items, after)
    end = len(items) if limit is None else min(len(items), start + limit)
    return items[start:end]


class MemoryGraphStore:
    """:class:`~graphwarden.graph.interfaces.GraphStore` in process memory (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._profiles: dict[int, Profile] = {}
        self._audiences: dict[int, dict[str, Audience]] = {}
        self._sharing: dict[int, dict[AppsOthersUse, bool]] = {}
        #: sorted friend ids per person
        self._friends: dict[int, list[int]] = {}
        self._pages: dict[int, PageInfo] = {}
        #: sorted liked page ids per person
        self._likes: dict[int, list[int]] = {}

    # --- reads ---------------------------------------------------------------------------

    def get_profile(self, person: PersonId) -> Profile | None:
        """The profile of ``person``, or None when there is no such person."""
        return self._profiles.get(int(person))

    def get_profiles(self, people: Sequence[PersonId]) -> dict[PersonId, Profile]:
        """Profiles of ``people`` that exist."""
        with self._lock:
            return {
                PersonId(int(p)): self._profiles[int(p)] for p in people if int(p) in self._profiles
            }

    def get_privacy(self, people: Sequence[PersonId]) -> dict[PersonId, PrivacySettings]:
        """Audiences and "apps others use" switches of ``people`` that exist."""
        with self._lock:
            return {
                PersonId(int(p)): PrivacySettings(
                    dict(self._audiences[int(p)]), dict(self._sharing[int(p)])
                )
                for p in people
                if int(p) in self._profiles
            }

    def _vector(self, pid: int) -> PrivacyVector:
        return privacy_vector(PrivacySettings(self._audiences[pid], self._sharing[pid]))

    def privacy_vectors(self, people: Sequence[PersonId]) -> dict[PersonId, PrivacyVector]:
        """The privacy vector of each of ``people`` that exists."""
        with self._lock:
            return {
                PersonId(int(p)): self._vector(int(p)) for p in people if int(p) in self._profiles
            }

    def profiles_with_privacy(
        self, people: Sequence[PersonId]
    ) -> dict[PersonId, tuple[Profile, PrivacyVector]]:
        """Profile and privacy vector of each of ``people`` that exists."""
        with self._lock:
            return {
                PersonId(int(p)): (self._profiles[int(p)], self._vector(int(p)))
                for p in people
                if int(p) in self._profiles
            }

    def friend_ids(
        self, person: PersonId, *, after: PersonId | None = None, limit: int | None = None
    ) -> list[PersonId]:
        """Friends of ``person`` in ascending id order, strictly after ``after``."""
        _check_limit(limit)
        with self._lock:
            items = self._friends.get(int(person), [])
            return [PersonId(i) for i in _page(items, None if after is None else int(after), limit)]

    def friend_count(self, person: PersonId) -> int:
        """How many friends ``person`` has."""
        return len(self._friends.get(int(person), []))

    def _is_friend(self, a: int, b: int) -> bool:
        items = self._friends.get(a, [])
        i = bisect.bisect_left(items, b)
        return i < len(items) and items[i] == b

    def are_friends(self, a: PersonId, b: PersonId) -> bool:
        """Whether ``a`` and ``b`` are friends."""
        with self._lock:
            return self._is_friend(int(a), int(b))

    def mutual_friend_exists(self, a: PersonId, b: PersonId) -> bool:
        """Whether some friend of ``a`` is a friend of ``b`` (``a`` ≠ ``b``)."""
        if int(a) == int(b):
            return False
        with self._lock:
            fa = self._friends.get(int(a), [])
            fb = set(self._friends.get(int(b), []))
            return any(x in fb for x in fa)

    def relations(self, owner: PersonId, subjects: Sequence[PersonId]) -> dict[PersonId, Relation]:
        """How each of ``subjects`` stands to ``owner``; unknown people are strangers."""
        with self._lock:
            mine = set(self._friends.get(int(owner), []))
            out: dict[PersonId, Relation] = {}
            for s in subjects:
                i = int(s)
                if i == int(owner):
                    rel = Relation.SELF
                elif i in mine:
                    rel = Relation.FRIEND
                elif any(x in mine for x in self._friends.get(i, [])):
                    rel = Relation.FRIEND_OF_FRIEND
                else:
                    rel = Relation.STRANGER
                out[PersonId(i)] = rel
            return out

    def liked_pages(
        self, person: PersonId, *, after: PageId | None = None, limit: int | None = None
    ) -> list[PageInfo]:
        """Pages ``person`` likes, in ascending page id order, strictly after ``after``."""
        _check_limit(limit)
        with self._lock:
            items = self._likes.get(int(person), [])
            ids = _page(items, None if after is None else int(after), limit)
            return [self._pages[i] for i in ids]

    def likes_of(self, people: Sequence[PersonId]) -> dict[PersonId, list[PageInfo]]:
        """Liked pages of each of ``people``; every asked person has an entry."""
        with self._lock:
            return {
                PersonId(int(p)): [self._pages[i] for i in self._likes.get(int(p), [])]
                for p in people
            }

    def list_people(
        self, *, after: PersonId | None = None, limit: int = 100
    ) -> list[tuple[PersonId, str, int]]:
        """(id, name, friend_count) in id order."""
        _check_limit(limit)
        with self._lock:
            ids = _page(sorted(self._profiles), None if after is None else int(after), limit)
            return [
                (PersonId(i), self._profiles[i].name, len(self._friends.get(i, []))) for i in ids
            ]

    def person_count(self) -> int:
        """How many people there are."""
        return len(self._profiles)

    # --- writes --------------------------------------------------------------------------

    def add_person(self, profile: Profile, privacy: PrivacySettings | None = None) -> None:
        """Add a person; raises ``IntegrityViolation`` if the id is taken."""
        self.add_people([(profile, privacy)])

    def add_people(self, people: Iterable[tuple[Profile, PrivacySettings | None]]) -> int:
        """Add many people, all or none; returns how many."""
        batch = list(people)
        with self._lock:
            ids = [int(p.id) for p, _ in batch]
            if len(set(ids)) != len(ids) or any(i in self._profiles for i in ids):
                raise IntegrityViolation("a person with that id already exists")
            for profile, privacy in batch:
                settings = privacy or PrivacySettings()
                pid = int(profile.id)
                self._profiles[pid] = replace(profile, id=PersonId(pid))
                self._audiences[pid] = default_audiences() | {
                    k: Audience(v) for k, v in settings.audiences.items() if k in AUDIENCE_FIELDS
                }
                self._sharing[pid] = default_sharing() | {
                    AppsOthersUse(k): bool(v) for k, v in settings.apps_others_use.items()
                }
            return len(batch)

    def add_friendship(self, a: PersonId, b: PersonId) -> None:
        """Make ``a`` and ``b`` friends; ``IntegrityViolation`` for self, duplicate, unknown."""
        self.add_friendships([(a, b)])

    def add_friendships(self, pairs: Iterable[tuple[PersonId, PersonId]]) -> int:
        """Add many friendships, all or none; returns how many."""
        batch = [(int(a), int(b)) for a, b in pairs]
        with self._lock:
            seen: set[tuple[int, int]] = set()
            for a, b in batch:
                if a == b:
                    raise IntegrityViolation(f"a person cannot befriend themselves ({a})")
                if a not in self._profiles or b not in self._profiles:
                    raise IntegrityViolation("friendship already exists or names an unknown person")
                key = (min(a, b), max(a, b))
                if key in seen or self._is_friend(a, b):
                    raise IntegrityViolation("friendship already exists or names an unknown person")
                seen.add(key)
            for a, b in batch:
                bisect.insort(self._friends.setdefault(a, []), b)
                bisect.insort(self._friends.setdefault(b, []), a)
            return len(batch)

    def add_page(self, page: PageInfo) -> None:
        """Add a page; raises ``IntegrityViolation`` if its id is taken."""
        with self._lock:
            if int(page.id) in self._pages:
                raise IntegrityViolation("page id already exists")
            self._pages[int(page.id)] = replace(page, id=PageId(int(page.id)))

    def add_like(self, person: PersonId, page: PageId) -> None:
        """``person`` likes ``page``; ``IntegrityViolation`` for duplicate or unknown ids."""
        self.add_likes([(person, page)])

    def add_likes(self, likes: Iterable[tuple[PersonId, PageId]]) -> int:
        """Add many likes, all or none; returns how many."""
        batch = [(int(p), int(g)) for p, g in likes]
        with self._lock:
            seen: set[tuple[int, int]] = set()
            for p, g in batch:
                existing = self._likes.get(p, [])
                i = bisect.bisect_left(existing, g)
                duplicate = (p, g) in seen or (i < len(existing) and existing[i] == g)
                if p not in self._profiles or g not in self._pages or duplicate:
                    raise IntegrityViolation(
                        "like already exists or names an unknown person or page"
                    )
                seen.add((p, g))
            for p, g in batch:
                bisect.insort(self._likes.setdefault(p, []), g)
            return len(batch)

    def _require(self, person: PersonId) -> int:
        pid = int(person)
        if pid not in self._profiles:
            raise NotFound(f"no person {pid}")
        return pid

    def set_audience(self, person: PersonId, field_name: str, audience: Audience) -> None:
        """Set who may see ``field_name`` of ``person``."""
        if field_name not in AUDIENCE_FIELDS:
            raise InvalidInput(f"field {field_name!r} has no settable audience")
        with self._lock:
            self._audiences[self._require(person)][field_name] = Audience(audience)

    def set_apps_others_use(self, person: PersonId, category: AppsOthersUse, on: bool) -> None:
        """Whether friends of ``person`` may bring ``category`` into apps."""
        with self._lock:
            self._sharing[self._require(person)][AppsOthersUse(category)] = bool(on)

    def set_platform_enabled(self, person: PersonId, on: bool) -> None:
        """Turn the platform (every app) on or off for ``person``."""
        with self._lock:
            pid = self._require(person)
            self._profiles[pid] = replace(self._profiles[pid], platform_enabled=bool(on))


__all__ = ["MemoryGraphStore"]
