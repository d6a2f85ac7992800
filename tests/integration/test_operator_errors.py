"""Operator errors are one line naming what is wrong and how to fix it, exit code 2, on every
command: an unwritable data directory or database path, an unreachable PostgreSQL, a corrupt or
locked SQLite file, a missing database driver. Each runs the CLI's entry point,
``graphwarden.cli.main.main`` (the one place that turns errors into lines), in this process
for speed; ``serve`` and the missing driver run in a subprocess, as the operator would."""

from __future__ import annotations

import contextlib
import io
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from graphwarden.cli.main import main
from graphwarden.core.config import get_settings
from graphwarden.core.db import store_error

CODE = "import sys; from graphwarden.cli.main import main; main()"
NO_PSYCOPG = (
    "import sys; sys.modules['psycopg'] = None; from graphwarden.cli.main import main; main()"
)

#: commands that need the store, the data directory, or both
COMMANDS = [
    ["db", "upgrade"],
    ["db", "status"],
    ["apps", "list"],
    ["users", "list"],
    ["ledger", "stats"],
    ["ledger", "integrate"],
    ["ledger", "prove", "--seq", "0"],
    ["serve", "--port", "0"],
]


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _cli(args: list[str], env: dict[str, str], code: str = CODE) -> tuple[int, str]:
    if args[0] != "serve" and code == CODE:
        return _in_process(args, env)
    full = {**os.environ, **env}
    full.pop("GRAPHWARDEN_REDIS_URL", None)
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return proc.returncode, proc.stderr


def _in_process(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    get_settings.cache_clear()
    err = io.StringIO()
    code = 0
    try:
        with contextlib.redirect_stderr(err):
            main(args)
    except SystemExit as exited:
        code = int(exited.code or 0)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()
    return code, err.getvalue()


def _one_line(code: int, err: str) -> str:
    assert code == 2, err
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("graphwarden: error: ")
    return lines[0]


@pytest.fixture
def blocked(tmp_path: Path) -> Path:
    """A path no user can create a directory at (its parent is a regular file): unwritable
    even for root, unlike a mode-0555 directory."""
    (tmp_path / "a-file").write_text("")
    return tmp_path / "a-file" / "data"


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_unwritable_data_dir_holding_the_default_store(blocked: Path, args: list[str]) -> None:
    env = {"GRAPHWARDEN_DATA_DIR": str(blocked), "GRAPHWARDEN_DATABASE_URL": ""}
    line = _one_line(*_cli(args, env))
    assert str(blocked) in line
    assert "GRAPHWARDEN_DATA_DIR" in line or "GRAPHWARDEN_DATABASE_URL" in line


@pytest.mark.parametrize(
    "args", [["serve", "--port", "0"], ["ledger", "integrate"], ["ledger", "prove", "--seq", "0"]]
)
def test_unwritable_data_dir_beside_a_working_store(
    blocked: Path, sqlite_url: str, args: list[str]
) -> None:
    env = {"GRAPHWARDEN_DATA_DIR": str(blocked), "GRAPHWARDEN_DATABASE_URL": sqlite_url}
    line = _one_line(*_cli(args, env))
    assert str(blocked) in line
    assert "set GRAPHWARDEN_DATA_DIR" in line


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a mode-0555 directory anyway")
def test_read_only_data_dir(tmp_path: Path, sqlite_url: str) -> None:
    data = tmp_path / "ro"
    data.mkdir(mode=0o555)
    env = {"GRAPHWARDEN_DATA_DIR": str(data), "GRAPHWARDEN_DATABASE_URL": sqlite_url}
    line = _one_line(*_cli(["ledger", "integrate"], env))
    assert str(data) in line


def test_unwritable_database_path(blocked: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{blocked}/graphwarden.db"
    for args in (["db", "upgrade"], ["apps", "list"]):
        env = {"GRAPHWARDEN_DATA_DIR": str(tmp_path / "data"), "GRAPHWARDEN_DATABASE_URL": url}
        line = _one_line(*_cli(args, env))
        assert str(blocked) in line
        assert "GRAPHWARDEN_DATABASE_URL" in line


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once the socket is closed


@pytest.mark.parametrize("args", [["db", "upgrade"], ["apps", "list"], ["serve", "--port", "0"]])
def test_unreachable_postgres_names_the_store_but_not_its_password(
    tmp_path: Path, args: list[str]
) -> None:
    url = f"postgresql+psycopg://gw:s3cret-pw@127.0.0.1:{_closed_port()}/graphwarden"
    env = {"GRAPHWARDEN_DATA_DIR": str(tmp_path), "GRAPHWARDEN_DATABASE_URL": url}
    line = _one_line(*_cli(args, env))
    assert "postgresql+psycopg://gw:***@127.0.0.1" in line
    assert "s3cret-pw" not in line
    assert "refused" in line.lower()


@pytest.mark.parametrize("args", [["db", "upgrade"], ["apps", "list"], ["ledger", "stats"]])
def test_corrupt_sqlite_file(tmp_path: Path, args: list[str]) -> None:
    db = tmp_path / "graphwarden.db"
    db.write_bytes(b"this is not a database " * 300)
    env = {"GRAPHWARDEN_DATA_DIR": str(tmp_path), "GRAPHWARDEN_DATABASE_URL": f"sqlite:///{db}"}
    line = _one_line(*_cli(args, env))
    assert str(db) in line
    assert "not a database" in line


def test_missing_database_driver(tmp_path: Path) -> None:
    url = "postgresql+psycopg://gw:pw@db.example/graphwarden"
    env = {"GRAPHWARDEN_DATA_DIR": str(tmp_path), "GRAPHWARDEN_DATABASE_URL": url}
    line = _one_line(*_cli(["apps", "list"], env, code=NO_PSYCOPG))
    assert "postgresql+psycopg://gw:***@db.example/graphwarden" in line
    assert "psycopg" in line.split("db.example/graphwarden", 1)[1]
    assert "not installed" in line


def test_locked_sqlite_names_the_store_and_the_lock(sqlite_url: str, tmp_path: Path) -> None:
    """A write lock held by another process: the driver's own error, as the store reports it.
    (Through the CLI it only shows after the 30 s busy timeout, too slow for the suite.)"""
    path = sqlite_url.removeprefix("sqlite:///")
    holder = sqlite3.connect(path, timeout=0, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with pytest.raises(sqlite3.OperationalError) as caught:
            other.execute("BEGIN IMMEDIATE")
    finally:
        other.close()
        holder.execute("ROLLBACK")
        holder.close()
    message = str(store_error(sqlite_url, caught.value))
    assert message.startswith(f"the store {sqlite_url}: database is locked")
    assert "another process" in message
    assert "\n" not in message


def test_a_working_store_still_works(sqlite_url: str, tmp_path: Path) -> None:
    env = {"GRAPHWARDEN_DATA_DIR": str(tmp_path), "GRAPHWARDEN_DATABASE_URL": sqlite_url}
    code, err = _cli(["apps", "list", "--json"], env)
    assert code == 0, err
