"""Where a page may send a browser back to: a path on this site, and nowhere else.

``/login?next=`` and the consent screen return a person to the page they came from. An open
redirect there would let another site borrow graphwarden's address for phishing, so a target
is accepted only when every reading of it — as a browser resolves it, after percent-decoding,
with backslashes read as slashes (as browsers do) — is a path on this site.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

#: longer targets are refused (they are never a page of this site)
MAX_TARGET = 2000


def same_site_path(value: object) -> str | None:
    """``value`` when it is a same-site path (``/settings/apps?x=1``), else ``None``.

    Refused: anything not starting with one ``/``; scheme-relative ``//host``; backslashes
    anywhere (``/\\host`` is ``//host`` to a browser); control characters, CR and LF; and any of
    these hidden behind percent-encoding (``/%2F%2Fhost``, ``/%5Chost``, ``%0d%0a``).

    >>> same_site_path("/settings/apps")
    '/settings/apps'
    >>> same_site_path("//evil.example") is None
    True
    """
    if not isinstance(value, str) or not value or len(value) > MAX_TARGET:
        return None
    seen = value
    for _ in range(4):  # decode until stable: double encoding hides nothing
        if not _plain_path(seen):
            return None
        decoded = unquote(seen)
        if decoded == seen:
            return value
        seen = decoded
    return None


def _plain_path(text: str) -> bool:
    if not text.startswith("/") or text.startswith("//"):
        return False
    if "\\" in text or any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        return False
    # unicode whitespace and separators browsers strip or normalise
    if any(c.isspace() for c in text):
        return False
    parts = urlsplit(text)
    return not parts.scheme and not parts.netloc


__all__ = ["MAX_TARGET", "same_site_path"]
