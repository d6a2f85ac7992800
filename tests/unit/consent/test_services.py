"""The consent service on SQLite and PostgreSQL: apps and secrets, authorizations, tokens
(hash-only storage, expiry, revocation), the owner's standing, and app-scoped ids."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, text

from graphwarden.consent.models import AccessToken, App, AppScopedId
from graphwarden.consent.scoping import scoped_id_for
from graphwarden.consent.services import SqlConsentService
from graphwarden.consent.tokens import TOKEN_EXPIRED, TOKEN_INVALID, TOKEN_REVOKED
from graphwarden.core.clock import ManualClock
from graphwarden.core.db import create_store_engine
from graphwarden.core.errors import AuthError, InvalidInput, NotFound, PermissionDenied
from graphwarden.core.types import AppId, PersonId
from graphwarden.graph.interfaces import Profile
from graphwarden.graph.store import SqlGraphStore

START = datetime(2014, 6, 1, 12, tzinfo=UTC)
ALICE, BOB, CAROL = PersonId(1), PersonId(2), PersonId(3)


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A migrated, empty store on each backend (overrides the shared fixture for speed)."""
    name = "postgres_url" if request.param == "postgres" else "sqlite_url"
    eng = create_store_engine(request.getfixturevalue(name))
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def populate(engine: Engine) -> None:
    store = SqlGraphStore(engine)
    for i, name in ((1, "Alice"), (2, "Bob"), (3, "Carol")):
        store.add_person(Profile(PersonId(i), name, name, "Example", "female"))


@pytest.fixture
def consent(engine: Engine, clock: ManualClock) -> SqlConsentService:
    populate(engine)
    return SqlConsentService(engine, clock)


@pytest.fixture
def quiz(consent: SqlConsentService) -> AppId:
    new = consent.create_app(
        name="Personality Quiz",
        api_version="v1.0",
        permissions=["user_birthday", "friends_birthday"],
        redirect_uris=["https://quiz.example/cb"],
    )
    return new.id


# --- apps and secrets -----------------------------------------------------------------------


def test_create_app_round_trips(consent: SqlConsentService, quiz: AppId) -> None:
    app = consent.get_app(quiz)
    assert app is not None
    assert app.name == "Personality Quiz"
    assert app.api_version == "v1.0"
    assert app.status == "active"
    assert app.mode == "live"
    assert app.requested_permissions == {"public_profile", "user_birthday", "friends_birthday"}
    assert app.approved_permissions == frozenset()
    assert app.redirect_uris == ("https://quiz.example/cb",)
    assert consent.get_app(AppId(999)) is None
    assert [a.id for a in consent.list_apps()] == [quiz]


def test_app_secret_is_stored_only_as_argon2(consent: SqlConsentService, engine: Engine) -> None:
    new = consent.create_app(name="A", api_version="v2.0", permissions=[])
    assert len(new.secret) >= 43  # 32 random bytes, base64url
    with engine.connect() as conn:
        stored = conn.execute(select(App.secret_hash).where(App.id == new.id)).scalar_one()
    assert stored.startswith("$argon2id$")
    assert new.secret not in stored
    assert consent.verify_app_secret(new.id, new.secret)
    assert not consent.verify_app_secret(new.id, new.secret + "x")
    assert not consent.verify_app_secret(AppId(999), new.secret)
    consent.set_app_status(new.id, "deleted")
    assert not consent.verify_app_secret(new.id, new.secret)


def test_two_apps_have_different_secrets(consent: SqlConsentService) -> None:
    a = consent.create_app(name="A", api_version="v2.0", permissions=[])
    b = consent.create_app(name="B", api_version="v2.0", permissions=[])
    assert a.secret != b.secret
    assert not consent.verify_app_secret(b.id, a.secret)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": " "},
        {"api_version": "v9.9"},
        {"permissions": ["User Birthday"]},
        {"permissions": ["email;drop"]},
        {"mode": "sandbox"},
        {"redirect_uris": ["javascript:alert(1)"]},
        {"redirect_uris": ["https://a.example/cb#frag"]},
        {"redirect_uris": ["/relative"]},
    ],
)
def test_create_app_rejects_bad_input(
    consent: SqlConsentService, kwargs: dict[str, object]
) -> None:
    args: dict[str, object] = {"name": "App", "api_version": "v2.0", "permissions": []}
    with pytest.raises(InvalidInput):
        consent.create_app(**(args | kwargs))  # type: ignore[arg-type]


# --- authorizations -------------------------------------------------------------------------


def test_authorize_records_sorted_grants_and_engagement(
    consent: SqlConsentService, quiz: AppId, clock: ManualClock, engine: Engine
) -> None:
    auth = consent.authorize(
        quiz, ALICE, granted=["user_birthday", "public_profile", "email"], declined=["email"]
    )
    assert auth.granted == {"public_profile", "user_birthday"}
    assert auth.declined == {"email"}
    assert auth.created_at == START
    assert auth.last_used_at == START
    with engine.connect() as conn:
        row = conn.execute(text("SELECT granted, declined FROM authorizations")).one()
    assert tuple(row) == ("public_profile,user_birthday", "email")


def test_authorize_is_incremental(
    consent: SqlConsentService, quiz: AppId, clock: ManualClock
) -> None:
    consent.authorize(quiz, ALICE, granted=["public_profile", "user_birthday"])
    clock.advance(days=3)
    auth = consent.authorize(quiz, ALICE, granted=["email"], declined=["user_birthday"])
    assert auth.granted == {"public_profile", "email"}
    assert auth.declined == {"user_birthday"}
    assert auth.created_at == START
    assert auth.last_used_at == START + timedelta(days=3)
    consent.authorize(quiz, ALICE, granted=["user_birthday"])
    again = consent.get_authorization(quiz, ALICE)
    assert again is not None
    assert again.granted == {"public_profile", "email", "user_birthday"}
    assert again.declined == frozenset()
    consent.revoke_permission(quiz, ALICE, "email")
    after = consent.get_authorization(quiz, ALICE)
    assert after is not None
    assert "email" not in after.granted
    assert "email" in after.declined


def test_authorize_unknown_app_or_person_is_not_found(
    consent: SqlConsentService, quiz: AppId
) -> None:
    with pytest.raises(NotFound):
        consent.authorize(AppId(999), ALICE, granted=["public_profile"])
    with pytest.raises(NotFound):
        consent.authorize(quiz, PersonId(999), granted=["public_profile"])
    with pytest.raises(InvalidInput):
        consent.authorize(quiz, ALICE, granted=["Not A Permission"])


def test_authorizations_of_skips_removed(consent: SqlConsentService, quiz: AppId) -> None:
    for who in (ALICE, BOB, CAROL):
        consent.authorize(quiz, who, granted=["public_profile"])
    consent.remove_app(quiz, BOB)
    live = consent.authorizations_of(quiz, [ALICE, BOB, CAROL, PersonId(42)])
    assert sorted(live) == [ALICE, CAROL]
    removed = consent.get_authorization(quiz, BOB)
    assert removed is not None
    assert removed.removed_at == START
    assert [a.app_id for a in consent.authorizations_by(BOB)] == [quiz]


def test_authorizing_after_removal_starts_afresh(
    consent: SqlConsentService, quiz: AppId, clock: ManualClock
) -> None:
    consent.authorize(quiz, ALICE, granted=["public_profile", "user_birthday"])
    consent.remove_app(quiz, ALICE)
    clock.advance(days=1)
    auth = consent.authorize(quiz, ALICE, granted=["public_profile"])
    assert auth.removed_at is None
    assert auth.granted == {"public_profile"}
    assert auth.created_at == START + timedelta(days=1)


# --- tokens ---------------------------------------------------------------------------------


def issue(consent: SqlConsentService, app: AppId, who: PersonId, **kw: object) -> str:
    consent.authorize(app, who, granted=["public_profile", "user_birthday", "friends_birthday"])
    return consent.issue_token(
        app,
        who,
        scope=["public_profile", "user_birthday", "friends_birthday"],
        issued_by="oauth",
        **kw,  # type: ignore[arg-type]
    )


def test_token_is_stored_only_as_sha256(
    consent: SqlConsentService, quiz: AppId, engine: Engine
) -> None:
    token = issue(consent, quiz, ALICE)
    assert len(token) >= 43
    with engine.connect() as conn:
        rows = conn.execute(select(AccessToken.__table__)).all()
    assert len(rows) == 1
    assert rows[0].token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert all(token not in str(value) for value in rows[0])


def test_resolve_token(consent: SqlConsentService, quiz: AppId) -> None:
    token = issue(consent, quiz, ALICE)
    info = consent.resolve_token(token)
    assert info.app.id == quiz
    assert info.app.name == "Personality Quiz"
    assert info.person_id == ALICE
    assert info.scope == {"public_profile", "user_birthday", "friends_birthday"}
    assert info.issued_at == START
    assert info.expires_at == START + timedelta(days=60)
    assert info.issued_by == "oauth"


@pytest.mark.parametrize("bad", ["", "x", "A" * 43, "A" * 10_000])
def test_unknown_token_is_rejected(consent: SqlConsentService, quiz: AppId, bad: str) -> None:
    issue(consent, quiz, ALICE)
    with pytest.raises(AuthError) as err:
        consent.resolve_token(bad)
    assert str(err.value) == TOKEN_INVALID


def test_token_expires(consent: SqlConsentService, quiz: AppId, clock: ManualClock) -> None:
    token = issue(consent, quiz, ALICE, ttl_seconds=3600)
    clock.advance(seconds=3599)
    assert consent.resolve_token(token).person_id == ALICE
    clock.advance(seconds=1)
    with pytest.raises(AuthError) as err:
        consent.resolve_token(token)
    assert str(err.value) == TOKEN_EXPIRED


def test_revoked_token_is_rejected(consent: SqlConsentService, quiz: AppId) -> None:
    token = issue(consent, quiz, ALICE)
    other = issue(consent, quiz, BOB)
    consent.revoke_token(token)
    consent.revoke_token(token)  # idempotent
    consent.revoke_token("never-issued")  # RFC 7009: no error for unknown tokens
    with pytest.raises(AuthError) as err:
        consent.resolve_token(token)
    assert str(err.value) == TOKEN_REVOKED
    assert consent.resolve_token(other).person_id == BOB


def test_remove_app_revokes_that_persons_tokens(consent: SqlConsentService, quiz: AppId) -> None:
    alice = issue(consent, quiz, ALICE)
    bob = issue(consent, quiz, BOB)
    consent.remove_app(quiz, ALICE)
    with pytest.raises(AuthError):
        consent.resolve_token(alice)
    assert consent.resolve_token(bob).person_id == BOB


def test_revoke_family_and_app_tokens(consent: SqlConsentService, quiz: AppId) -> None:
    a = issue(consent, quiz, ALICE, family="code-1")
    b = issue(consent, quiz, ALICE, family="code-1")
    c = issue(consent, quiz, BOB, family="code-2")
    assert consent.revoke_family("code-1") == 2
    for token in (a, b):
        with pytest.raises(AuthError):
            consent.resolve_token(token)
    assert consent.resolve_token(c).person_id == BOB
    assert consent.revoke_tokens_of(quiz) == 1
    with pytest.raises(AuthError):
        consent.resolve_token(c)


def test_issue_token_checks_app_and_person(consent: SqlConsentService, quiz: AppId) -> None:
    with pytest.raises(NotFound):
        consent.issue_token(AppId(999), ALICE, scope=["public_profile"], issued_by="oauth")
    with pytest.raises(NotFound):
        consent.issue_token(quiz, PersonId(999), scope=["public_profile"], issued_by="oauth")
    with pytest.raises(InvalidInput):
        consent.issue_token(quiz, ALICE, scope=["public_profile"], issued_by="x", ttl_seconds=0)
    consent.set_app_status(quiz, "suspended")
    with pytest.raises(PermissionDenied):
        consent.issue_token(quiz, ALICE, scope=["public_profile"], issued_by="oauth")


def test_suspended_apps_token_still_resolves_for_policy(
    consent: SqlConsentService, quiz: AppId
) -> None:
    token = issue(consent, quiz, ALICE)
    consent.set_app_status(quiz, "suspended")
    assert consent.resolve_token(token).app.status == "suspended"


# --- the owner's standing -------------------------------------------------------------------


def test_owner_state_intersects_grant_and_scope(consent: SqlConsentService, quiz: AppId) -> None:
    consent.authorize(quiz, ALICE, granted=["public_profile", "user_birthday", "email"])
    token = consent.issue_token(
        quiz, ALICE, scope=["public_profile", "user_birthday", "user_likes"], issued_by="oauth"
    )
    state = consent.owner_state(consent.resolve_token(token))
    assert state.granted == {"public_profile", "user_birthday"}
    assert state.authorized
    assert not state.removed
    assert state.platform_enabled
    assert state.last_used_at == START
    assert state.owner_has_role is False
    consent.revoke_permission(quiz, ALICE, "user_birthday")
    later = consent.owner_state(consent.resolve_token(token))
    assert later.granted == {"public_profile"}
    assert later.declined == {"user_birthday"}


def test_owner_state_without_authorization_grants_nothing(
    consent: SqlConsentService, quiz: AppId
) -> None:
    token = consent.issue_token(quiz, ALICE, scope=["public_profile"], issued_by="cli:test")
    state = consent.owner_state(consent.resolve_token(token))
    assert state.granted == frozenset()
    assert not state.authorized
    assert state.last_used_at is None


def test_owner_state_sees_platform_off_and_removal(
    consent: SqlConsentService, quiz: AppId, engine: Engine
) -> None:
    token = issue(consent, quiz, ALICE)
    info = consent.resolve_token(token)
    SqlGraphStore(engine).set_platform_enabled(ALICE, False)
    assert consent.owner_state(info).platform_enabled is False
    consent.remove_app(quiz, ALICE)
    state = consent.owner_state(info)  # a TokenInfo resolved before the removal
    assert state.removed
    assert state.granted == frozenset()
    assert not state.authorized


def test_owner_state_sees_roles(
    consent: SqlConsentService, quiz: AppId, engine: Engine, clock: ManualClock
) -> None:
    token = issue(consent, quiz, ALICE)
    info = consent.resolve_token(token)
    if not consent._roles_table_exists():
        assert consent.owner_state(info).owner_has_role is False
        return
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO app_roles (app_id, person_id, role, granted_by, granted_at) "
                "VALUES (:a, :p, 'tester', 'test', :t)"
            ),
            {"a": int(quiz), "p": int(ALICE), "t": clock.now()},
        )
    assert consent.owner_state(info).owner_has_role is True


# --- app-scoped ids -------------------------------------------------------------------------


def test_scoped_ids_are_deterministic_per_app(consent: SqlConsentService, quiz: AppId) -> None:
    other = consent.create_app(name="Other", api_version="v2.0", permissions=[]).id
    a1 = consent.scoped_id(quiz, ALICE)
    assert consent.scoped_id(quiz, ALICE) == a1
    assert len(a1) == 32
    assert int(a1, 16) >= 0
    assert consent.scoped_id(other, ALICE) != a1
    assert a1 != str(int(ALICE))
    page = consent.scoped_ids(quiz, [ALICE, BOB, CAROL])
    assert page[ALICE] == a1
    assert len(set(page.values())) == 3


def test_scoped_ids_are_recorded_once(
    consent: SqlConsentService, quiz: AppId, engine: Engine
) -> None:
    consent.scoped_ids(quiz, [ALICE, BOB])
    fresh = SqlConsentService(engine)  # no in-process memory of what was recorded
    fresh.scoped_ids(quiz, [ALICE, BOB, CAROL])
    with engine.connect() as conn:
        rows = conn.execute(select(AppScopedId.person_id).order_by(AppScopedId.person_id)).all()
    assert [r[0] for r in rows] == [1, 2, 3]


def test_resolve_scoped_id(consent: SqlConsentService, quiz: AppId, engine: Engine) -> None:
    other = consent.create_app(name="Other", api_version="v2.0", permissions=[]).id
    given_id = consent.scoped_id(quiz, BOB)
    assert consent.resolve_scoped_id(quiz, given_id) == BOB
    # another app cannot use it, and an id computed but never given does not resolve
    assert consent.resolve_scoped_id(other, given_id) is None
    with engine.connect() as conn:
        key = conn.execute(select(App.scoping_key).where(App.id == quiz)).scalar_one()
    assert consent.resolve_scoped_id(quiz, scoped_id_for(key, CAROL)) is None
    assert consent.resolve_scoped_id(quiz, "2") is None
    assert consent.resolve_scoped_id(quiz, given_id.upper()) is None


def test_scoped_id_of_unknown_app_or_person(consent: SqlConsentService, quiz: AppId) -> None:
    with pytest.raises(NotFound):
        consent.scoped_id(AppId(999), ALICE)
    with pytest.raises(NotFound):
        consent.scoped_id(quiz, PersonId(999))


@pytest.fixture
def sqlite_consent(sqlite_url: str) -> Iterator[tuple[SqlConsentService, AppId]]:
    engine = create_store_engine(sqlite_url)
    populate(engine)
    consent = SqlConsentService(engine, ManualClock(START))
    app = consent.create_app(name="Scoped", api_version="v2.0", permissions=[]).id
    consent.scoped_ids(app, [ALICE, BOB])
    try:
        yield consent, app
    finally:
        engine.dispose()


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    guess=st.one_of(
        st.text(max_size=40),
        st.text(alphabet="0123456789abcdef", min_size=32, max_size=32),
        st.integers(min_value=0).map(str),
    )
)
def test_no_id_that_was_not_given_resolves(
    sqlite_consent: tuple[SqlConsentService, AppId], guess: str
) -> None:
    consent, app = sqlite_consent
    given_ids = {consent.scoped_id(app, ALICE), consent.scoped_id(app, BOB)}
    if guess in given_ids:  # pragma: no cover - 2 in 16**32
        return
    assert consent.resolve_scoped_id(app, guess) is None


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    guess=st.one_of(
        st.text(max_size=60),
        st.text(
            alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
            min_size=43,
            max_size=43,
        ),
    )
)
def test_no_token_that_was_not_issued_resolves(
    sqlite_consent: tuple[SqlConsentService, AppId], guess: str
) -> None:
    consent, app = sqlite_consent
    consent.authorize(app, ALICE, granted=["public_profile"])
    issued = consent.issue_token(app, ALICE, scope=["public_profile"], issued_by="test")
    if guess == issued:  # pragma: no cover - 2**-256
        return
    with pytest.raises(AuthError) as err:
        consent.resolve_token(guess)
    assert str(err.value) == TOKEN_INVALID
    assert consent.resolve_token(issued).person_id == ALICE
