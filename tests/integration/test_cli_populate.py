"""``graphwarden populate`` and ``graphwarden graph stats`` through the CLI runner on a fresh
migrated SQLite store: a small deterministic population with every field filled, JSON and
table output, and bad input exiting 2 with one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from graphwarden.cli.main import app as cli
from graphwarden.cli.main import main
from graphwarden.core.config import get_settings
from graphwarden.core.db import create_store_engine

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_populate_small_town_fills_every_field(cli_env: str, tmp_path: Path) -> None:
    code, out, err = invoke(
        "populate", "--users", "50", "--seed", "7", "--json", "--save", str(tmp_path / "p.npz")
    )
    assert code == 0, err
    summary = json.loads(out)
    assert summary["people"] == 50
    assert summary["load"]["rows"]["friendships"] == 2 * summary["friendships"]
    engine = create_store_engine(cli_env)
    try:
        with engine.connect() as conn:
            people = conn.execute(text("SELECT * FROM people ORDER BY id")).mappings().all()
            assert [p["id"] for p in people] == list(range(1, 51))
            for person in people:
                for column, value in person.items():
                    assert value is not None, (person["id"], column)
                    assert value != "", (person["id"], column)
            likes = conn.execute(text("SELECT count(DISTINCT person_id) FROM likes")).scalar()
            assert likes == 50
            audiences = conn.execute(text("SELECT count(*) FROM field_audiences")).scalar()
            assert audiences == 50
    finally:
        engine.dispose()
    # the saved file and the store give the same statistics
    code, from_file, err = invoke("graph", "stats", "--from", str(tmp_path / "p.npz"), "--json")
    assert code == 0, err
    code, from_store, err = invoke("graph", "stats", "--json")
    assert code == 0, err
    assert json.loads(from_file)["stats"] == json.loads(from_store)["stats"]


def test_populate_twice_needs_replace(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert invoke("populate", "--users", "30", "--seed", "1", "--json")[0] == 0
    with pytest.raises(SystemExit) as exit_info:
        main(["populate", "--users", "30", "--seed", "1", "--json"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--replace" in err
    assert len(err.strip().splitlines()) == 1
    code, out, err = invoke("populate", "--users", "40", "--seed", "1", "--replace", "--json")
    assert code == 0, err
    assert json.loads(out)["people"] == 40


def test_table_output_and_stats(cli_env: str) -> None:
    code, out, err = invoke("populate", "--users", "80", "--seed", "3", "--stats")
    assert code == 0, err
    assert "Population" in out
    assert "median_degree" in out


def test_no_store_does_not_need_a_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GRAPHWARDEN_DATABASE_URL", f"sqlite:///{tmp_path / 'absent.db'}")
    get_settings.cache_clear()
    try:
        code, out, err = invoke("populate", "--users", "20", "--seed", "2", "--no-store", "--json")
        assert code == 0, err
        assert json.loads(out)["load"] is None
        code, _, err = invoke("populate", "--users", "20", "--seed", "2")
        assert code == 2
        assert "graphwarden db upgrade" in err
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize(
    "args",
    [
        ("populate", "--users", "0", "--seed", "1"),
        ("populate", "--users", "10", "--seed", "-1"),
        ("populate", "--users", "10", "--seed", "1", "--preset", "1999"),
        ("populate", "--users", "10", "--seed", "1", "--median-friends", "50"),
        ("populate", "--users", "10", "--seed", "1", "--median-friends", "90",
         "--mean-friends", "20"),
        ("graph", "stats", "--from", "/nonexistent/file.npz"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_one_line(cli_env: str, args: tuple[str, ...]) -> None:
    code, out, err = invoke(*args)
    assert code == 2, (out, err)
    assert "Traceback" not in err + out
