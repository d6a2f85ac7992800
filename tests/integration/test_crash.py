"""Crash test: ``graphwarden serve`` killed with SIGKILL under load, then restarted.

Afterwards ``graphwarden ledger verify`` passes, and every response the client received with
status 200 has all its records in the ledger (log before disclose: a body is only sent after
its records are durable).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from tests.unit.api.population import START, World, build_world, recorded_pairs

from graphwarden.core.clock import ManualClock
from graphwarden.core.db import create_store_engine

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:  # the child keeps its own descriptor
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "graphwarden.cli.main",
                "serve",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    pytest.fail("server did not become ready in 30 s")


@pytest.fixture
def world(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[World, Engine, dict[str, str]]]:
    engine = create_store_engine(sqlite_url)
    # the server runs on the wall clock: tokens issued "now" must still be valid there
    world = build_world(engine, ManualClock(START.now(START.tzinfo)), friends=57)
    env = {
        **os.environ,
        "GRAPHWARDEN_DATABASE_URL": sqlite_url,
        "GRAPHWARDEN_DATA_DIR": str(tmp_path / "data"),
    }
    env.pop("GRAPHWARDEN_REDIS_URL", None)
    try:
        yield world, engine, env
    finally:
        engine.dispose()


def _served(body: dict[str, Any]) -> set[tuple[int, str]]:
    return {(int(item["id"]), name) for item in body["data"] for name in item}


def test_sigkill_under_load_loses_no_record_of_a_served_response(
    world: tuple[World, Engine, dict[str, str]], tmp_path: Path
) -> None:
    w, engine, env = world
    port = _free_port()
    log = tmp_path / "server.log"
    proc = _start(env, port, log)
    url = f"http://127.0.0.1:{port}/v1.0/me/friends"
    params = {"fields": "id,name,birthday,hometown", "limit": "20", "access_token": w.v1_token}
    received: list[tuple[str, set[tuple[int, str]]]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(timeout=5) as client:
            while not stop.is_set():
                try:
                    r = client.get(url, params=params)
                except httpx.TransportError:
                    continue  # the server is gone: keep trying until told to stop
                if r.status_code == 200:
                    with lock:
                        received.append((r.headers["x-fb-trace-id"], _served(r.json())))

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # let a fair amount of traffic through first
        with lock:
            if len(received) >= 40:
                break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)  # mid-flight: requests are in progress right now
    proc.wait()
    time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join()
    assert len(received) >= 40, log.read_text()[-2000:]

    # restart on the same store: it comes up, and serves again
    proc = _start(env, port, log)
    try:
        again = httpx.get(url, params=params, timeout=10)
        assert again.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    verify = subprocess.run(
        [sys.executable, "-m", "graphwarden.cli.main", "ledger", "verify", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert json.loads(verify.stdout)["ok"] is True

    for request_id, served in received:
        assert served, "a 200 friends page served nothing"
        assert served <= recorded_pairs(engine, request_id), request_id
