"""The relational store's plumbing: declarative base, engines, sessions, schema checks.

One schema for SQLite (embedded default, WAL mode) and PostgreSQL (production). Tables are
declared by each domain package on :class:`Base`; Alembic migrations in
``graphwarden/migrations`` create them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from graphwarden.core.errors import SchemaError, StoreError

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

_NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=_NAMING)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # every commit durable (a consent, a revocation, a ledger append): one WAL fsync per commit
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def create_store_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite files get their directory created and WAL mode.

    Raises ``StoreError`` naming the store and the reason when the SQLite file's directory
    cannot be created or the database driver is not installed."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:":
            folder = Path(db).parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"the store {safe_url(url)}: cannot create its directory {folder} "
                    f"({exc.strerror or exc.__class__.__name__}); set GRAPHWARDEN_DATABASE_URL "
                    "(or GRAPHWARDEN_DATA_DIR, which holds the default store) to a writable place"
                ) from exc
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = _create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return _create_engine(url, **kwargs)


def _create_engine(url: str, **kwargs: Any) -> Engine:
    try:
        return create_engine(url, **kwargs)
    except ImportError as exc:  # the DB-API driver is not installed
        module = exc.name or str(exc)
        raise StoreError(
            f"the store {safe_url(url)} needs the Python driver {module!r}, which is not "
            "installed: install it (`pip install 'psycopg[binary]'` for PostgreSQL)"
        ) from exc
    except NoSuchModuleError as exc:
        raise StoreError(f"the store {safe_url(url)}: unknown database dialect ({exc})") from exc


def safe_url(url: str | URL) -> str:
    """``url`` as it may be shown to an operator: the password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<unparseable database URL>"


#: what an operator can do about the commonest store failures, by a word in the reason
_HINTS = (
    ("database is locked", "another process holds a write lock on it; stop it or retry"),
    (
        "file is not a database",
        "it is not a SQLite database (corrupt or another file); "
        "restore it from a backup or point GRAPHWARDEN_DATABASE_URL elsewhere",
    ),
    ("database disk image is malformed", "the SQLite file is corrupt; restore it from a backup"),
    ("unable to open database file", "check that the file's directory exists and is writable"),
    ("readonly database", "the file or its directory is read-only for this user"),
    ("connection refused", "is the database server running and reachable?"),
    ("could not translate host name", "the host name does not resolve"),
    ("name or service not known", "the host name does not resolve"),
    ("password authentication failed", "check the user and password in the URL"),
    ("does not exist", "create it, or fix the name in GRAPHWARDEN_DATABASE_URL"),
)


def store_error(url: str | URL, exc: BaseException, doing: str = "") -> StoreError:
    """A ``StoreError`` that names the store (its URL without the password) and the reason
    the driver gave, on one line, with what to do about the common cases.

    >>> str(store_error("postgresql+psycopg://u:pw@db/x", OSError("Connection refused")))[:52]
    'the store postgresql+psycopg://u:***@db/x: Connection'
    """
    cause = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(cause).strip().splitlines() if line.strip()]
    reason = lines[0] if lines else cause.__class__.__name__
    hint = next((h for word, h in _HINTS if word in str(cause).lower()), None)
    where = f"the store {safe_url(url)}" + (f" ({doing})" if doing else "")
    return StoreError(f"{where}: {reason}" + (f" ({hint})" if hint else ""))


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits on success and rolls back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except SQLAlchemyError as exc:
        session.rollback()
        bind = session.get_bind()
        raise store_error(bind.url, exc) from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    head = script.get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise SchemaError("no migrations shipped")
    return head


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        raise store_error(engine.url, exc, "cannot connect") from exc


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` to ``revision``."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def check_schema(engine: Engine) -> None:
    """Fail fast, with what to run, unless the database is exactly at this code's head."""
    current = current_revision(engine)
    head = head_revision()
    if current is None:
        raise SchemaError("the database is not migrated: run `graphwarden db upgrade`")
    if current != head:
        from alembic.script import ScriptDirectory

        script = ScriptDirectory.from_config(alembic_config("sqlite://"))
        known = {rev.revision for rev in script.walk_revisions()}
        if current not in known:
            raise SchemaError(
                f"the database schema ({current}) is newer than this graphwarden "
                f"(head {head}): upgrade graphwarden"
            )
        raise SchemaError(
            f"the database schema is at {current}, this code needs {head}: "
            "run `graphwarden db upgrade`"
        )


__all__ = [
    "Base",
    "check_schema",
    "create_store_engine",
    "current_revision",
    "head_revision",
    "safe_url",
    "session_factory",
    "store_error",
    "transaction",
    "upgrade",
]
