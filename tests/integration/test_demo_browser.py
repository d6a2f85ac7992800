"""``graphwarden demo`` end to end, in Chromium: the demo replays quiz-2014 and serves the v1.0
store; the exposed friend it prints (who never used the quiz) signs in, lands on the home page
and finds the quiz among the apps that received their data. Every page of the walk is HTML
(no JSON error anywhere), is screenshot at desktop and phone width, loads nothing from another
origin, and fits a phone's width. ``summary.json``'s tree head and root match ``ledger verify``
on the served store.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from tests.conftest import CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

QUIZ = "thisisyourdigitallife"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = "from graphwarden.cli.main import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("demo")
    out = root / "demo"
    port = _free_port()
    env = os.environ | {
        "GRAPHWARDEN_DATA_DIR": str(root / "data"),
        "GRAPHWARDEN_DATABASE_URL": f"sqlite:///{root / 'data' / 'graphwarden.db'}",
    }
    env.pop("GRAPHWARDEN_DEMO_LOGIN", None)
    log_path = root / "demo.log"
    code = "from graphwarden.cli.main import main; main()"
    argv = [sys.executable, "-c", code, "demo", "--users", "1500", "--seed", "2"]
    argv += ["--port", str(port), "--out", str(out)]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            text = log_path.read_text(errors="replace")
            if "serving on" in text:
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"graphwarden demo did not start serving: {text[-3000:]}")
            time.sleep(0.3)
        friend = re.search(r"exposed friend:\s+person (\d+), password (demo-\d+)", text)
        installer = re.search(r"installer of the quiz:\s+person (\d+), password (demo-\d+)", text)
        assert friend is not None, text
        assert installer is not None, text
        yield {
            "base": base,
            "out": out,
            "friend": (friend.group(1), friend.group(2)),
            "installer": (installer.group(1), installer.group(2)),
            "env": env
            | {
                "GRAPHWARDEN_DATABASE_URL": f"sqlite:///{out / 'v1.0' / 'graphwarden.db'}",
                "GRAPHWARDEN_DATA_DIR": str(out / "v1.0" / "data"),
            },
            "log": text,
        }
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the demo's own process group
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def test_summary_tree_heads_match_ledger_verify_on_the_served_store(demo: dict[str, Any]) -> None:
    out: Path = demo["out"]
    summary = json.loads((out / "summary.json").read_text())
    for version in ("v1.0", "v2.0", "v3.0"):
        ledger = summary["ledgers"][version]
        head = ledger["tree_head"]
        assert ledger["merkle_root"] == head["root_hash"]
        assert len(head["signature"]) == 128
        assert ledger["records_in_store"] == head["tree_size"]
        assert sum(a["records"] for a in ledger["apps"]) == head["tree_size"]
        assert ledger["quiz_app"]["name"] == QUIZ
    served = summary["ledgers"]["v1.0"]
    checked = _cli(
        "ledger",
        "verify",
        "--json",
        "--public-key",
        str(out / served["public_key_file"]),
        env=demo["env"],
    )
    assert checked.returncode == 0, checked.stderr
    report = json.loads(checked.stdout)
    assert report["ok"]
    assert report["records"] == served["tree_head"]["tree_size"]
    assert report["root_hash"] == served["merkle_root"]
    # the served store is the one the CLI reaches with the variables the demo prints
    assert f"GRAPHWARDEN_DATABASE_URL={demo['env']['GRAPHWARDEN_DATABASE_URL']}" in demo["log"]
    html = (out / "report.html").read_text()
    assert served["tree_head"]["root_hash"] in html
    for app in served["apps"]:
        assert app["name"] in html
    assert "1 installers" not in html
    assert f"exposed friend:          person {demo['friend'][0]}" in demo["log"]


def test_exposed_friend_sees_the_quiz_and_no_page_leaves_the_site(
    demo: dict[str, Any], chromium_path: str, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    base: str = demo["base"]
    origin = urlsplit(base).netloc
    person, password = demo["friend"]
    shots = Path(os.environ.get("GRAPHWARDEN_TEST_ARTIFACTS", tmp_path)) / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    requested: list[str] = []
    problems: list[str] = []

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=DESKTOP)

        def watch(route: Any) -> None:
            url = route.request.url
            requested.append(url)
            if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != origin:
                route.abort()  # and the test fails below: a page reached for another site
                return
            route.continue_()

        context.route("**/*", watch)
        page = context.new_page()
        page.on(
            "console",
            lambda m: problems.append(m.text) if m.type == "error" else None,
        )

        def visit(path: str, name: str, status: int = 200) -> None:
            response = page.goto(base + path)
            assert response is not None
            assert response.status == status, (path, response.status)
            assert response.headers["content-type"].startswith("text/html"), path
            body = page.inner_text("body")
            assert not body.lstrip().startswith("{"), f"{path} answered JSON: {body[:200]}"
            shoot(name)

        def shoot(name: str) -> None:
            page.set_viewport_size(DESKTOP)
            page.screenshot(path=str(shots / f"{name}-desktop.png"), full_page=True)
            page.set_viewport_size(PHONE)
            page.screenshot(path=str(shots / f"{name}-phone.png"), full_page=True)
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= PHONE["width"] + 1, f"{name} is {wide}px wide at phone width"
            page.set_viewport_size(DESKTOP)

        visit("/", "home-signed-out")
        page.click("text=Sign in")
        page.wait_for_selector("#identifier")
        shoot("login")
        page.fill("#identifier", person)
        page.fill("#password", password)
        page.click("#sign-in")
        page.wait_for_url(base + "/")
        assert page.inner_text("header").count(f"person {person}") == 1
        received = page.inner_text("#received")
        assert QUIZ in received
        assert "through a friend" in received
        shoot("home")
        visit("/settings/apps", "settings-apps")
        row = page.locator("tr.received-app", has_text=QUIZ)
        assert row.count() == 1
        assert "through a friend" in row.inner_text()
        visit("/settings/deletions", "settings-deletions")
        visit("/developers", "developers")
        visit("/docs", "docs")
        page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
        shoot("docs")
        visit("/docs/oauth", "docs-oauth")
        visit("/no/such/page", "not-found", status=404)
        browser.close()

    foreign = [u for u in requested if urlsplit(u).netloc not in ("", origin)]
    assert not foreign, f"requests to other origins: {foreign}"
    assert any("/docs/assets/swagger-ui-bundle.js" in u for u in requested)
    csp = [p for p in problems if "Content Security Policy" in p]
    assert not csp, csp
    assert len(list(shots.glob("*-phone.png"))) >= 9
    assert len(list(shots.glob("*-desktop.png"))) >= 9
