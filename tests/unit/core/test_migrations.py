"""Migrations and models agree, on SQLite and PostgreSQL; the store refuses a wrong schema."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text

import graphwarden.analytics.incident_models
import graphwarden.consent.models
import graphwarden.consent.oauth_models
import graphwarden.consent.platform_models
import graphwarden.consent.sessions
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


def test_leaf_hashes_move_to_their_batch_and_back(own_url: str) -> None:
    """0005 moves each record's stored leaf hash into its batch, as stored (a hash that no
    longer matches its record stays as it was, for verify to find), and back on downgrade."""
    cfg = alembic_config(own_url)
    command.downgrade(cfg, "0004")
    leaves = {seq: bytes([seq]) * 32 for seq in range(5)}
    leaves[3] = b"\xee" * 32  # a record altered before the upgrade keeps its stale hash
    engine = create_store_engine(own_url)
    try:
        with engine.begin() as conn:
            for batch_id, first, count in ((0, 0, 2), (1, 2, 3)):
                conn.execute(
                    text(
                        "INSERT INTO disclosure_batches (id, request_id, at_us, app_id, "
                        "api_version, owner_id, first_seq, count) VALUES "
                        "(:id, 'r', 1, 7, 'v1.0', 1, :first, :count)"
                    ),
                    {"id": batch_id, "first": first, "count": count},
                )
                for seq in range(first, first + count):
                    conn.execute(
                        text(
                            "INSERT INTO disclosures (seq, batch_id, subject_id, field, "
                            "rule_id, leaf_hash) VALUES (:seq, :b, 2, 'name', 'r1', :h)"
                        ),
                        {"seq": seq, "b": batch_id, "h": leaves[seq]},
                    )
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            blobs = dict(conn.execute(text("SELECT id, leaf_hashes FROM disclosure_batches")).all())
        assert bytes(blobs[0]) == leaves[0] + leaves[1]
        assert bytes(blobs[1]) == leaves[2] + leaves[3] + leaves[4]
        command.downgrade(cfg, "0004")
        with engine.connect() as conn:
            back = dict(conn.execute(text("SELECT seq, leaf_hash FROM disclosures")).all())
        assert {int(k): bytes(v) for k, v in back.items()} == leaves
        command.upgrade(cfg, "head")
    finally:
        engine.dispose()
