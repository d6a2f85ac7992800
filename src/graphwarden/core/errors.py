"""The one exception tree of graphwarden.

Catch :class:`GraphwardenError` to handle anything the library raises on purpose. Below it:

``GraphwardenError``
    ``ConfigError``            a setting is missing or malformed (raised once, at start-up)
    ``StoreError``             the relational store cannot do what was asked
        ``SchemaError``        the database is not migrated to this code's schema
        ``IntegrityViolation`` a write would break a rule of the data (duplicate, self-friendship)
    ``NotFound``               an object does not exist *or is hidden from the caller*
    ``InvalidInput``           a caller's value is malformed (bad field, cursor, limit, id)
    ``AuthError``              a token or credential is missing, invalid, expired or revoked
        ``PermissionDenied``   the credential is valid but does not allow this
    ``RateLimited``            a rate limit was exceeded (``scope`` says which)
    ``LedgerError``            the disclosure ledger failed
        ``LedgerWriteError``   records could not be made durable; nothing may be disclosed
        ``VerificationError``  the ledger or a proof does not verify (names the first bad item)
    ``PolicyError``            a policy table is malformed or a version unknown

Entry points translate these into their own protocol: a Graph API error object, an RFC 6749
error, a one-line CLI message with exit code 2. A hidden object is reported as ``NotFound``,
never as ``PermissionDenied``, so a denial does not reveal existence.
"""

from __future__ import annotations


class GraphwardenError(Exception):
    """Base of every error graphwarden raises on purpose."""


class ConfigError(GraphwardenError):
    """A setting is missing or malformed."""


class StoreError(GraphwardenError):
    """The relational store could not do what was asked."""


class SchemaError(StoreError):
    """The database schema is not the one this code expects."""


class IntegrityViolation(StoreError):
    """A write would break a rule of the data."""


class NotFound(GraphwardenError):
    """An object does not exist, or is hidden from the caller (the two look the same)."""


class InvalidInput(GraphwardenError):
    """A caller-supplied value is malformed."""


class AuthError(GraphwardenError):
    """A credential is missing, invalid, expired or revoked."""


class PermissionDenied(AuthError):
    """The credential is valid but does not allow the action."""


class RateLimited(GraphwardenError):
    """A rate limit was exceeded; ``scope`` is ``"app"`` or ``"user"``; ``retry_after_s`` is
    how many seconds until the limiter's window lets a call through again (``Retry-After``)."""

    def __init__(self, message: str, *, scope: str = "app", retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.scope = scope
        self.retry_after_s = max(1, int(retry_after_s))


class LedgerError(GraphwardenError):
    """The disclosure ledger failed."""


class LedgerWriteError(LedgerError):
    """Records could not be made durable; the response they describe must not be sent."""


class VerificationError(LedgerError):
    """The ledger or a proof does not verify; the message names the first bad item."""

    def __init__(self, message: str, *, seq: int | None = None, head: int | None = None) -> None:
        super().__init__(message)
        self.seq = seq
        self.head = head


class PolicyError(GraphwardenError):
    """A policy table is malformed or a platform version is unknown."""


__all__ = [
    "AuthError",
    "ConfigError",
    "GraphwardenError",
    "IntegrityViolation",
    "InvalidInput",
    "LedgerError",
    "LedgerWriteError",
    "NotFound",
    "PermissionDenied",
    "PolicyError",
    "RateLimited",
    "SchemaError",
    "StoreError",
    "VerificationError",
]
