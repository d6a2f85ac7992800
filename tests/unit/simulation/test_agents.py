"""App agents through the real OAuth flow and Graph API (in process, the same requests)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from graphwarden.consent.services import SqlConsentService
from graphwarden.core.clock import ManualClock
from graphwarden.core.db import create_store_engine
from graphwarden.core.errors import AuthError
from graphwarden.graph.loader import load_population
from graphwarden.ledger.queries import iter_disclosures
from graphwarden.server import in_process_client
from graphwarden.simulation.agents import (
    BirthdayCalendar,
    FriendsGame,
    LoginOnlyApp,
    QuizHarvester,
    agent_class,
)
from graphwarden.simulation.oauth_client import AppCredentials, authorize
from graphwarden.simulation.population import generate_population
from graphwarden.simulation.replay import REPLAY_START


@pytest.fixture
def world(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[Engine, httpx.Client, ManualClock]]:
    engine = create_store_engine(sqlite_url)
    load_population(engine, generate_population(150, seed=11))
    clock = ManualClock(REPLAY_START)
    with in_process_client(engine, tmp_path / "data", clock) as http:
        yield engine, http, clock
    engine.dispose()


def test_quiz_under_v1_reads_friends_who_never_consented(
    world: tuple[Engine, httpx.Client, ManualClock],
) -> None:
    engine, http, clock = world
    consent = SqlConsentService(engine, clock)
    creds = QuizHarvester.register(consent, "v1.0")
    installer = 1
    session = QuizHarvester(http, creds, "v1.0").install(installer)
    assert "friends_likes" in session.granted
    assert session.errors == []
    subjects = {d.subject_id for d in iter_disclosures(engine, app_id=int(creds.client_id))}
    assert installer in subjects  # the installer's own fields were read
    assert len(subjects) > 5


def test_quiz_under_v3_gets_no_friends(world: tuple[Engine, httpx.Client, ManualClock]) -> None:
    engine, http, clock = world
    consent = SqlConsentService(engine, clock)
    creds = QuizHarvester.register(consent, "v3.0")
    assert "user_religion_politics" not in QuizHarvester.scope("v3.0")
    session = QuizHarvester(http, creds, "v3.0").install(2)
    assert session.granted == {"public_profile", "email"}
    assert any(e.startswith("200") for e in session.errors)  # the friends edge is refused
    subjects = {d.subject_id for d in iter_disclosures(engine, app_id=int(creds.client_id))}
    assert subjects == {2}


@pytest.mark.parametrize("agent", [LoginOnlyApp, BirthdayCalendar, FriendsGame])
def test_benign_agents_complete_the_flow(
    world: tuple[Engine, httpx.Client, ManualClock], agent: type[QuizHarvester]
) -> None:
    engine, http, clock = world
    creds = agent.register(SqlConsentService(engine, clock), "v2.0")
    session = agent(http, creds, "v2.0").install(3)
    assert "public_profile" in session.granted
    assert session.calls >= 1
    assert agent_class(agent.name) is agent


def test_a_wrong_secret_gets_no_token(world: tuple[Engine, httpx.Client, ManualClock]) -> None:
    engine, http, clock = world
    creds = LoginOnlyApp.register(SqlConsentService(engine, clock), "v2.0")
    forged = AppCredentials(creds.client_id, "not-the-secret", creds.redirect_uri)
    with pytest.raises(AuthError, match="token"):
        authorize(http, forged, person_id=4, scope=["public_profile"])


def test_the_in_process_client_serves_from_inside_a_running_event_loop(
    sqlite_url: str, tmp_path: Path
) -> None:
    import asyncio

    from graphwarden.server import LoopTransport

    engine = create_store_engine(sqlite_url)
    load_population(engine, generate_population(40, seed=5))
    clock = ManualClock(REPLAY_START)
    try:
        with in_process_client(engine, tmp_path / "a", clock) as http:
            assert isinstance(http._transport, LoopTransport)
            creds = LoginOnlyApp.register(SqlConsentService(engine, clock), "v2.0")
            outside = LoginOnlyApp(http, creds, "v2.0").install(5)

        async def inside() -> list[str]:
            # a caller that already runs a loop gets the helper-thread transport instead
            with in_process_client(engine, tmp_path / "b", clock) as http:
                assert not isinstance(http._transport, LoopTransport)
                return LoginOnlyApp(http, creds, "v2.0").install(6).errors

        assert asyncio.run(inside()) == outside.errors == []
        subjects = {d.subject_id for d in iter_disclosures(engine, app_id=int(creds.client_id))}
        assert subjects == {5, 6}
    finally:
        engine.dispose()
