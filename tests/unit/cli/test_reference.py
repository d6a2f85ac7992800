"""The CLI reference and the settings table are complete and in step with the code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import graphwarden
from graphwarden.cli.reference import render, undocumented

ROOT = Path(__file__).resolve().parents[3]
SRC = Path(graphwarden.__file__).resolve().parent


def test_docs_cli_md_is_the_rendering_of_the_commands() -> None:
    assert (ROOT / "docs" / "cli.md").read_text(encoding="utf-8") == render(), (
        "docs/cli.md is stale: run `python -m graphwarden.cli.reference > docs/cli.md`"
    )


def test_every_command_says_what_it_does() -> None:
    assert undocumented() == []


def test_every_setting_read_from_the_environment_is_in_the_readme() -> None:
    used: set[str] = set()
    for path in SRC.rglob("*.py"):
        used |= set(re.findall(r'"(GRAPHWARDEN_[A-Z_]+)"', path.read_text(encoding="utf-8")))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = sorted(name for name in used if f"`{name}`" not in readme)
    assert missing == [], f"settings missing from the README's configuration table: {missing}"


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "graphwarden.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_usage_errors_exit_2_without_a_traceback() -> None:
    for args in (["no-such-command"], ["db", "status", "--no-such-option"]):
        done = _cli(*args)
        assert done.returncode == 2, done
        assert "Traceback" not in done.stderr


def test_library_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "GRAPHWARDEN_DATABASE_URL": "mysql://nowhere/db"}
    done = _cli("users", "list", env=env)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert done.stderr.startswith("graphwarden: error: GRAPHWARDEN_DATABASE_URL")

    env = {**os.environ, "GRAPHWARDEN_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    done = _cli("users", "list", env=env)
    assert done.returncode == 2
    assert "graphwarden db upgrade" in done.stderr
    assert "Traceback" not in done.stderr
