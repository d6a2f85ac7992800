"""``kill -9`` of a multi-worker ``graphwarden serve``: its workers and its integrator die with
it (parent-death signal), the port is free again within seconds, and after a restart the
integrator catches the tree up with every record the workers wrote."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from tests.unit.api.population import START, build_world

from graphwarden.core.clock import ManualClock
from graphwarden.core.db import create_store_engine

pytestmark = pytest.mark.slow

#: how long the workers may take to follow their master
GRACE_S = 5.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "graphwarden.cli.main", "serve", "--port", str(port)]
    argv += ["--workers", "2", "--log-level", "warning"]
    with log.open("ab") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    pytest.fail("server did not become ready in 60 s")


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    todo = [pid]
    while todo:
        out = subprocess.run(
            ["pgrep", "-P", str(todo.pop())], capture_output=True, text=True, check=False
        ).stdout
        children = {int(p) for p in out.split()}
        todo.extend(children - found)
        found |= children
    return found


def _running(pid: int) -> bool:
    """Alive and not a zombie (a killed orphan may wait for a reaper that never comes)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(errors="replace")
    except OSError:
        return False
    return "State:\tZ" not in status


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds it
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _ledger_figures(url: str) -> tuple[int, int]:
    engine = create_store_engine(url)
    try:
        with engine.connect() as conn:
            written, integrated = conn.exec_driver_sql(
                "SELECT next_seq, tree_size FROM ledger_state"
            ).one()
    finally:
        engine.dispose()
    return int(written), int(integrated)


def test_kill_9_of_the_master_takes_its_workers_and_integrator_along(
    sqlite_url: str, tmp_path: Path
) -> None:
    engine = create_store_engine(sqlite_url)
    # the server runs on the wall clock: tokens issued "now" must still be valid there
    world = build_world(engine, ManualClock(START.now(START.tzinfo)), friends=30)
    engine.dispose()
    env = {
        **os.environ,
        "GRAPHWARDEN_DATABASE_URL": sqlite_url,
        "GRAPHWARDEN_DATA_DIR": str(tmp_path / "data"),
    }
    env.pop("GRAPHWARDEN_REDIS_URL", None)
    port = _free_port()
    log = tmp_path / "server.log"
    master = _serve(env, port, log)
    url = f"http://127.0.0.1:{port}/v1.0/me/friends"
    params = {"fields": "id,name,birthday", "limit": "10", "access_token": world.v1_token}
    served = 0
    lock = threading.Lock()
    stop = threading.Event()

    def load() -> None:
        nonlocal served
        with httpx.Client(timeout=5) as client:
            while not stop.is_set():
                try:
                    if client.get(url, params=params).status_code == 200:
                        with lock:
                            served += 1
                except httpx.TransportError:
                    time.sleep(0.01)

    threads = [threading.Thread(target=load) for _ in range(3)]
    children: set[int] = set()
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and served < 30:
            time.sleep(0.05)
        children = _descendants(master.pid)
        assert len(children) >= 3, "expected two workers and an integrator"
        os.kill(master.pid, signal.SIGKILL)  # mid-flight, under load
        master.wait()

        deadline = time.monotonic() + GRACE_S
        while time.monotonic() < deadline and any(_running(pid) for pid in children):
            time.sleep(0.05)
        survivors = sorted(pid for pid in children if _running(pid))
        assert not survivors, f"processes outlived their master: {survivors}"
        assert _port_free(port), "the port is still taken after the master died"
    finally:
        stop.set()
        for t in threads:
            t.join()
        for pid in children:  # never leave an orphan behind, whatever failed above
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
    assert served >= 30, log.read_text()[-2000:]

    # restart on the same port and store: it serves, and its integrator catches the tree up
    master = _serve(env, port, log)
    try:
        assert httpx.get(url, params=params, timeout=10).status_code == 200
        deadline = time.monotonic() + 20
        written, integrated = _ledger_figures(sqlite_url)
        while time.monotonic() < deadline and integrated != written:
            time.sleep(0.2)
            written, integrated = _ledger_figures(sqlite_url)
        assert integrated == written > 0
    finally:
        master.terminate()
        master.wait(timeout=20)
    verify = subprocess.run(
        [sys.executable, "-m", "graphwarden.cli.main", "ledger", "verify", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert verify.returncode == 0, verify.stderr
    report = json.loads(verify.stdout)
    assert report["ok"] is True
    assert report["records"] == written
    assert report["latest_head_size"] == written
