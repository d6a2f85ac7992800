"""Rate limits on the real Redis: several limiters, and two uvicorn worker processes, draw
from one budget. Skips (saying why) when Redis is unreachable, fails when CI=true."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from graphwarden.consent.ratelimit import RateLimitConfig, RateLimiter
from graphwarden.core.errors import RateLimited

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[2]
BUDGET = 60  # calls per user per hour in the worker test; the app has one active user


def make_app() -> FastAPI:
    """A minimal Graph API stand-in, run by uvicorn in each worker process."""
    from sqlalchemy import create_engine

    from graphwarden.api.errors import from_domain
    from graphwarden.api.ratelimit_middleware import enforce_rate_limit, install_rate_limits
    from graphwarden.core.config import Settings

    app = FastAPI()
    settings = Settings.from_env()
    install_rate_limits(
        app,
        settings,
        create_engine("sqlite://"),
        config=RateLimitConfig(calls_per_user_per_hour=int(os.environ["GW_TEST_BUDGET"])),
    )

    @app.exception_handler(RateLimited)
    async def limited(_: Request, exc: RateLimited) -> JSONResponse:
        error = from_domain(exc)
        return JSONResponse(error.body("test"), status_code=error.status)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v3.0/me")
    def me(request: Request, access_token: str) -> dict[str, object]:
        enforce_rate_limit(request, app_id=1, token_id=access_token, active_users=1)
        return {"id": "1", "worker": os.getpid()}

    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def workers(redis_url: str, tmp_path: Path) -> Iterator[list[str]]:
    env = dict(
        os.environ,
        GRAPHWARDEN_REDIS_URL=redis_url,
        GW_TEST_BUDGET=str(BUDGET),
        GRAPHWARDEN_DATA_DIR=str(tmp_path),
    )
    procs, urls = [], []
    for _ in range(2):
        port = free_port()
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--factory",
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                    "tests.integration.test_ratelimit_redis:make_app",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 30
        probe = httpx.Client(timeout=1)
        for proc, url in zip(procs, urls, strict=True):
            while True:
                try:
                    if probe.get(f"{url}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    pytest.fail(f"worker at {url} did not start: {err[-2000:]}")
                time.sleep(0.1)
        probe.close()
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=10)
            if proc.stderr is not None:
                proc.stderr.close()


@pytest.mark.slow  # two uvicorn processes start: ~10 s on two cores
def test_two_uvicorn_workers_share_one_budget(workers: list[str]) -> None:
    calls = 150

    def call(i: int) -> httpx.Response:
        url = workers[i % 2]
        return client.get(f"{url}/v3.0/me", params={"access_token": f"token-{i % 5}"})

    with httpx.Client(timeout=10) as client, ThreadPoolExecutor(max_workers=12) as pool:
        responses = list(pool.map(call, range(calls)))
    accepted = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code != 200]
    assert len(accepted) == BUDGET
    assert len({r.json()["worker"] for r in accepted}) == 2  # both workers served
    assert all(r.status_code == 429 for r in refused)
    assert {r.json()["error"]["code"] for r in refused} == {4}
    assert all("X-App-Usage" in r.headers for r in accepted)
    usage = sorted(int(r.headers["X-App-Usage"].split(":")[1].split(",")[0]) for r in accepted)
    assert usage[-1] == 100


def test_limiters_on_one_redis_share_budgets(redis_url: str) -> None:
    config = RateLimitConfig(calls_per_user_per_hour=10, token_calls=4, token_window_s=60)
    first = RateLimiter.from_url(redis_url, config)
    second = RateLimiter.from_url(redis_url, config)
    for i in range(4):
        (first if i % 2 else second).hit(7, "tok", 2)
    with pytest.raises(RateLimited) as caught:
        first.hit(7, "tok", 2)
    assert caught.value.scope == "user"
    scopes = []
    for i in range(40):
        try:
            (first if i % 2 else second).hit(7, f"other-{i}", 2)
            scopes.append("accepted")
        except RateLimited as exc:
            scopes.append(exc.scope)
    assert scopes == ["accepted"] * 16 + ["app"] * 24
    assert second.usage(7, 2).app_used == 20
