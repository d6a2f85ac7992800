"""App agents: third-party apps acting through the real OAuth flow and the HTTP Graph API.

Each agent is what a developer would write: it registers (through the consent service, as the
developer portal does), sends each user through sign-in and the consent screen
(:mod:`graphwarden.simulation.oauth_client`), and calls the versioned Graph API with the
token it got. It asks for what its version still allows; the consent screen and App Review
decide what is granted. Agents keep no counts that matter: every number of a replay is read
back from the disclosure ledger.

* :class:`QuizHarvester` - the 2014 personality quiz: reads the installer's profile and likes,
  then pages through every friend's fields and likes.
* :class:`LoginOnlyApp`, :class:`BirthdayCalendar`, :class:`FriendsGame` - benign apps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from graphwarden.consent.interfaces import ConsentService
from graphwarden.core.errors import InvalidInput, LedgerWriteError
from graphwarden.core.types import ApiVersion
from graphwarden.policy.tables import requestable
from graphwarden.simulation.oauth_client import AppCredentials, TokenSet, authorize
from graphwarden.simulation.scenarios import (
    QUIZ_FRIEND_FIELDS,
    QUIZ_FRIENDS_LIMIT,
    QUIZ_LIKES_LIMIT,
    QUIZ_OWN_FIELDS,
    QUIZ_WISHES,
)

#: the redirect URI every simulated app registers (never fetched: the code is read from it)
REDIRECT_URI = "https://apps.example/callback"
#: the most pages an agent follows on one edge (a guard against a paging loop)
MAX_PAGES = 10_000


@dataclass(slots=True)
class AgentSession:
    """What one user's session with an agent did (for progress display only)."""

    person_id: int
    granted: frozenset[str]
    calls: int = 0
    #: Graph API errors answered (code and message), e.g. a denied friends edge
    errors: list[str] = field(default_factory=list)


class AppAgent:
    """A third-party app: its wishes, its registration and what it does with a token."""

    name: ClassVar[str] = "app"
    wishes: ClassVar[tuple[str, ...]] = ("public_profile",)

    def __init__(self, http: httpx.Client, credentials: AppCredentials, version: ApiVersion):
        self.http = http
        self.credentials = credentials
        self.version = version

    @classmethod
    def scope(cls, version: str) -> list[str]:
        """The permissions this app asks for under ``version``."""
        return [p for p in cls.wishes if requestable(version, p)]

    @classmethod
    def register(
        cls, consent: ConsentService, version: ApiVersion, *, name: str | None = None
    ) -> AppCredentials:
        """Register the app (as the developer portal does) and return its credentials."""
        new = consent.create_app(
            name=name or cls.name,
            api_version=version,
            permissions=cls.scope(version),
            redirect_uris=[REDIRECT_URI],
            privacy_policy_url="https://apps.example/privacy",
        )
        return AppCredentials(
            client_id=str(int(new.id)), client_secret=new.secret, redirect_uri=REDIRECT_URI
        )

    def install(self, person_id: int) -> AgentSession:
        """Send ``person_id`` through sign-in and consent, then use the app."""
        tokens = authorize(
            self.http, self.credentials, person_id=person_id, scope=self.scope(self.version)
        )
        session = AgentSession(person_id=person_id, granted=tokens.scope)
        self.use(tokens, session)
        return session

    def use(self, tokens: TokenSet, session: AgentSession) -> None:
        """What the app does with a fresh token (default: read the user's name)."""
        self.get(tokens, f"/{self.version}/me", {"fields": "id,name"}, session)

    # --- the Graph API ---------------------------------------------------------------------
    def get(
        self, tokens: TokenSet, path: str, params: dict[str, str], session: AgentSession
    ) -> dict[str, Any] | None:
        """One Graph API call; a Graph API error object is noted and answers ``None``."""
        response = self.http.get(
            path, params=params, headers={"Authorization": f"Bearer {tokens.access_token}"}
        )
        session.calls += 1
        return self._body(response, session)

    def follow(self, tokens: TokenSet, url: str, session: AgentSession) -> dict[str, Any] | None:
        """Follow a ``paging.next`` link (it carries its own parameters)."""
        parts = urlsplit(url)
        response = self.http.get(
            f"{parts.path}?{parts.query}",
            headers={"Authorization": f"Bearer {tokens.access_token}"},
        )
        session.calls += 1
        return self._body(response, session)

    @staticmethod
    def _body(response: httpx.Response, session: AgentSession) -> dict[str, Any] | None:
        if response.status_code >= 500:
            # the platform failed closed (e.g. the ledger could not record): nothing left
            raise LedgerWriteError(
                f"Graph API answered {response.status_code}: {response.text[:200]}"
            )
        body = response.json()
        if response.status_code != 200 or "error" in body:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            session.errors.append(f"{error.get('code')}: {error.get('message')}")
            return None
        return body if isinstance(body, dict) else None

    def page_through(
        self, tokens: TokenSet, path: str, params: dict[str, str], session: AgentSession
    ) -> int:
        """Read every page of an edge; returns the number of items listed."""
        body = self.get(tokens, path, params, session)
        items = 0
        for _ in range(MAX_PAGES):
            if body is None:
                break
            items += len(body.get("data", []))
            next_url = body.get("paging", {}).get("next")
            if not next_url:
                break
            body = self.follow(tokens, next_url, session)
        return items


class QuizHarvester(AppAgent):
    """The personality quiz of 2014: installers' data, then all of their friends' data."""

    name = "thisisyourdigitallife"
    wishes = QUIZ_WISHES

    def use(self, tokens: TokenSet, session: AgentSession) -> None:
        likes = f"likes.limit({QUIZ_LIKES_LIMIT}){{name}}"
        own = ",".join((*QUIZ_OWN_FIELDS, likes))
        self.get(tokens, f"/{self.version}/me", {"fields": own}, session)
        friends = ",".join((*QUIZ_FRIEND_FIELDS, likes))
        self.page_through(
            tokens,
            f"/{self.version}/me/friends",
            {"fields": friends, "limit": str(QUIZ_FRIENDS_LIMIT)},
            session,
        )


class LoginOnlyApp(AppAgent):
    """Facebook Login and nothing else: the public profile."""

    name = "login-only"
    wishes = ("public_profile",)


class BirthdayCalendar(AppAgent):
    """A birthday calendar: the user's birthday and (where allowed) their friends'."""

    name = "birthday-calendar"
    wishes = ("public_profile", "user_birthday", "user_friends", "friends_birthday")

    def use(self, tokens: TokenSet, session: AgentSession) -> None:
        self.get(tokens, f"/{self.version}/me", {"fields": "id,name,birthday"}, session)
        self.page_through(
            tokens,
            f"/{self.version}/me/friends",
            {"fields": "id,name,birthday", "limit": "100"},
            session,
        )


class FriendsGame(AppAgent):
    """A game that shows which friends also play (``user_friends``)."""

    name = "friends-game"
    wishes = ("public_profile", "user_friends")

    def use(self, tokens: TokenSet, session: AgentSession) -> None:
        self.page_through(
            tokens, f"/{self.version}/me/friends", {"fields": "id,name", "limit": "100"}, session
        )


AGENTS: dict[str, type[AppAgent]] = {
    a.name: a for a in (QuizHarvester, LoginOnlyApp, BirthdayCalendar, FriendsGame)
}
BENIGN: tuple[type[AppAgent], ...] = (LoginOnlyApp, BirthdayCalendar, FriendsGame)


def agent_class(name: str) -> type[AppAgent]:
    """The agent named ``name``; an unknown name is ``InvalidInput`` listing the known ones."""
    try:
        return AGENTS[name]
    except KeyError:
        raise InvalidInput(f"unknown app agent {name!r}; known: {', '.join(AGENTS)}") from None


def install_all(agent: AppAgent, people: Sequence[int]) -> list[AgentSession]:
    """Install ``agent`` for each of ``people`` in order."""
    return [agent.install(p) for p in people]


__all__ = [
    "AGENTS",
    "BENIGN",
    "REDIRECT_URI",
    "AgentSession",
    "AppAgent",
    "BirthdayCalendar",
    "FriendsGame",
    "LoginOnlyApp",
    "QuizHarvester",
    "agent_class",
    "install_all",
]
