"""``graphwarden replay quiz-2014`` end to end: v1.0 exposes tens of times the installers,
nearly all without consent; v2.0 and v3.0 expose nobody who did not consent."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from graphwarden.cli.main import main


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    try:
        main(["replay", "quiz-2014", *args, "--json"])
    except SystemExit as exc:  # main exits only on failure
        pytest.fail(f"exit {exc.code}: {capsys.readouterr().err}")
    return json.loads(capsys.readouterr().out)


def _check(summary: dict[str, object], out: Path) -> None:
    runs = {r["version"]: r for r in summary["runs"]}  # type: ignore[attr-defined]
    v1 = runs["v1.0"]
    assert v1["exposed_users"] >= 10 * v1["consenting_users"]
    assert v1["non_consenting_exposed"] >= 0.95 * v1["exposed_users"]
    assert runs["v2.0"]["non_consenting_exposed"] == 0
    assert runs["v3.0"]["non_consenting_exposed"] == 0
    assert json.loads((out / "summary.json").read_text())["runs"] == summary["runs"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 5
    assert not re.search(r'(src|href)\s*=\s*["\']?\s*(https?:)?//', html, re.IGNORECASE)


def test_bulk_engine_at_20000_people(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bulk"
    summary = _run(capsys, "--users", "20000", "--install-rate", "0.002", "--seed", "1",
                   "--engine", "bulk", "--out", str(out))  # fmt: skip
    assert summary["population"] == 20000
    assert summary["installers"] == 40
    _check(summary, out)


def test_api_engine_at_2000_people(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "api"
    summary = _run(capsys, "--users", "2000", "--installers", "4", "--seed", "1",
                   "--engine", "api", "--out", str(out))  # fmt: skip
    _check(summary, out)


@pytest.mark.parametrize(
    "args",
    [
        ["--users", "100", "--installers", "2", "--install-rate", "0.1"],
        ["--users", "100", "--installers", "2", "--versions", "v9.9"],
        ["--users", "100", "--installers", "2", "--engine", "warp"],
        ["--users", "100", "--installers", "500"],
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["replay", "quiz-2014", *args, "--out", str(tmp_path), "--json"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("graphwarden: error:")
    assert "\n" not in err
    assert "Traceback" not in err


def test_replay_without_options_installs_a_default_share(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "default"
    summary = _run(capsys, "--users", "3000", "--engine", "bulk", "--out", str(out))
    assert summary["installers"] == 6  # DEFAULT_INSTALL_RATE of 3,000 people


def test_demo_replays_into_its_own_stores_and_leaves_the_configured_one_alone(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlalchemy import text

    from graphwarden.consent.services import SqlConsentService
    from graphwarden.core.clock import SystemClock
    from graphwarden.core.db import create_store_engine

    # an app in the configured store: the demo neither reuses nor changes that store
    engine = create_store_engine(cli_env)
    SqlConsentService(engine, SystemClock()).create_app(
        name="registered-before", api_version="v1.0", permissions=["public_profile"]
    )
    engine.dispose()
    out = tmp_path / "demo"
    try:
        main(["demo", "--users", "1500", "--seed", "2", "--out", str(out), "--no-serve"])
    except SystemExit as exc:
        pytest.fail(f"exit {exc.code}: {capsys.readouterr().err}")
    printed = capsys.readouterr().out
    assert f"report: {out / 'report.html'}" in printed
    assert "exposed friend:" in printed
    assert "installer of the quiz:" in printed
    demo = json.loads((out / "summary.json").read_text())
    assert demo["engine"] == "api"
    assert [r["version"] for r in demo["runs"]] == ["v1.0", "v2.0", "v3.0"]
    run_store = create_store_engine(f"sqlite:///{out / 'v1.0' / 'graphwarden.db'}")
    with run_store.connect() as conn:
        names = set(conn.execute(text("SELECT name FROM apps")).scalars())
        people = conn.execute(text("SELECT count(*) FROM people")).scalar_one()
    run_store.dispose()
    assert "registered-before" not in names
    assert "thisisyourdigitallife" in names
    assert people == 1500
    for ledger in demo["ledgers"].values():
        assert ledger["merkle_root"] == ledger["tree_head"]["root_hash"]
        assert ledger["records_in_store"] == ledger["tree_head"]["tree_size"]
    # a second demo in the same place is refused (no terminal to ask on), then replaced
    with pytest.raises(SystemExit) as refused:
        main(["demo", "--users", "1500", "--out", str(out), "--no-serve"])
    assert refused.value.code == 2
    assert "--replace" in capsys.readouterr().err
    # the same population and installers through the bulk face give the same figures
    bulk = _run(capsys, "--users", "1500", "--install-rate", "0.002", "--seed", "2",
                "--engine", "bulk", "--out", str(tmp_path / "bulk"))  # fmt: skip
    assert bulk["runs"] == demo["runs"]
    assert demo["runs"][0]["exposed_users"] > demo["runs"][0]["consenting_users"]
    assert all(r["non_consenting_exposed"] == 0 for r in demo["runs"][1:])


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--users", "1"], "--users"),
        (["--users", "3000000"], "--users"),
        (["--install-rate", "1.5"], "--install-rate"),
        (["--install-rate", "0"], "--install-rate"),
        (["--port", "0"], "--port"),
        (["--port", "70000"], "--port"),
    ],
)
def test_demo_checks_its_options_before_any_work(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], says: str
) -> None:
    out = tmp_path / "demo"
    with pytest.raises(SystemExit) as refused:
        main(["demo", *args, "--out", str(out)])
    assert refused.value.code == 2
    err = capsys.readouterr().err.strip()
    assert says in err
    assert "\n" not in err
    assert not out.exists()  # nothing was generated


def test_demo_refuses_a_busy_port_before_any_work(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    out = tmp_path / "demo"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit) as refused:
            main(["demo", "--users", "1500", "--port", str(port), "--out", str(out)])
    assert refused.value.code == 2
    assert f"port {port}" in capsys.readouterr().err
    assert not out.exists()
