"""``graphwarden serve``: run the Graph API (and the pages mounted with it) under uvicorn.

The application is built by the import-string factory ``graphwarden.server:app_from_env``
so that every worker builds its own from the environment; enforcement is always on.

The ledger runs deferred (unless ``GRAPHWARDEN_LEDGER_INTEGRATION=inline`` says otherwise):
the workers make each response's records durable before its body leaves and one integrator
process (``graphwarden ledger integrate --follow``, started here and restarted if it dies)
hashes them into the Merkle tree and signs the heads a fraction of a second later.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from typing import Annotated

import typer

from graphwarden.core.config import ensure_data_dir, get_settings
from graphwarden.core.db import check_schema, create_store_engine
from graphwarden.core.errors import ConfigError
from graphwarden.ledger.signing import LedgerSigner

log = logging.getLogger(__name__)

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
    ensure_data_dir(get_settings().data_dir)
    engine = create_store_engine(get_settings().database_url)
    try:
        check_schema(engine)
    finally:
        engine.dispose()

    run_server(host=host, port=port, workers=workers, log_level=log_level)


def run_server(*, host: str, port: int, workers: int = 1, log_level: str = "info") -> None:
    """uvicorn on the platform's factory, with the ledger's integrator beside it (unless
    ``GRAPHWARDEN_LEDGER_INTEGRATION=inline``); returns when the server stops."""
    os.environ.setdefault("GRAPHWARDEN_LEDGER_INTEGRATION", "deferred")
    get_settings.cache_clear()  # the workers (and this process) read the choice above
    integrator = None
    if get_settings().ledger_integration == "deferred":
        LedgerSigner.load_or_create(get_settings().data_dir)  # created once, before anyone
        integrator = IntegratorProcess()
        integrator.start()

    import uvicorn

    from graphwarden.server import logging_config

    try:
        uvicorn.run(
            APP_FACTORY,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            log_config=logging_config(log_level),
            proxy_headers=False,
        )
    finally:
        if integrator is not None:
            integrator.stop()


class IntegratorProcess:
    """``graphwarden ledger integrate --follow`` as a child process, restarted if it exits
    while the server runs, stopped (it signs a last head) when the server stops."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._watch = threading.Thread(target=self._watchdog, name="integrator-watch", daemon=True)

    def _spawn(self) -> subprocess.Popen[bytes]:
        code = "from graphwarden.cli.main import main; main()"
        argv = [sys.executable, "-c", code, "ledger", "integrate", "--follow"]
        argv += ["--parent-pid", str(os.getpid())]
        return subprocess.Popen(argv, stdout=subprocess.DEVNULL)  # noqa: S603 - fixed argv

    def start(self) -> None:
        self._proc = self._spawn()
        self._watch.start()

    def _watchdog(self) -> None:
        while not self._stopping.wait(1.0):
            proc = self._proc
            if proc is not None and proc.poll() is not None:
                log.warning("the ledger integrator exited (%s): restarting it", proc.returncode)
                self._proc = self._spawn()

    def stop(self) -> None:
        self._stopping.set()
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


__all__ = ["APP_FACTORY", "IntegratorProcess", "run_server", "serve_command"]
