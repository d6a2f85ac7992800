"""Throttling failed sign-ins, so a password cannot be guessed at the speed of the network.

Two rolling budgets of *failed* attempts (the ``limits`` library's sliding-window counters,
in memory, or in Redis shared by every worker when ``GRAPHWARDEN_REDIS_URL`` is set):

* per account identifier (username or person id): 10 failures per 15 minutes — slows a guess
  at one account to 40 an hour wherever it comes from;
* per client address: 100 failures per 15 minutes — slows one source spraying many accounts.

:meth:`SignInThrottle.check` runs *before* the password is checked, so a throttled attempt
costs no argon2 work and reveals nothing (it answers the same whether the password was right);
:meth:`SignInThrottle.failed` counts a failure; a success clears its identifier's count.
Identifiers are compared case-insensitively and trimmed, as sign-in does.
"""

from __future__ import annotations

from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.storage import MemoryStorage, Storage
from limits.strategies import SlidingWindowCounterRateLimiter

from graphwarden.consent.ratelimit import seconds_to_reset
from graphwarden.core.errors import InvalidInput, RateLimited


@dataclass(frozen=True, slots=True)
class SignInLimits:
    identifier_failures: int = 10
    address_failures: int = 100
    window_minutes: int = 15

    def __post_init__(self) -> None:
        for name in ("identifier_failures", "address_failures", "window_minutes"):
            if getattr(self, name) < 1:
                raise InvalidInput(f"{name} must be at least 1")


class SignInThrottle:
    """Counts failed sign-ins per identifier and per client address."""

    def __init__(self, storage: Storage | None = None, limits: SignInLimits | None = None) -> None:
        self.limits = limits or SignInLimits()
        self._limiter = SlidingWindowCounterRateLimiter(storage or MemoryStorage())
        window = self.limits.window_minutes
        self._per_identifier: RateLimitItem = RateLimitItemPerMinute(
            self.limits.identifier_failures, window, namespace="graphwarden-signin"
        )
        self._per_address: RateLimitItem = RateLimitItemPerMinute(
            self.limits.address_failures, window, namespace="graphwarden-signin"
        )

    def check(self, identifier: str, address: str | None) -> None:
        """Raise ``RateLimited`` if either budget of failures is spent."""
        if not self._limiter.test(self._per_identifier, "id", _norm(identifier)):
            raise RateLimited(
                "Too many failed sign-ins for this account: wait a few minutes and try again",
                scope="user",
                retry_after_s=seconds_to_reset(
                    self._limiter, self._per_identifier, "id", _norm(identifier)
                ),
            )
        if address and not self._limiter.test(self._per_address, "addr", address):
            raise RateLimited(
                "Too many failed sign-ins from this address: wait a few minutes and try again",
                scope="app",
                retry_after_s=seconds_to_reset(self._limiter, self._per_address, "addr", address),
            )

    def failed(self, identifier: str, address: str | None) -> None:
        """Count one failed attempt against both budgets."""
        self._limiter.hit(self._per_identifier, "id", _norm(identifier))
        if address:
            self._limiter.hit(self._per_address, "addr", address)

    def succeeded(self, identifier: str) -> None:
        """A correct password: the account's count of failures starts again."""
        self._limiter.clear(self._per_identifier, "id", _norm(identifier))


def _norm(identifier: str) -> str:
    return identifier.strip().casefold()[:200]


__all__ = ["SignInLimits", "SignInThrottle"]
