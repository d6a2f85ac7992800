"""``/login?next=`` returns only to a path on this site: examples of every known trick, and a
property test that whatever the target, the browser stays on graphwarden."""

from __future__ import annotations

from urllib.parse import quote, unquote, urljoin, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphwarden.web.redirects import same_site_path

BASE = "https://graphwarden.test/login"

REFUSED = [
    "https://evil.example/",
    "http:evil.example",
    "javascript:alert(1)",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "/%2F%2Fevil.example",
    "/%2fevil.example",
    "%2F%2Fevil.example",
    "/%5Cevil.example",
    "/%255Cevil.example",
    "/%25252F%25252Fevil.example",
    "/settings\r\nLocation: https://evil.example",
    "/settings%0d%0aSet-Cookie:x=1",
    "/\tevil",
    "/ /evil.example",
    " /settings",
    "",
    "settings/apps",
    "/" + "a" * 3000,
]
ACCEPTED = ["/", "/settings/apps", "/developers/apps/3", "/oauth/authorize?client_id=1&x=%2F"]


@pytest.mark.parametrize("target", REFUSED)
def test_tricks_are_refused(target: str) -> None:
    assert same_site_path(target) is None


@pytest.mark.parametrize("target", ACCEPTED)
def test_paths_of_this_site_are_kept(target: str) -> None:
    assert same_site_path(target) == target


def test_non_strings_are_refused() -> None:
    assert same_site_path(None) is None
    assert same_site_path(["/x"]) is None


def _stays_here(target: str) -> bool:
    """How a browser resolves the Location: backslashes read as slashes, decoded or not."""
    for form in (target, unquote(target), unquote(unquote(target))):
        browser = form.replace("\\", "/")
        resolved = urlsplit(urljoin(BASE, browser))
        if resolved.scheme != "https" or resolved.netloc != "graphwarden.test":
            return False
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in form):
            return False
    return True


pieces = st.sampled_from(
    ["/", "//", "\\", "%2f", "%2F", "%5c", "%25", "evil.example", ":", "@", "?", "#", "\r",
     "\n", "\t", " ", "https:", "..", "%0d", "%0a", "x"]
)  # fmt: skip


@settings(deadline=None, max_examples=400)
@given(st.one_of(st.text(max_size=40), st.lists(pieces, max_size=8).map("".join)))
def test_the_target_is_always_a_same_site_path(target: str) -> None:
    kept = same_site_path(target)
    if kept is None:
        return
    assert kept == target
    assert kept.startswith("/")
    assert not kept.startswith("//")
    assert _stays_here(kept), kept


@settings(deadline=None, max_examples=200)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=30))
def test_an_encoded_path_is_kept_only_if_it_stays_here(path: str) -> None:
    target = "/" + quote(path, safe="/")
    kept = same_site_path(target)
    if kept is not None:
        assert _stays_here(kept)
