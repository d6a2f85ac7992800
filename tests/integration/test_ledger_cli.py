"""``graphwarden ledger`` through Typer's runner on a migrated SQLite store."""

from __future__ import annotations

import json
import os
import shlex
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tests.unit.ledger.builders import make_batch
from typer.testing import CliRunner

from graphwarden.cli.ledger import app
from graphwarden.core.clock import ManualClock
from graphwarden.core.config import get_settings
from graphwarden.core.db import create_store_engine
from graphwarden.ledger.service import SqlDisclosureLedger
from graphwarden.ledger.signing import KEY_FILE_NAME, LedgerSigner

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def store(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path / "data"
    monkeypatch.setenv("GRAPHWARDEN_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("GRAPHWARDEN_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    engine = create_store_engine(sqlite_url)
    clock = ManualClock()
    ledger = SqlDisclosureLedger(engine, LedgerSigner.load_or_create(data_dir), clock)
    for day in range(3):
        for i in range(4):
            ledger.append(make_batch(500, request_id=f"d{day}-{i}", at=clock.now()))
            clock.advance(seconds=2)
        clock.advance(days=1)
    ledger.append(make_batch(3, request_id="tail", at=clock.now()))  # newer than any head
    engine.dispose()
    yield sqlite_url, data_dir
    get_settings.cache_clear()


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_the_signing_key_is_created_owner_only(store: tuple[str, Path]) -> None:
    _, data_dir = store
    mode = stat.S_IMODE((data_dir / KEY_FILE_NAME).stat().st_mode)
    assert mode == 0o600


def test_verify_passes_then_names_an_edited_record(store: tuple[str, Path]) -> None:
    url, _ = store
    code, out, _ = _run("verify", "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["ok"] is True
    assert report["records"] == 6003
    engine = create_store_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE disclosures SET field = 'email' WHERE seq = 4321")
    engine.dispose()
    code, out, err = _run("verify")
    assert code == 1
    assert "record 4321" in err


def test_prove_then_check_proof_and_the_offline_script(
    store: tuple[str, Path], tmp_path: Path
) -> None:
    _, data_dir = store
    proof_file = tmp_path / "proof.json"
    code, out, err = _run("prove", "--seq", "6001", "--out", str(proof_file))  # in the tail
    assert code == 0, err
    proof = json.loads(out)
    assert proof["record"]["seq"] == 6001
    assert proof["tree_head"]["tree_size"] == 6003  # a head was signed to cover it
    code, out, _ = _run("check-proof", str(proof_file))
    assert code == 0
    assert out.startswith("OK")

    public_hex = LedgerSigner.load_or_create(data_dir).public_key_hex()
    script = [sys.executable, str(DOCS / "check_proof.py"), str(proof_file), public_hex]
    ok = subprocess.run(script, capture_output=True, text=True, check=False, env=dict(os.environ))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "OK"

    proof["record"]["field"] = "email"
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(proof))
    code, _, err = _run("check-proof", str(forged))
    assert code == 1
    assert "does not" in err
    bad = subprocess.run([*script[:2], str(forged), public_hex], capture_output=True, check=False)
    assert bad.returncode != 0


def test_consistency_proof_round_trip(store: tuple[str, Path], tmp_path: Path) -> None:
    code, out, _ = _run("consistency", "--first", "500", "--second", "5000")
    assert code == 0, out
    path = tmp_path / "consistency.json"
    path.write_text(out)
    code, out, _ = _run("check-proof", str(path))
    assert code == 0
    assert "prefix" in out


def test_export_writes_day_partitions_with_the_stores_row_count(
    store: tuple[str, Path], tmp_path: Path
) -> None:
    out_dir = tmp_path / "export"
    code, out, err = _run("export", "--out", str(out_dir), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["rows"] == 6003
    days = sorted(p.name for p in (out_dir / "disclosures").iterdir() if p.is_dir())
    assert days == ["day=2014-06-01", "day=2014-06-02", "day=2014-06-03", "day=2014-06-04"]
    table = pq.read_table(out_dir / "disclosures")
    assert table.num_rows == 6003
    assert sorted(table.column("seq").to_pylist()) == list(range(6003))
    # a second export replaces the first whole; no temporary folder is left behind
    code, _, _ = _run("export", "--out", str(out_dir))
    assert code == 0
    assert sorted(p.name for p in out_dir.iterdir()) == ["disclosures"]


def test_stats_table_and_json(store: tuple[str, Path]) -> None:
    code, out, _ = _run("stats", "--json")
    assert code == 0
    figures = json.loads(out)
    assert figures["records"] == 6003
    assert figures["batches"] == 13
    code, out, _ = _run("stats")
    assert code == 0
    assert "records" in out


@pytest.mark.parametrize(
    "args",
    [
        ["prove", "--seq", "-1"],
        ["prove", "--seq", "999999"],
        ["prove", "--seq", "1", "--tree-size", "7"],
        ["check-proof", "/no/such/file.json"],
        ["consistency", "--first", "9", "--second", "3"],
        ["verify", "--public-key", "/no/such/key.pem"],
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(store: tuple[str, Path], args: list[str]) -> None:
    code, out, err = _run(*args)
    assert code == 2, (out, err)
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_integrate_builds_the_tree_behind_deferred_writers(store: tuple[str, Path]) -> None:
    url, _ = store
    engine = create_store_engine(url)
    writer = SqlDisclosureLedger(engine, None, ManualClock(), integration="deferred")
    for i in range(3):
        writer.append(make_batch(100, request_id=f"deferred-{i}"))
    code, out, _ = _run("verify", "--json")
    assert code == 0
    assert json.loads(out)["pending_records"] == 300
    code, out, err = _run("integrate", "--json")
    assert code == 0, err
    figures = json.loads(out)
    total = 12 * 500 + 3 + 300
    assert figures["integrated_now"] == 300
    assert figures["records"] == figures["tree_size"] == figures["latest_head_size"] == total
    code, out, _ = _run("verify", "--json")
    assert code == 0
    assert json.loads(out)["pending_records"] == 0
    code, _, err = _run("integrate", "--interval", "0")
    assert code == 2
    assert "--interval" in err
    engine.dispose()


_CLI = [sys.executable, "-c", "from graphwarden.cli.main import main; main()"]


def _wait_exit(proc: subprocess.Popen[bytes], seconds: float) -> int | None:
    try:
        return proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


def test_the_following_integrator_stops_on_sigterm_with_a_last_head(
    store: tuple[str, Path],
) -> None:
    url, _ = store
    proc = subprocess.Popen([*_CLI, "ledger", "integrate", "--follow", "--interval", "0.05"])
    engine = create_store_engine(url)
    writer = SqlDisclosureLedger(engine, None, ManualClock(), integration="deferred")
    writer.append(make_batch(40, request_id="while-following"))
    # running once it has integrated them (its signal handlers are in place by then)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            integrated = conn.exec_driver_sql("SELECT tree_size FROM ledger_state").scalar()
        if integrated == 12 * 500 + 3 + 40:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    assert _wait_exit(proc, 15) == 0, "the integrator did not stop on SIGTERM"
    with engine.connect() as conn:
        written, integrated, signed = conn.exec_driver_sql(
            "SELECT next_seq, tree_size, last_head_size FROM ledger_state"
        ).one()
    engine.dispose()
    assert written == integrated == signed == 12 * 500 + 3 + 40


def test_the_integrator_started_by_a_server_stops_when_the_server_is_gone(
    store: tuple[str, Path],
) -> None:
    parent = subprocess.Popen(
        [
            "sh",
            "-c",
            shlex.join([*_CLI, "ledger", "integrate", "--follow"]) + ' --parent-pid "$$" & wait',
        ]
    )
    deadline = time.monotonic() + 10
    children: list[int] = []
    while not children and time.monotonic() < deadline:
        found = subprocess.run(
            ["pgrep", "-P", str(parent.pid)], capture_output=True, text=True, check=False
        )
        children = [int(p) for p in found.stdout.split()]
        time.sleep(0.05)
    assert children, "the integrator did not start"
    parent.kill()  # SIGKILL: the server cannot stop its integrator itself
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and Path(f"/proc/{children[0]}").exists():
        status = Path(f"/proc/{children[0]}/status").read_text(errors="replace")
        if "State:\tZ" in status:
            break
        time.sleep(0.1)
    alive = Path(f"/proc/{children[0]}").exists() and "State:\tZ" not in Path(
        f"/proc/{children[0]}/status"
    ).read_text(errors="replace")
    if alive:
        os.kill(children[0], signal.SIGKILL)
    assert not alive, "the integrator outlived the server that started it"


def _key_forms(data_dir: Path, tmp_path: Path) -> dict[str, str]:
    """``--public-key`` as docs/cli.md promises it: hex or PEM text, or a file holding either."""
    signer = LedgerSigner.load_or_create(data_dir)
    hex_text = signer.public_key_hex()
    pem_text = signer.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")
    (tmp_path / "key.hex").write_text(hex_text + "\n")
    (tmp_path / "key.pem").write_text(pem_text)
    return {
        "hex text": hex_text,
        "hex text, upper case": hex_text.upper(),
        "PEM text": pem_text,
        "hex file": str(tmp_path / "key.hex"),
        "PEM file": str(tmp_path / "key.pem"),
    }


@pytest.mark.parametrize(
    "form", ["hex text", "hex text, upper case", "PEM text", "hex file", "PEM file"]
)
def test_public_key_is_accepted_as_text_or_file(
    store: tuple[str, Path], tmp_path: Path, form: str
) -> None:
    _, data_dir = store
    value = _key_forms(data_dir, tmp_path)[form]
    code, out, err = _run("verify", "--json", "--public-key", value)
    assert code == 0, err
    assert json.loads(out)["ok"] is True
    proof_file = tmp_path / "proof.json"
    assert _run("prove", "--seq", "3", "--out", str(proof_file))[0] == 0
    code, out, err = _run("check-proof", str(proof_file), "--public-key", value)
    assert code == 0, err
    assert out.startswith("OK")


def test_another_valid_key_does_not_verify(store: tuple[str, Path]) -> None:
    other = Ed25519PrivateKey.generate().public_key()
    other_hex = other.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    code, _, err = _run("verify", "--public-key", other_hex.hex())
    assert code == 1, err


def _ec_public_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


@pytest.mark.parametrize(
    "value",
    [
        "not-a-key",
        "ab" * 31,  # 62 hex digits
        "zz" * 32,
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        "FILE:garbage",
        "FILE:binary",
        "EC",
        "",
    ],
)
def test_a_bad_public_key_is_one_line_and_exit_code_2(
    store: tuple[str, Path], tmp_path: Path, value: str
) -> None:
    if value == "FILE:garbage":
        (tmp_path / "garbage.pem").write_text("hello\n")
        value = str(tmp_path / "garbage.pem")
    elif value == "FILE:binary":
        (tmp_path / "binary.key").write_bytes(bytes(range(256)))
        value = str(tmp_path / "binary.key")
    elif value == "EC":
        value = _ec_public_pem()
    for args in (["verify"], ["check-proof", str(tmp_path / "any.json")]):
        (tmp_path / "any.json").write_text("{}")
        code, out, err = _run(*args, "--public-key", value)
        assert code == 2, (args, out, err)
        assert len(err.strip().splitlines()) == 1, err
        assert "Traceback" not in err
