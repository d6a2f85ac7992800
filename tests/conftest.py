"""Shared fixtures: migrated stores on SQLite and PostgreSQL, Redis, Chromium.

Outside CI a test that needs PostgreSQL, Redis or Chromium skips and says why; in CI
(``CI=true``) their absence fails the test instead.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from graphwarden.core.config import get_settings
from graphwarden.core.db import create_store_engine, session_factory, upgrade

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# No deadlines: the first example of a policy property compiles the rule tables, and a loaded
# machine makes any example slow, so a deadline only makes results flip. Under mutation
# testing (tools/mutation/mutate.py) the examples are derandomized and no example database
# carries failures from one mutant to the next, so a mutant's fate does not depend on the run.
hypothesis_settings.register_profile("graphwarden", deadline=None)
hypothesis_settings.register_profile("mutation", deadline=None, derandomize=True, database=None)
hypothesis_settings.load_profile(
    "mutation" if os.environ.get("GRAPHWARDEN_MUTATION") else "graphwarden"
)
POSTGRES_URL = os.environ.get(
    "GRAPHWARDEN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("GRAPHWARDEN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CHROMIUM = os.environ.get("GRAPHWARDEN_TEST_CHROMIUM", "/usr/bin/chromium")


def unavailable(what: str, why: str) -> None:
    """Skip (with the reason printed) outside CI; fail in CI, where everything must run."""
    message = f"{what} unavailable: {why}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true requires it)")
    pytest.skip(message)


# --- memo caches ----------------------------------------------------------------------------

#: the security core's packages: their test modules start with every memo cache empty
MEMO_PACKAGES = (
    "graphwarden.policy",
    "graphwarden.ledger",
    "graphwarden.consent",
    "graphwarden.disclosure",
)


def clear_memo_caches() -> list[str]:
    """Empty every ``functools`` cache (``lru_cache``, ``cache``) defined in the loaded
    modules of :data:`MEMO_PACKAGES`; return their names. A cache one test filled would
    otherwise answer the next test from what an earlier case computed."""
    cleared = []
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith(MEMO_PACKAGES):
            continue
        for attr, value in list(vars(module).items()):
            if callable(getattr(value, "cache_clear", None)) and value.__module__ == name:
                value.cache_clear()
                cleared.append(f"{name}.{attr}")
    return cleared


@pytest.fixture(scope="module")
def cleared_memo_caches() -> None:
    """Used (autouse) by the test folders of the security core: see ``conftest.py`` there."""
    clear_memo_caches()


# --- SQLite ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, _sqlite_template: Path) -> str:
    """A fresh, migrated SQLite database file."""
    path = tmp_path / "graphwarden.db"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite:///{path}"


# --- PostgreSQL -----------------------------------------------------------------------------


_pg_error: str | None = None
_pg_checked = False


def _postgres_reachable() -> str | None:
    global _pg_checked, _pg_error
    if not _pg_checked:
        _pg_checked = True
        try:
            engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
        except Exception as exc:  # any failure to connect means "not here"
            _pg_error = f"{POSTGRES_URL}: {exc.__class__.__name__}: {str(exc).splitlines()[0]}"
    return _pg_error


class _PostgresSchema:
    """One migrated schema for the whole session, put back to its just-migrated state before
    each test: every table truncated, the rows the migrations seed re-inserted, and any
    trigger a test installed (fault injection) dropped. Migrating per test costs 1-2 s."""

    def __init__(self) -> None:
        self.schema = f"gw_test_{uuid.uuid4().hex[:12]}"
        sep = "&" if "?" in POSTGRES_URL else "?"
        self.url = f"{POSTGRES_URL}{sep}options=-csearch_path%3D{self.schema}"
        self.admin = create_engine(POSTGRES_URL)
        with self.admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        upgrade(self.url)
        self.engine = create_engine(self.url)
        with self.engine.connect() as conn:
            self.tables = [
                str(name)
                for name in conn.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = :s "
                        "AND tablename <> 'alembic_version'"
                    ),
                    {"s": self.schema},
                ).scalars()
            ]
            self.seeds = {
                table: [
                    dict(row._mapping) for row in conn.execute(text(f'SELECT * FROM "{table}"'))
                ]
                for table in self.tables
            }

    def reset(self) -> None:
        with self.engine.begin() as conn:
            triggers = conn.execute(
                text(
                    "SELECT DISTINCT trigger_name, event_object_table "
                    "FROM information_schema.triggers WHERE trigger_schema = :s"
                ),
                {"s": self.schema},
            ).all()
            for name, table in triggers:
                conn.execute(text(f'DROP TRIGGER IF EXISTS "{name}" ON "{table}"'))
            quoted = ", ".join(f'"{t}"' for t in self.tables)
            conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
            for table, rows in self.seeds.items():
                if rows:
                    cols = list(rows[0])
                    conn.execute(
                        text(
                            f'INSERT INTO "{table}" ({", ".join(cols)}) '
                            f"VALUES ({', '.join(':' + c for c in cols)})"
                        ),
                        rows,
                    )

    def drop(self) -> None:
        self.engine.dispose()
        with self.admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def _postgres_schema() -> Iterator[_PostgresSchema | None]:
    if _postgres_reachable() is not None:
        yield None
        return
    schema = _PostgresSchema()
    try:
        yield schema
    finally:
        schema.drop()


@pytest.fixture
def postgres_url(_postgres_schema: _PostgresSchema | None) -> str:
    """A migrated PostgreSQL schema, as just migrated (shared by the session, reset per test)."""
    error = _postgres_reachable()
    if error is not None or _postgres_schema is None:
        unavailable("PostgreSQL", error or "unreachable")
    assert _postgres_schema is not None
    _postgres_schema.reset()
    return _postgres_schema.url


@pytest.fixture
def own_postgres_url() -> Iterator[str]:
    """A PostgreSQL schema of this test's own, for tests that change the schema itself."""
    error = _postgres_reachable()
    if error is not None:
        unavailable("PostgreSQL", error)
    schema = f"gw_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    try:
        upgrade(url)
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest) -> str:
    """A migrated store on each backend: the same test runs on SQLite and on PostgreSQL."""
    if request.param == "postgres":
        request.node.add_marker(pytest.mark.postgres)
        return str(request.getfixturevalue("postgres_url"))
    return str(request.getfixturevalue("sqlite_url"))


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    eng = create_store_engine(store_url)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    eng = create_store_engine(sqlite_url)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def session_maker(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


# --- Redis ----------------------------------------------------------------------------------


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis database (flushed before and after)."""
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.ping()
    except Exception as exc:  # any failure to connect means "not here"
        unavailable("Redis", f"{REDIS_URL}: {exc.__class__.__name__}: {exc}")
    client.flushdb()
    try:
        yield REDIS_URL
    finally:
        client.flushdb()
        client.close()


# --- Chromium -------------------------------------------------------------------------------


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        unavailable("Chromium", f"{CHROMIUM} not found (apt-get install chromium)")
    return CHROMIUM


# --- settings -------------------------------------------------------------------------------


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, sqlite_url: str, tmp_path: Path) -> Iterator[str]:
    """Point graphwarden's settings at a fresh migrated SQLite store for CLI tests."""
    monkeypatch.setenv("GRAPHWARDEN_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("GRAPHWARDEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("GRAPHWARDEN_REDIS_URL", raising=False)
    get_settings.cache_clear()
    yield sqlite_url
    get_settings.cache_clear()
