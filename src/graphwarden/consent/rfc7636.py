"""PKCE (RFC 7636), as RFC 9700 §2.1.1 wants it: required of every client, S256 only.

Authlib's :class:`~authlib.oauth2.rfc7636.CodeChallenge` lets a confidential client skip
PKCE and accepts ``plain``; graphwarden refuses both, so a code cannot be redeemed without
the verifier whose SHA-256 was committed to in the authorization request (no downgrade).
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge

S256 = "S256"


class RequiredS256Challenge(CodeChallenge):  # type: ignore[misc]
    """PKCE with ``S256`` for every authorization request and every code redemption."""

    DEFAULT_CODE_CHALLENGE_METHOD = S256
    SUPPORTED_CODE_CHALLENGE_METHOD = [S256]  # noqa: RUF012 - Authlib's class attribute
    CODE_CHALLENGE_METHODS = {S256: CodeChallenge.CODE_CHALLENGE_METHODS[S256]}  # noqa: RUF012

    def __init__(self) -> None:
        super().__init__(required=True)

    def validate_code_challenge(self, grant: Any, redirect_uri: Any) -> None:
        """RFC 7636 §4.4.1: a missing challenge or a method other than S256 is refused."""
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge with method S256")
        if data.get("code_challenge_method") != S256:
            raise InvalidRequestError("code_challenge_method must be S256 (plain is refused)")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        """RFC 7636 §4.6: the verifier must hash to the stored challenge."""
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'")
        super().validate_code_verifier(grant, result)


__all__ = ["S256", "RequiredS256Challenge"]
