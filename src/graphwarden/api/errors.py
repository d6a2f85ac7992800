"""Graph API error objects, and the translation of graphwarden's exception tree into them.

Every error the Graph API answers has the same JSON shape, whatever raised it::

    {"error": {"message": "...", "type": "OAuthException", "code": 190,
               "error_subcode": 463, "fbtrace_id": "<the request id>"}}

Codes: 1 unknown error, 2 service unavailable, 4 app rate limit, 17 user rate limit,
100 invalid parameter, 190 access token, 200 permission, 803 unknown alias (id).

HTTP statuses: token errors answer **400**, as the Graph API does for ``OAuthException``
(it uses 400 for most errors and 401 only for some token cases; clients read ``code``).
Parameter and id errors answer 400 or 404, permission errors 403, rate limits 429, a ledger
outage 503 and an unexpected failure 500 with no detail.
"""

from __future__ import annotations

from typing import Any

from graphwarden.core.errors import (
    AuthError,
    GraphwardenError,
    InvalidInput,
    LedgerError,
    NotFound,
    PermissionDenied,
    PolicyError,
    RateLimited,
    StoreError,
)

OAUTH = "OAuthException"
METHOD = "GraphMethodException"

UNKNOWN_ALIAS_MESSAGE = "(#803) Some of the aliases you requested do not exist"
UNKNOWN_ERROR_MESSAGE = "An unknown error occurred"


class GraphApiError(Exception):
    """An error answered as a Graph API error object."""

    def __init__(
        self,
        message: str,
        *,
        code: int,
        status: int = 400,
        type: str = OAUTH,
        subcode: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.type = type
        self.subcode = subcode
        #: HTTP headers the answer carries (``Retry-After`` of a 429, ``Allow`` of a 405)
        self.headers = dict(headers or {})

    def body(self, trace_id: str) -> dict[str, Any]:
        """The JSON body, with ``fbtrace_id`` set to the request id."""
        error: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["fbtrace_id"] = trace_id
        return {"error": error}


def invalid_parameter(message: str, *, subcode: int | None = None) -> GraphApiError:
    """Error 100: a malformed parameter."""
    if not message.startswith("(#"):
        message = f"(#100) {message}"
    return GraphApiError(message=message, code=100, status=400, subcode=subcode)


def unknown_alias() -> GraphApiError:
    """Error 803: the id does not exist, or is hidden from the caller (indistinguishable)."""
    return GraphApiError(message=UNKNOWN_ALIAS_MESSAGE, code=803, status=404)


def unknown_path(path: str) -> GraphApiError:
    """Error 100 (subcode 2500): a path that names no node, edge or version."""
    return GraphApiError(
        message=f"Unknown path components: {path[:200]}", code=100, status=400, subcode=2500
    )


def bad_token(
    message: str = "Invalid OAuth access token.", subcode: int | None = None
) -> GraphApiError:
    """Error 190: the access token is missing, malformed, unknown, expired or revoked."""
    return GraphApiError(message=message, code=190, status=400, type=OAUTH, subcode=subcode)


def permission_error(message: str) -> GraphApiError:
    """Error 200: the token is valid but does not carry what is needed."""
    if not message.startswith("(#"):
        message = f"(#200) {message}"
    return GraphApiError(message=message, code=200, status=403, type=OAUTH)


def ledger_unavailable() -> GraphApiError:
    """Error 2: the disclosure ledger could not record the response, so nothing is served."""
    return GraphApiError(
        message="Service temporarily unavailable: the response could not be recorded, "
        "so nothing was disclosed. Retry later.",
        code=2,
        status=503,
        type=METHOD,
    )


def unknown_error() -> GraphApiError:
    """Error 1: an unexpected failure; the detail stays in the server log."""
    return GraphApiError(message=UNKNOWN_ERROR_MESSAGE, code=1, status=500, type=OAUTH)


def method_not_allowed(method: str, allowed: str | None = None) -> GraphApiError:
    """Error 100 with HTTP 405; ``allowed`` (the route's methods) becomes ``Allow``."""
    return GraphApiError(
        message=f"(#100) Unsupported {method[:10]} request.",
        code=100,
        status=405,
        type=METHOD,
        headers={"Allow": allowed} if allowed else None,
    )


def from_domain(exc: GraphwardenError) -> GraphApiError:
    """The Graph API error for one of graphwarden's own exceptions."""
    message = str(exc) or exc.__class__.__name__
    if isinstance(exc, PermissionDenied):
        return permission_error(message)
    if isinstance(exc, AuthError):
        return bad_token(_token_message(message))
    if isinstance(exc, NotFound):
        return unknown_alias()
    if isinstance(exc, InvalidInput):
        return invalid_parameter(message)
    if isinstance(exc, RateLimited):
        wait = {"Retry-After": str(exc.retry_after_s)}
        if exc.scope == "user":
            return GraphApiError(
                "(#17) User request limit reached", code=17, status=429, headers=wait
            )
        return GraphApiError(
            "(#4) Application request limit reached", code=4, status=429, headers=wait
        )
    if isinstance(exc, LedgerError):
        return ledger_unavailable()
    if isinstance(exc, StoreError | PolicyError):
        return GraphApiError(
            message="Service temporarily unavailable", code=2, status=503, type=METHOD
        )
    return unknown_error()


def _token_message(message: str) -> str:
    # The consent service's wording stays, framed as the Graph API frames token errors.
    if message.lower().startswith(("invalid oauth", "error validating")):
        return message
    return f"Error validating access token: {message}"


__all__ = [
    "METHOD",
    "OAUTH",
    "UNKNOWN_ALIAS_MESSAGE",
    "GraphApiError",
    "bad_token",
    "from_domain",
    "invalid_parameter",
    "ledger_unavailable",
    "method_not_allowed",
    "permission_error",
    "unknown_alias",
    "unknown_error",
    "unknown_path",
]
