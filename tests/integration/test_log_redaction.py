"""No secret reaches a log line: a real two-worker ``graphwarden serve`` is asked for paths
whose query strings carry access tokens, codes, client secrets, refresh and input tokens, and
its whole log output (access and error logs, every process) holds none of them."""

from __future__ import annotations

import io
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphwarden.core.redaction import REDACTED, SECRET_NAMES, RedactSecrets, redact
from graphwarden.server import logging_config

pytestmark = pytest.mark.slow

#: characters a client sends unescaped in a query value: what it sends is what gets logged
TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
tokens = st.text(alphabet=TOKEN_ALPHABET, min_size=12, max_size=80)

PATHS = (
    "/v2.0/me",
    "/v1.0/me/friends",
    "/oauth/access_token",
    "/debug_token",
    "/oauth/authorize",
    "/no/such/route",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(
    _sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("redaction")
    db = root / "graphwarden.db"
    shutil.copyfile(_sqlite_template, db)
    env = {
        **os.environ,
        "GRAPHWARDEN_DATABASE_URL": f"sqlite:///{db}",
        "GRAPHWARDEN_DATA_DIR": str(root / "data"),
    }
    env.pop("GRAPHWARDEN_REDIS_URL", None)
    port = _free_port()
    log = root / "server.log"
    with log.open("wb") as out:
        argv = [sys.executable, "-m", "graphwarden.cli.main", "serve", "--port", str(port)]
        argv += ["--workers", "2", "--log-level", "info"]
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("server did not become ready in 60 s")
            time.sleep(0.1)
        yield base, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@settings(
    deadline=None,
    max_examples=25,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    secrets=st.lists(tokens, min_size=len(SECRET_NAMES), max_size=len(SECRET_NAMES), unique=True),
    path=st.sampled_from(PATHS),
    upper=st.booleans(),
)
def test_no_secret_from_a_query_string_reaches_the_log(
    served: tuple[str, Path], secrets: list[str], path: str, upper: bool
) -> None:
    base, log = served
    names = [name.upper() if upper else name for name in SECRET_NAMES]
    query = "&".join(f"{name}={value}" for name, value in zip(names, secrets, strict=True))
    nested = quote(f"/dialog/oauth?code={secrets[1]}&state=s", safe="")
    with httpx.Client(base_url=base, timeout=10) as client:
        client.get(f"{path}?fields=id&{query}")
        client.post(f"{path}?{query}", data={"client_secret": secrets[2]})
        client.get(f"/login?next={nested}")
    text = log.read_text(errors="replace")
    assert REDACTED in text, "the access log was not captured"
    for secret in secrets:
        assert secret not in text, f"{secret!r} is in the server's log"


@settings(deadline=None, max_examples=100, derandomize=True)
@given(secret=tokens, name=st.sampled_from(SECRET_NAMES))
def test_project_log_lines_are_redacted_however_the_secret_is_passed(
    secret: str, name: str
) -> None:
    """What the project's own loggers write goes through the same filter (the configuration
    ``graphwarden serve`` gives uvicorn), whether the secret sits in the format string, in an
    argument, in an object's text or in an exception's traceback."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets())
    log = logging.getLogger("graphwarden.tests.redaction")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning(f"callback https://x.example/cb?{name}={secret} failed")
        log.warning("%s=%s", name, secret)
        log.warning("callback %s failed", httpx.URL(f"https://x.example/cb?{name}={secret}"))
        log.warning("body %s", {name: secret})
        log.warning("Authorization: Bearer %s", secret)
        try:
            raise ValueError(f"bad request ?{name}={secret}")
        except ValueError:
            log.exception("unexpected error")
    finally:
        log.removeHandler(handler)
    text = stream.getvalue()
    assert secret not in text
    assert text.count(REDACTED) >= 6


def test_serve_installs_the_filter_on_every_handler_and_logger() -> None:
    config = logging_config("info")
    assert all("redact_secrets" in h["filters"] for h in config["handlers"].values())
    for name in ("uvicorn.error", "uvicorn.access", "graphwarden"):
        assert "redact_secrets" in config["loggers"][name]["filters"]
    assert config["loggers"]["graphwarden"]["handlers"] == ["default"]


def test_redaction_keeps_what_is_not_secret() -> None:
    line = "GET /v2.0/me?fields=id,name&barcode=5&limit=3 HTTP/1.1"
    assert redact(line) == line
