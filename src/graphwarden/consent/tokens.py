"""Credentials: opaque access tokens and app secrets.

An access token is ``secrets.token_urlsafe(32)`` (256 random bits) and is stored only as its
SHA-256: a stolen database does not yield usable tokens, and a lookup is one indexed equality.
An app secret is stored as an argon2id hash (it is checked rarely, so it can afford to be slow
to guess). Neither is ever logged or shown again after it is issued.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

#: OWASP's argon2id baseline (19 MiB, 2 passes): slow for a guesser, quick enough for a login
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
#: verified against when an app does not exist, so "no such app" costs as long as "wrong secret"
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(32))

#: messages of the ``AuthError`` raised by token resolution; the Graph API maps them to
#: error 190 subcodes. None of them says whether the token belongs to some other app.
TOKEN_INVALID = "Invalid OAuth access token."  # noqa: S105 - a message, not a secret
TOKEN_EXPIRED = "Error validating access token: the session has expired."  # noqa: S105
TOKEN_REVOKED = "Error validating access token: the session has been invalidated."  # noqa: S105


def new_token() -> str:
    """A fresh opaque access token (256 random bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The SHA-256 (hex) under which ``token`` is stored and looked up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_app_secret() -> str:
    """A fresh app secret (256 random bits, URL-safe), shown once at creation."""
    return secrets.token_urlsafe(32)


def hash_app_secret(secret: str) -> str:
    """The argon2id hash of ``secret`` (salted; differs on every call)."""
    return _HASHER.hash(secret)


def verify_app_secret_hash(stored_hash: str | None, secret: str) -> bool:
    """Whether ``secret`` matches ``stored_hash``; a missing hash still spends the same time."""
    try:
        if stored_hash is None:
            _HASHER.verify(_DUMMY_HASH, secret)
            return False
        return _HASHER.verify(stored_hash, secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


__all__ = [
    "TOKEN_EXPIRED",
    "TOKEN_INVALID",
    "TOKEN_REVOKED",
    "hash_app_secret",
    "hash_token",
    "new_app_secret",
    "new_token",
    "verify_app_secret_hash",
]
