"""``graphwarden demo``: replay quiz-2014 on a laptop-sized platform, then serve what it left.

1. checks every option, and that the port is free, before any work; refuses to overwrite an
   earlier demo in the same directory unless asked (``--replace``, or yes at the prompt);
2. generates the population (default 20,000 people, preset 2014, seed 1) and replays
   quiz-2014 under v1.0, v2.0 and v3.0 with the **api** engine: every installer signs in,
   passes the consent screen and gets a token, and the quiz reads through the HTTP Graph API,
   which decides every field with the policy and records it in the ledger first. Each
   version runs in its own store under ``--out`` (default ``<data dir>/demo``);
3. prints the headline table, the report's path, and who to sign in as: one installer of the
   quiz and one friend of an installer whose data the quiz took without their consent;
4. serves the v1.0 run's store — the quiz app, its installers and the people it exposed, with
   the ledger that recorded it — on 127.0.0.1 with demo sign-in on (``--no-serve`` stops after
   the report).
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from graphwarden.core.config import get_settings
from graphwarden.core.errors import InvalidInput

#: the run whose store the demo serves: the 2014 rules, under which the harvest happened
SERVED_VERSION = "v1.0"
_MARKERS = ("summary.json", "v1.0", "v2.0", "v3.0", "template.db")


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite store URL; ``None`` for another database or an in-memory one.

    >>> sqlite_file("sqlite:///data/graphwarden.db")
    PosixPath('data/graphwarden.db')
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def check_port(port: int, host: str = "127.0.0.1") -> None:
    """``InvalidInput`` unless ``port`` is a TCP port number that is free on ``host`` now."""
    if not 1 <= port <= 65535:
        raise InvalidInput(f"--port must be between 1 and 65535, got {port}")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # as uvicorn binds: a port left in TIME_WAIT is free, one being listened on is not
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            busy = exc.errno == errno.EADDRINUSE
            why = "is in use" if busy else f"cannot be used ({exc.strerror})"
            raise InvalidInput(f"port {port} on {host} {why}: choose another with --port") from exc


def check_options(users: int, install_rate: float) -> None:
    """``InvalidInput`` for a population or install rate the demo cannot run."""
    if users < 2:
        raise InvalidInput(f"--users must be at least 2, got {users}")
    if users > 2_000_000:
        raise InvalidInput(
            f"--users {users:,} is more than a demo replays through the HTTP API in reasonable "
            "time (at most 2,000,000); use `graphwarden replay quiz-2014 --engine bulk`"
        )
    if not 0.0 < install_rate <= 1.0:
        raise InvalidInput(f"--install-rate must be in (0, 1], got {install_rate}")


def earlier_demo(out: Path) -> bool:
    """Whether ``out`` holds what an earlier demo or replay wrote."""
    return out.is_dir() and any((out / name).exists() for name in _MARKERS)


def clear_demo(out: Path) -> None:
    """Remove what an earlier demo wrote under ``out`` (and nothing else)."""
    for name in (*_MARKERS, "curves.json", "report.html", "people.parquet"):
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


def demo_people(engine: Engine, quiz_id: int) -> tuple[int | None, int | None]:
    """One installer of the quiz (a person who authorized it), and one person whose data the
    quiz received through a friend while never authorizing it themselves: the two sign-ins
    the demo suggests. Read from the run's own store and ledger."""
    with engine.connect() as conn:
        installer = conn.execute(
            text(
                "SELECT MIN(person_id) FROM authorizations "
                "WHERE app_id = :a AND removed_at IS NULL"
            ),
            {"a": quiz_id},
        ).scalar()
        friend = conn.execute(
            text(
                "SELECT MIN(d.subject_id) FROM disclosures d "
                "JOIN disclosure_batches b ON b.id = d.batch_id "
                "WHERE b.app_id = :a AND d.subject_id <> b.owner_id AND NOT EXISTS ("
                "SELECT 1 FROM authorizations z WHERE z.person_id = d.subject_id)"
            ),
            {"a": quiz_id},
        ).scalar()
    return (None if installer is None else int(installer), None if friend is None else int(friend))


def demo_command(
    users: Annotated[int, typer.Option("--users", help="People in the population.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of population and traffic.")] = 1,
    install_rate: Annotated[
        float, typer.Option("--install-rate", help="Share of people who install the quiz.")
    ] = 0.002,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Where the runs' stores and the report go [<data dir>/demo]."),
    ] = None,
    replace: Annotated[
        bool,
        typer.Option("--replace", help="Replace an earlier demo in --out without asking."),
    ] = False,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve afterwards.")] = True,
    port: Annotated[int, typer.Option("--port", help="Port to serve on.")] = 8000,
) -> None:
    """Replay quiz-2014 under three versions, print the headline, then serve the v1.0 store."""
    check_options(users, install_rate)
    if serve:
        check_port(port)
    settings = get_settings()
    out = (out or settings.data_dir / "demo").resolve()
    if earlier_demo(out):
        if not replace:
            if not sys.stdin.isatty():
                raise InvalidInput(
                    f"{out} holds an earlier demo; pass --replace to run it again there, "
                    "or --out DIR for another directory"
                )
            typer.confirm(f"{out} holds an earlier demo. Replace it?", abort=True)
        clear_demo(out)
    summary = run_demo(users=users, seed=seed, install_rate=install_rate, out=out)
    store = out / SERVED_VERSION / "graphwarden.db"
    data_dir = out / SERVED_VERSION / "data"
    installer, friend = _suggested_people(store, summary)
    base = f"http://127.0.0.1:{port}"
    for line in guide(summary, out, base, installer, friend, serving=serve):
        typer.echo(line)
    if not serve:
        return
    from graphwarden.cli.serve import run_server

    os.environ["GRAPHWARDEN_DATABASE_URL"] = f"sqlite:///{store}"
    os.environ["GRAPHWARDEN_DATA_DIR"] = str(data_dir)
    os.environ["GRAPHWARDEN_ISSUER"] = base
    os.environ["GRAPHWARDEN_DEMO_LOGIN"] = "1"  # synthetic people sign in as demo-<id>
    get_settings.cache_clear()
    run_server(host="127.0.0.1", port=port)


def run_demo(*, users: int, seed: int, install_rate: float, out: Path) -> dict[str, Any]:
    """Generate, replay the three versions into ``out``; ``summary.json``'s content."""
    from graphwarden.cli.replay import headline_table, replay_quiz
    from graphwarden.simulation.population import generate_population

    console = Console(stderr=True)
    console.print(f"generating {users:,} people (preset 2014, seed {seed}) ...")
    population = generate_population(users, seed, preset_name="2014")
    summary = replay_quiz(
        users=users,
        installers=None,
        install_rate=install_rate,
        seed=seed,
        versions="v1.0,v2.0,v3.0",
        engine="api",
        preset="2014",
        out=out,
        console=console,
        population=population,
    )
    Console().print(headline_table(summary))
    return summary


def _suggested_people(store: Path, summary: dict[str, Any]) -> tuple[int | None, int | None]:
    from graphwarden.core.db import create_store_engine

    quiz = summary["ledgers"][SERVED_VERSION]["quiz_app"]["id"]
    engine = create_store_engine(f"sqlite:///{store}")
    try:
        return demo_people(engine, int(quiz))
    finally:
        engine.dispose()


def guide(
    summary: dict[str, Any],
    out: Path,
    base: str,
    installer: int | None,
    friend: int | None,
    *,
    serving: bool,
) -> list[str]:
    """What the demo prints after the replay: where things are, and what to look at."""
    ledger = summary["ledgers"][SERVED_VERSION]
    quiz = ledger["quiz_app"]
    head = ledger["tree_head"]
    store = out / SERVED_VERSION / "graphwarden.db"
    lines = [
        f"report: {out / 'report.html'}",
        f"served store: {store} (the {SERVED_VERSION} run: the quiz app "
        f"{quiz['name']!r} is app {quiz['id']})",
        f"its ledger: {head['tree_size']:,} records, root {head['root_hash']}",
    ]
    if serving:
        lines.append(f"serving on {base} — sign in at {base}/login:")
    else:
        lines.append("sign-ins for `graphwarden serve` on this store:")
    if installer is not None:
        lines.append(
            f"  installer of the quiz:   person {installer}, password demo-{installer} "
            "(home page: what the quiz took about you and your friends)"
        )
    if friend is not None:
        lines.append(
            f"  exposed friend:          person {friend}, password demo-{friend} — never "
            f"used the quiz; /settings/apps shows {quiz['name']!r} among the apps that "
            "received their data, through a friend"
        )
    lines += [
        f"  also: {base}/docs (API reference), {base}/developers, {base}/ledger/tree-head",
        "to use the CLI on the served store:",
        f"  export GRAPHWARDEN_DATABASE_URL=sqlite:///{store} "
        f"GRAPHWARDEN_DATA_DIR={out / SERVED_VERSION / 'data'}",
        "  graphwarden apps list; graphwarden ledger verify",
    ]
    return lines


__all__ = [
    "SERVED_VERSION",
    "check_options",
    "check_port",
    "clear_demo",
    "demo_command",
    "demo_people",
    "earlier_demo",
    "guide",
    "run_demo",
    "sqlite_file",
]
