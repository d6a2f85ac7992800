"""Migrations and models agree, on SQLite and PostgreSQL; the store refuses a wrong schema."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text

import graphwarden.consent.models
import graphwarden.consent.oauth_models
import graphwarden.consent.platform_models
import graphwarden.graph.models
import graphwarden.ledger.models  # noqa: F401  (registers the tables)
from graphwarden.core.db import (
    Base,
    alembic_config,
    check_schema,
    create_store_engine,
    current_revision,
    head_revision,
)
from graphwarden.core.errors import SchemaError


@pytest.fixture(params=["sqlite", "postgres"])
def own_url(request: pytest.FixtureRequest) -> str:
    """A store of this test's own (these tests change the schema itself)."""
    name = "own_postgres_url" if request.param == "postgres" else "sqlite_url"
    return str(request.getfixturevalue(name))


def test_migrated_schema_equals_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert current_revision(engine) == head_revision()
    check_schema(engine)  # does not raise


def test_downgrade_to_base_and_upgrade_again(own_url: str) -> None:
    cfg = alembic_config(own_url)
    command.downgrade(cfg, "base")
    engine = create_store_engine(own_url)
    try:
        with pytest.raises(SchemaError, match="graphwarden db upgrade"):
            check_schema(engine)
        command.upgrade(cfg, "head")
        check_schema(engine)
    finally:
        engine.dispose()


def test_an_unmigrated_database_is_refused(tmp_path: object) -> None:
    engine = create_store_engine("sqlite://")
    with pytest.raises(SchemaError, match="not migrated: run `graphwarden db upgrade`"):
        check_schema(engine)


def test_a_newer_schema_is_refused(own_url: str) -> None:
    engine = create_store_engine(own_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
        with pytest.raises(SchemaError, match="newer than this graphwarden"):
            check_schema(engine)
    finally:
        engine.dispose()
