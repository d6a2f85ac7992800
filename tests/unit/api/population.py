"""A small, seeded population for Graph API tests: one owner with many friends whose birthday
audiences and "apps others use" switches vary, a v1.0 quiz app and a v2.0 app, and tokens.

The expectations tests check are computed here from the store facts, independently of the
policy package: a friend's birthday reaches a v1.0 app with ``friends_birthday`` exactly when
the friend's birthday audience admits friends, their "apps others use" birthday switch is on,
they have the platform on, and they have a birthday.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, text

from graphwarden.consent.services import SqlConsentService
from graphwarden.core.clock import ManualClock
from graphwarden.core.config import Settings
from graphwarden.core.types import AppId, PageId, PersonId
from graphwarden.graph.fields import AppsOthersUse, Audience
from graphwarden.graph.interfaces import (
    PageInfo,
    PrivacySettings,
    Profile,
    default_audiences,
    default_sharing,
)
from graphwarden.graph.store import SqlGraphStore

START = datetime(2014, 6, 1, 12, tzinfo=UTC)
OWNER = PersonId(1)
STRANGER = PersonId(999)
FIRST_NAMES = ("Ada", "Björn", "Chidi", "Dana", "Émile", "Farah", "Goro", "Hana", "Ines", "Jun")


@dataclass(repr=False)
class World:
    """What a test needs to know about the population it runs against."""

    def __repr__(self) -> str:  # short, so failure reports stay readable
        return f"World(owner={self.owner}, friends={len(self.friends)})"

    owner: PersonId
    friends: list[PersonId]
    profiles: dict[PersonId, Profile]
    privacy: dict[PersonId, PrivacySettings]
    v1_app: AppId
    v2_app: AppId
    v1_token: str
    v2_token: str
    #: friends who authorized the v2.0 app with user_friends
    v2_users_with_friends: set[PersonId] = field(default_factory=set)
    likes: dict[PersonId, list[PageId]] = field(default_factory=dict)

    def listed_v1_friends(self) -> list[PersonId]:
        """Friends a v1.0 friends listing shows: all but those who turned the platform off."""
        return [f for f in self.friends if self.profiles[f].platform_enabled]

    def v1_birthday_visible(self, friend: PersonId) -> bool:
        """Independent expectation: does a v1.0 friends_birthday token see this birthday?"""
        profile, privacy = self.profiles[friend], self.privacy[friend]
        return (
            profile.birthday is not None
            and profile.platform_enabled
            and privacy.audiences["birthday"]
            in (Audience.PUBLIC, Audience.FRIENDS_OF_FRIENDS, Audience.FRIENDS)
            and privacy.apps_others_use[AppsOthersUse.BIRTHDAY]
        )


def build_world(engine: Engine, clock: ManualClock, *, friends: int = 57, seed: int = 7) -> World:
    """Populate ``engine`` (migrated, empty) deterministically from ``seed``."""
    rng = random.Random(seed)
    store = SqlGraphStore(engine)
    consent = SqlConsentService(engine, clock)
    profiles: dict[PersonId, Profile] = {}
    privacy: dict[PersonId, PrivacySettings] = {}
    people = [OWNER, *(PersonId(10 + 3 * i) for i in range(friends + 10)), STRANGER]
    for n, pid in enumerate(people):
        first = FIRST_NAMES[n % len(FIRST_NAMES)]
        year, month, day = 1960 + rng.randrange(40), 1 + rng.randrange(12), 1 + rng.randrange(28)
        profile = Profile(
            id=pid,
            name=f"{first} Person{pid}",
            first_name=first,
            last_name=f"Person{pid}",
            gender=rng.choice(("female", "male")),
            birthday=None if rng.random() < 0.1 else f"{year:04d}-{month:02d}-{day:02d}",
            email=f"p{pid}@example.org",
            hometown=rng.choice(("Lyon", "Osaka", "Lagos", None)),
            platform_enabled=pid in (OWNER, STRANGER) or rng.random() > 0.05,
        )
        audiences = default_audiences()
        audiences["birthday"] = rng.choice(list(Audience))
        sharing = default_sharing()
        sharing[AppsOthersUse.BIRTHDAY] = rng.random() > 0.25
        settings = PrivacySettings(audiences=audiences, apps_others_use=sharing)
        store.add_person(profile, settings)
        profiles[pid], privacy[pid] = profile, settings
    friend_ids = sorted(people[1 : friends + 1])
    for f in friend_ids:
        store.add_friendship(OWNER, f)
    # a few friendships among the rest so relations are not all trivial
    others = people[friends + 1 : -1]
    for a, b in itertools.pairwise(others):
        store.add_friendship(a, b)
    store.add_friendship(friend_ids[0], others[0])
    likes: dict[PersonId, list[PageId]] = {}
    for i in range(1, 13):
        store.add_page(PageInfo(PageId(i), f"Page {i}", rng.choice(("Music", "Books"))))
    for pid in (OWNER, *friend_ids[:5]):
        chosen = sorted(rng.sample(range(1, 13), 6))
        for page in chosen:
            store.add_like(pid, PageId(page))
        likes[pid] = [PageId(p) for p in chosen]

    v1 = consent.create_app(
        name="Quiz 2014",
        api_version="v1.0",
        permissions=["user_friends", "user_birthday", "friends_birthday", "user_likes"],
    ).id
    v2 = consent.create_app(name="Modern App", api_version="v2.0", permissions=["user_friends"]).id
    v1_grant = ["public_profile", "user_friends", "user_birthday", "friends_birthday", "user_likes"]
    consent.authorize(v1, OWNER, granted=v1_grant)
    v1_token = consent.issue_token(v1, OWNER, scope=v1_grant, issued_by="cli:test")
    v2_grant = ["public_profile", "user_friends"]
    consent.authorize(v2, OWNER, granted=v2_grant)
    v2_token = consent.issue_token(v2, OWNER, scope=v2_grant, issued_by="cli:test")
    users: set[PersonId] = set()
    for f in friend_ids:
        roll = rng.random()
        if roll < 0.3:
            consent.authorize(v2, f, granted=["public_profile", "user_friends"])
            users.add(f)
        elif roll < 0.4:  # uses the app but did not share their friend list
            consent.authorize(v2, f, granted=["public_profile"])
    return World(
        owner=OWNER,
        friends=friend_ids,
        profiles=profiles,
        privacy=privacy,
        v1_app=v1,
        v2_app=v2,
        v1_token=v1_token,
        v2_token=v2_token,
        v2_users_with_friends=users,
        likes=likes,
    )


def birthday_on_wire(iso: str) -> str:
    year, month, day = iso.split("-")
    return f"{month}/{day}/{year}"


class AsgiClient:
    """A synchronous client for an ASGI app, in process (httpx over ``ASGITransport``).

    Unexpected server exceptions become responses (as a real server would send them), so a
    test sees the 500 a client would see rather than the exception.
    """

    def __init__(self, app: Any, base_url: str = "http://graph.test") -> None:
        self._loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._client = httpx.AsyncClient(transport=transport, base_url=base_url)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self._loop.run_until_complete(self._client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)

    def close(self) -> None:
        self._loop.run_until_complete(self._client.aclose())
        self._loop.close()


def settings_for(url: str, data_dir: Path) -> Settings:
    return Settings(database_url=url, data_dir=data_dir, redis_url=None, issuer="http://graph.test")


def recorded_pairs(engine: Engine, request_id: str) -> set[tuple[int, str]]:
    """(subject, field) pairs the ledger holds for ``request_id``."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT d.subject_id, d.field FROM disclosures d "
                "JOIN disclosure_batches b ON b.id = d.batch_id WHERE b.request_id = :rid"
            ),
            {"rid": request_id},
        ).all()
    return {(int(s), str(f)) for s, f in rows}


def disclosure_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT COUNT(*) FROM disclosures")).scalar_one())


__all__ = [
    "OWNER",
    "START",
    "STRANGER",
    "AsgiClient",
    "World",
    "birthday_on_wire",
    "build_world",
    "disclosure_count",
    "recorded_pairs",
    "settings_for",
]
