"""Signed requests in the Graph API's format, as sent with data-deletion callbacks.

``signed_request = base64url(HMAC-SHA256(encoded_payload, key)) "." encoded_payload`` where
``encoded_payload = base64url(JSON payload)`` and the payload carries
``"algorithm": "HMAC-SHA256"``, ``"user_id"`` and ``"issued_at"`` (Unix seconds). base64url is
unpadded. The HMAC covers the *encoded* payload, exactly as the Graph API's does, so an app's
existing verification code works unchanged given the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from graphwarden.core.errors import AuthError, InvalidInput

ALGORITHM = "HMAC-SHA256"


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode canonical unpadded base64url; ``InvalidInput`` on anything else."""
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise InvalidInput("signed_request is not base64url") from exc
    # one encoding per value: stray bits in the last character would let two strings pass
    if b64url_encode(data) != text:
        raise InvalidInput("signed_request is not canonical base64url")
    return data


def sign(payload: Mapping[str, Any], key: bytes) -> str:
    """Sign ``payload`` (``algorithm`` is set to HMAC-SHA256).

    >>> parse(sign({"user_id": "42", "issued_at": 1}, b"k"), b"k")["user_id"]
    '42'
    """
    body = dict(payload)
    body["algorithm"] = ALGORITHM
    encoded = b64url_encode(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    signature = hmac.new(key, encoded.encode("ascii"), hashlib.sha256).digest()
    return f"{b64url_encode(signature)}.{encoded}"


def deletion_request(user_id: str, issued_at: datetime, key: bytes) -> str:
    """The ``signed_request`` of a data-deletion callback for ``user_id``."""
    return sign({"user_id": user_id, "issued_at": int(issued_at.timestamp())}, key)


def parse(signed_request: str, key: bytes) -> dict[str, Any]:
    """Verify and decode a signed request (what an app's callback does on receipt).

    Raises ``InvalidInput`` when it is malformed and ``AuthError`` when the signature does not
    match ``key`` or the algorithm is not HMAC-SHA256.
    """
    if signed_request.count(".") != 1:
        raise InvalidInput("signed_request is not <signature>.<payload>")
    sig_part, payload_part = signed_request.split(".")
    signature = b64url_decode(sig_part)
    expected = hmac.new(key, payload_part.encode("ascii"), hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        raise AuthError("signed_request signature does not match")
    try:
        payload = json.loads(b64url_decode(payload_part))
    except ValueError as exc:
        raise InvalidInput("signed_request payload is not JSON") from exc
    if not isinstance(payload, dict) or payload.get("algorithm") != ALGORITHM:
        raise AuthError("signed_request algorithm is not HMAC-SHA256")
    return payload


__all__ = ["ALGORITHM", "b64url_decode", "b64url_encode", "deletion_request", "parse", "sign"]
