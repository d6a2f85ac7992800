"""``graphwarden``: the command line entry point.

Every command is a thin layer over the library. Errors the library raises on purpose
(:class:`~graphwarden.core.errors.GraphwardenError`) become one line on stderr and exit code 2;
usage errors exit 2 as well; nothing prints a traceback for bad input. This is also the one
place where operator errors are translated: a store failure the library did not wrap names the
store (URL without its password) and the driver's reason; a file or directory that cannot be
created or written (an unwritable ``GRAPHWARDEN_DATA_DIR``) names the path and the setting
that moves it.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, NoReturn

import typer
from sqlalchemy.exc import SQLAlchemyError
from typer import exceptions as typer_exceptions

from graphwarden import __version__
from graphwarden.core.config import get_settings, unwritable_path
from graphwarden.core.db import store_error
from graphwarden.core.errors import GraphwardenError


def _plain_help_types() -> None:
    """Help without placeholders a person cannot type: Typer shows ``<bool>`` after every
    flag (``--json <bool>``), though a flag takes no value, and ``<list[Path]>`` after a
    repeatable option; flags show nothing, repeatable options their item (``<path>...``)."""
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        if self.is_flag:
            return None
        label = shown(self, ctx)
        if label is not None and label.startswith("<list[") and label.endswith("]>"):
            return f"<{label[6:-2].lower()}>..."
        return label

    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_plain_help_types()

app = typer.Typer(
    name="graphwarden",
    help="graphwarden: a social platform's data-access layer with one policy decision point "
    "and a verifiable disclosure ledger.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: (module, attribute, name, help): the sub-command groups and commands
_MOUNTS: tuple[tuple[str, str, str, str], ...] = (
    ("graphwarden.cli.db", "app", "db", "Migrate and inspect the relational store."),
    ("graphwarden.cli.apps", "app", "apps", "Register and inspect apps."),
    ("graphwarden.cli.portal", "roles_app", "roles", "App roles (admin, developer, tester)."),
    ("graphwarden.cli.portal", "secret_app", "secret", "Rotate an app's secret."),
    ("graphwarden.cli.tokens", "app", "tokens", "Issue developer test tokens."),
    ("graphwarden.cli.users", "app", "users", "List people."),
    ("graphwarden.cli.admins", "app", "admins", "Platform administrators."),
    ("graphwarden.cli.review", "app", "review", "App Review: the queue and decisions."),
    ("graphwarden.cli.ledger", "app", "ledger", "Verify, prove and export the disclosure ledger."),
    ("graphwarden.cli.populate", "graph_app", "graph", "Graph statistics and calibration."),
    ("graphwarden.cli.populate", "populate_command", "populate", "Generate a population."),
    ("graphwarden.cli.serve", "serve_command", "serve", "Run the Graph API and pages."),
    ("graphwarden.cli.replay", "app", "replay", "Replay scenarios such as quiz-2014."),
    ("graphwarden.cli.incident", "app", "incident", "Incident response: blast radius, notices."),
    ("graphwarden.cli.whatif", "whatif_command", "whatif", "Disclosures under another policy."),
    ("graphwarden.cli.demo", "demo_command", "demo", "Populate, replay quiz-2014 and serve."),
)


def _mount(target: typer.Typer) -> None:
    for module_name, attribute, name, help_text in _MOUNTS:
        obj: Any = getattr(importlib.import_module(module_name), attribute)
        if isinstance(obj, typer.Typer):
            target.add_typer(obj, name=name, help=help_text)
        else:
            target.command(name=name, help=help_text)(obj)


@app.command("version")
def version() -> None:
    """Print graphwarden's version."""
    typer.echo(__version__)


_mount(app)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; library errors become one line on stderr and exit code 2."""
    try:
        # without standalone mode, click returns the code of an ``Exit`` instead of exiting
        code = app(args=argv, standalone_mode=False)
        if isinstance(code, int) and code != 0:
            sys.exit(code)
    except GraphwardenError as exc:
        _error(str(exc) or exc.__class__.__name__)
    except SQLAlchemyError as exc:
        _error(str(_store_error(exc)))
    except OSError as exc:
        if exc.filename is None:  # not about a path (a closed pipe, a socket): not ours
            raise
        _error(str(unwritable_path(exc)))
    except typer.Abort:
        typer.echo("graphwarden: aborted", err=True)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer_exceptions.TyperException as exc:
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            typer.echo(f"graphwarden: error: {exc}", err=True)
        sys.exit(2)


def _error(message: str) -> NoReturn:
    """One line on stderr (a message that spans lines is joined), exit code 2."""
    line = " ".join(part.strip() for part in message.splitlines() if part.strip())
    typer.echo(f"graphwarden: error: {line}", err=True)
    sys.exit(2)


def _store_error(exc: SQLAlchemyError) -> GraphwardenError:
    try:
        url = get_settings().database_url
    except GraphwardenError:
        url = "<unconfigured>"
    return store_error(url, exc)


if __name__ == "__main__":
    main()
