"""Chromium on the consent screen: decline one permission, and the app sees exactly the
granted ones; an app named ``<script>alert(1)</script>`` is shown as text, never run."""

from __future__ import annotations

import html
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from tests.conftest import CHROMIUM_ARGS
from tests.integration.test_oauth_flow import REDIRECT, server  # noqa: F401 - fixture

pytestmark = [pytest.mark.browser, pytest.mark.slow]

APP_NAME = "<script>alert(1)</script>"


def test_browser_declines_one_permission_and_app_name_stays_text(
    server: dict[str, object],  # noqa: F811
    chromium_path: str,
) -> None:
    from playwright.sync_api import sync_playwright

    issuer = str(server["issuer"])
    verifier = "v" * 64
    query = {
        "response_type": "code",
        "client_id": str(server["app_id"]),
        "redirect_uri": REDIRECT,
        "scope": "public_profile,email,user_friends",
        "state": "s1",
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
    }
    url = str(httpx.URL(f"{issuer}/oauth/authorize", params=query))
    dialogs: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(url)
        page.fill("#identifier", str(server["person"]))
        page.fill("#password", f"demo-{server['person']}")
        page.click("#sign-in")
        page.wait_for_selector("#app-name")
        assert page.inner_text("#app-name") == APP_NAME
        assert html.escape(APP_NAME) in page.content()
        page.uncheck("#perm-user_friends")
        with page.expect_request(lambda r: r.url.startswith(REDIRECT)) as callback:
            page.click("#allow")
        location = callback.value.url
        browser.close()
    assert dialogs == []
    code = parse_qs(urlsplit(location).query)["code"][0]
    token = httpx.post(
        f"{issuer}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        auth=(str(server["app_id"]), str(server["secret"])),
    ).json()
    perms = httpx.get(
        f"{issuer}/v2.0/me/permissions", params={"access_token": token["access_token"]}
    ).json()["data"]
    granted = {p["permission"] for p in perms if p["status"] == "granted"}
    declined = {p["permission"] for p in perms if p["status"] == "declined"}
    assert granted == {"public_profile", "email"}
    assert declined == {"user_friends"}
