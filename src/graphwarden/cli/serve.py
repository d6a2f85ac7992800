"""``graphwarden serve``: run the Graph API (and the pages mounted with it) under uvicorn.

The application is built by the import-string factory ``graphwarden.server:app_from_env``
so that every worker builds its own from the environment; enforcement is always on.
"""

from __future__ import annotations

from typing import Annotated

import typer

from graphwarden.core.config import get_settings
from graphwarden.core.db import check_schema, create_store_engine
from graphwarden.core.errors import ConfigError

APP_FACTORY = "graphwarden.server:app_from_env"


def serve_command(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (0..65535).")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (1..64).")] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Run the Graph API server until interrupted."""
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535, got {port}")
    if not 1 <= workers <= 64:
        raise ConfigError(f"--workers must be between 1 and 64, got {workers}")
    if log_level not in ("critical", "error", "warning", "info", "debug", "trace"):
        raise ConfigError(f"--log-level {log_level!r} is not a uvicorn log level")
    # Refuse early, with what to run, instead of letting every worker fail on its own.
    engine = create_store_engine(get_settings().database_url)
    try:
        check_schema(engine)
    finally:
        engine.dispose()

    import uvicorn

    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        proxy_headers=False,
    )


__all__ = ["APP_FACTORY", "serve_command"]
