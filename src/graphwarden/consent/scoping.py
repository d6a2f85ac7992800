"""App-scoped person ids (Graph API v2.0+).

An app sees a person as HMAC-SHA256(app's scoping key, person id) truncated to 16 bytes, in
hex: deterministic for one app, unlinkable across apps, and not guessable without the key.
The service records each id when it is given, so an app can only address people it was shown.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from graphwarden.core.types import PersonId, ScopedId

SCOPED_ID_BYTES = 16
_SCOPED_ID = re.compile(r"[0-9a-f]{32}")


def new_scoping_key() -> str:
    """A fresh per-app scoping key (256 random bits, hex: 64 characters)."""
    return secrets.token_hex(32)


def scoped_id_for(scoping_key: str, person: PersonId) -> ScopedId:
    """The id an app with ``scoping_key`` knows ``person`` by.

    >>> scoped_id_for("00" * 32, PersonId(1)) == scoped_id_for("00" * 32, PersonId(1))
    True
    """
    mac = hmac.new(bytes.fromhex(scoping_key), str(int(person)).encode("ascii"), hashlib.sha256)
    return ScopedId(mac.digest()[:SCOPED_ID_BYTES].hex())


def looks_like_scoped_id(value: str) -> bool:
    """Whether ``value`` has the shape of a scoped id (32 lowercase hex digits)."""
    return _SCOPED_ID.fullmatch(value) is not None


__all__ = ["SCOPED_ID_BYTES", "looks_like_scoped_id", "new_scoping_key", "scoped_id_for"]
