"""Alembic environment: runs migrations on the URL given by graphwarden's config."""

from __future__ import annotations

import importlib

from alembic import context

from graphwarden.core.db import Base, create_store_engine

# every package that declares tables; importing registers them on Base.metadata
for _module in (
    "graphwarden.graph.models",
    "graphwarden.consent.models",
    "graphwarden.consent.oauth_models",
    "graphwarden.consent.platform_models",
    "graphwarden.consent.sessions",
    "graphwarden.ledger.models",
    "graphwarden.analytics.incident_models",
):
    try:
        importlib.import_module(_module)
    except ModuleNotFoundError as exc:  # a package not yet shipped declares no tables
        if exc.name != _module:
            raise

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = create_store_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
