"""What every CLI command shares: opening the store, printing JSON or a table, failing.

Commands stay thin: they parse arguments, call the library, and print. Errors the library
raises on purpose become one line on stderr and exit code 2 here, so a command behaves the
same whether it runs under ``graphwarden`` or under a test runner.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import IO, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from graphwarden.core.config import get_settings
from graphwarden.core.db import check_schema, create_store_engine
from graphwarden.core.errors import GraphwardenError

try:  # recent typer ships its own copy of click, whose exceptions its commands catch
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover - typer on the click package
    from click import ClickException  # type: ignore[assignment]

#: exit code for bad input and for errors the library reports on purpose
EXIT_ERROR = 2


class CommandError(GraphwardenError, ClickException):
    """A command cannot do what was asked: one line on stderr, exit code 2.

    Both a ``GraphwardenError`` and click's ``ClickException`` so that the exit code survives
    either way a command runs: ``graphwarden.cli.main`` runs click non-standalone and turns
    any ``GraphwardenError`` into one line and exit 2; click's standalone mode (a test runner)
    shows a ``ClickException`` and exits with its ``exit_code``. (``typer.Exit`` would not do:
    non-standalone, click returns its code instead of exiting with it.)
    """

    exit_code = EXIT_ERROR

    def show(self, file: IO[Any] | None = None) -> None:
        """One line on stderr, as ``graphwarden.cli.main`` prints library errors."""
        typer.echo(f"graphwarden: error: {self.format_message()}", err=True)


def fail(message: str) -> NoReturn:
    """Print ``message`` as one line on stderr and exit with code 2."""
    raise CommandError(message)


def open_engine() -> Engine:
    """An engine on the configured store, checked to be at this code's schema.

    Raises ``SchemaError`` (with what to run) when it is not migrated.
    """
    engine = create_store_engine(get_settings().database_url)
    try:
        check_schema(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


@contextmanager
def opened_store() -> Iterator[Engine]:
    """The checked engine for one command; library errors become :func:`fail`."""
    try:
        engine = open_engine()
    except GraphwardenError as exc:
        fail(str(exc))
    try:
        yield engine
    except GraphwardenError as exc:
        fail(str(exc))
    finally:
        engine.dispose()


def operator() -> str:
    """Who runs the command, for records such as ``issued_by = "cli:<operator>"``."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return "unknown"


def split_list(value: str | None) -> list[str]:
    """``"a, b,,c"`` → ``["a", "b", "c"]`` (order kept, duplicates dropped)."""
    items = [part.strip() for part in (value or "").split(",")]
    return list(dict.fromkeys(item for item in items if item))


def print_json(obj: Any) -> None:
    """Print ``obj`` as one JSON document on stdout."""
    typer.echo(json.dumps(obj, default=str))


def print_table(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str], *, title: str | None = None
) -> None:
    """Print ``rows`` as a readable table with ``columns`` (keys of each row)."""
    table = Table(title=title)
    for name in columns:
        table.add_column(name)
    for row in rows:
        table.add_row(*(_cell(row.get(name)) for name in columns))
    Console(soft_wrap=True).print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(v) for v in value)
    return str(value)


__all__ = [
    "EXIT_ERROR",
    "CommandError",
    "fail",
    "open_engine",
    "opened_store",
    "operator",
    "print_json",
    "print_table",
    "split_list",
]
