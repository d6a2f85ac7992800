"""Rate limits on Graph API calls, built on the ``limits`` library.

Two budgets, both rolling (sliding-window counter: O(1) storage per key, exact within a window,
a weighted estimate across the boundary):

* per app: ``200 × active users`` calls per hour (the Graph API's platform rate limit).
  Exceeding it answers Graph API error code 4. The budget grows with the app's active users
  without resetting the window: the storage key names the app, not the amount.
* per token: 600 calls per 10 minutes by default (one person's token, one app; Mastodon allows
  300 per 5 minutes per account, the same rate). Exceeding it answers error code 17.

Counters live in memory by default (one process). With ``GRAPHWARDEN_REDIS_URL`` set they live
in Redis, so every API worker draws from one budget; Redis applies each hit atomically.

Usage is reported in the ``X-App-Usage`` header as percentages of the app's budget:
``{"call_count": 12, "total_time": 3, "total_cputime": 1}``. Time and CPU time are charged
after each call (:meth:`RateLimiter.charge_time`) against a per-user hourly allowance.
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerSecond
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from graphwarden.consent.models import Authorization
from graphwarden.core.errors import ConfigError, InvalidInput, RateLimited

#: Graph API error codes for an exceeded app budget and an exceeded token (user) budget
APP_LIMIT_CODE = 4
USER_LIMIT_CODE = 17


@dataclass(frozen=True, slots=True)
class RateLimitConfig:
    """The budgets. Defaults follow the Graph API (app) and a Mastodon-like per-token rate."""

    calls_per_user_per_hour: int = 200
    token_calls: int = 600
    token_window_s: int = 600
    #: wall-clock milliseconds of serving per active user per hour (for ``total_time``)
    time_ms_per_user_per_hour: int = 2_000
    #: CPU milliseconds per active user per hour (for ``total_cputime``)
    cputime_ms_per_user_per_hour: int = 1_000

    def __post_init__(self) -> None:
        for name in (
            "calls_per_user_per_hour",
            "token_calls",
            "token_window_s",
            "time_ms_per_user_per_hour",
            "cputime_ms_per_user_per_hour",
        ):
            if getattr(self, name) <= 0:
                raise ConfigError(f"rate limit setting {name} must be positive")


class _Budget(RateLimitItemPerHour):
    """An hourly budget whose storage key ignores the amount, so it can grow with users."""

    def key_for(self, *identifiers: bytes | str | int | float) -> str:
        return f"{self.namespace}/" + "/".join(str(i) for i in identifiers)


class _TokenBudget(RateLimitItemPerSecond):
    def key_for(self, *identifiers: bytes | str | int | float) -> str:
        return f"{self.namespace}/" + "/".join(str(i) for i in identifiers)


@dataclass(frozen=True, slots=True)
class UsageReport:
    """Where an app and a token stand after an accepted call."""

    app_used: int
    app_limit: int
    token_used: int
    token_limit: int
    time_pct: int = 0
    cputime_pct: int = 0

    @property
    def call_count_pct(self) -> int:
        return min(100, math.ceil(100 * self.app_used / self.app_limit))


def usage_header(report: UsageReport) -> str:
    """The ``X-App-Usage`` header value for ``report``.

    >>> usage_header(UsageReport(app_used=50, app_limit=200, token_used=1, token_limit=600))
    '{"call_count": 25, "total_time": 0, "total_cputime": 0}'
    """
    return json.dumps(
        {
            "call_count": report.call_count_pct,
            "total_time": report.time_pct,
            "total_cputime": report.cputime_pct,
        }
    )


def seconds_to_reset(
    limiter: SlidingWindowCounterRateLimiter, item: RateLimitItem, *ids: str
) -> int:
    """Whole seconds until the window of ``item`` lets one more call through (at least 1):
    the ``Retry-After`` of a refused call."""
    reset = limiter.get_window_stats(item, *ids).reset_time
    return max(1, math.ceil(reset - time.time()))


def storage_for(redis_url: str | None) -> Storage:
    """In-memory counters, or Redis ones shared by every worker when ``redis_url`` is set."""
    if redis_url is None:
        return MemoryStorage()
    if not redis_url.startswith(("redis://", "rediss://")):
        raise ConfigError("GRAPHWARDEN_REDIS_URL must start with redis:// or rediss://")
    storage = storage_from_string(redis_url)
    if not isinstance(storage, Storage):  # pragma: no cover - only the async variant differs
        raise ConfigError("GRAPHWARDEN_REDIS_URL names an async storage")
    return storage


class RateLimiter:
    """Counts Graph API calls per app and per token; raises ``RateLimited`` past a budget.

    The Graph API calls :meth:`hit` once per request, before doing any work, and puts
    :func:`usage_header` of the result in ``X-App-Usage``.
    """

    def __init__(
        self,
        config: RateLimitConfig | None = None,
        *,
        storage: Storage | None = None,
        namespace: str = "gw",
    ) -> None:
        self.config = config or RateLimitConfig()
        self.storage = storage if storage is not None else MemoryStorage()
        self._limiter = SlidingWindowCounterRateLimiter(self.storage)
        self._ns = namespace

    @classmethod
    def from_url(cls, redis_url: str | None, config: RateLimitConfig | None = None) -> RateLimiter:
        """A limiter on memory (``None``) or on the Redis at ``redis_url``."""
        return cls(config, storage=storage_for(redis_url))

    def _app_item(self, active_users: int, per_user: int) -> RateLimitItem:
        return _Budget(per_user * max(1, active_users), namespace=self._ns)

    def _token_item(self) -> RateLimitItem:
        return _TokenBudget(self.config.token_calls, self.config.token_window_s, namespace=self._ns)

    def _wait(self, item: RateLimitItem, *ids: str) -> int:
        return seconds_to_reset(self._limiter, item, *ids)

    def _used(self, item: RateLimitItem, *ids: str) -> int:
        stats = self._limiter.get_window_stats(item, *ids)
        return item.amount - stats.remaining

    def hit(self, app_id: int, token_id: int | str, active_users: int) -> UsageReport:
        """Count one call by ``token_id`` of ``app_id`` (which has ``active_users``).

        Raises ``RateLimited(scope="app")`` (Graph API code 4) when the app's hourly budget is
        spent and ``RateLimited(scope="user")`` (code 17) when the token's is. A refused call
        is not counted against the app.
        """
        if active_users < 0:
            raise InvalidInput("active_users cannot be negative")
        app_item = self._app_item(active_users, self.config.calls_per_user_per_hour)
        token_item = self._token_item()
        app_key, token_key = ("app", str(app_id)), ("token", str(app_id), str(token_id))
        if not self._limiter.test(token_item, *token_key):
            raise RateLimited(
                "(#17) User request limit reached: this token made too many calls",
                scope="user",
                retry_after_s=self._wait(token_item, *token_key),
            )
        if not self._limiter.hit(app_item, *app_key):
            raise RateLimited(
                "(#4) Application request limit reached: the app's hourly budget is spent",
                scope="app",
                retry_after_s=self._wait(app_item, *app_key),
            )
        if not self._limiter.hit(token_item, *token_key):
            # another worker spent the token's last call between the test and the hit
            raise RateLimited(
                "(#17) User request limit reached: this token made too many calls",
                scope="user",
                retry_after_s=self._wait(token_item, *token_key),
            )
        return UsageReport(
            app_used=self._used(app_item, *app_key),
            app_limit=app_item.amount,
            token_used=self._used(token_item, *token_key),
            token_limit=token_item.amount,
            time_pct=self._pct("time", app_id, active_users),
            cputime_pct=self._pct("cputime", app_id, active_users),
        )

    def _time_item(self, kind: str, active_users: int) -> RateLimitItem:
        per_user = (
            self.config.time_ms_per_user_per_hour
            if kind == "time"
            else self.config.cputime_ms_per_user_per_hour
        )
        return self._app_item(active_users, per_user)

    def _pct(self, kind: str, app_id: int, active_users: int) -> int:
        item = self._time_item(kind, active_users)
        return min(100, math.ceil(100 * self._used(item, kind, str(app_id)) / item.amount))

    def charge_time(self, app_id: int, active_users: int, *, wall_s: float, cpu_s: float) -> None:
        """Charge a served call's wall-clock and CPU time to the app (for ``X-App-Usage``).

        Time is reported, not enforced: the call budget is what refuses calls.
        """
        for kind, seconds in (("time", wall_s), ("cputime", cpu_s)):
            cost = max(0, round(seconds * 1000))
            if cost:
                item = self._time_item(kind, active_users)
                # a hit past the allowance is refused by the counter; the percentage shows 100
                self._limiter.hit(item, kind, str(app_id), cost=min(cost, item.amount))

    def usage(self, app_id: int, active_users: int) -> UsageReport:
        """The app's usage without counting a call (for the developer portal)."""
        app_item = self._app_item(active_users, self.config.calls_per_user_per_hour)
        return UsageReport(
            app_used=self._used(app_item, "app", str(app_id)),
            app_limit=app_item.amount,
            token_used=0,
            token_limit=self.config.token_calls,
            time_pct=self._pct("time", app_id, active_users),
            cputime_pct=self._pct("cputime", app_id, active_users),
        )

    def reset(self) -> None:
        """Forget every counter (tests and operators only)."""
        self.storage.reset()


def graph_error_code(error: RateLimited) -> int:
    """The Graph API error code for ``error``: 4 for the app's budget, 17 for a token's."""
    return USER_LIMIT_CODE if error.scope == "user" else APP_LIMIT_CODE


class ActiveUsers:
    """Daily active users per app (people who used it in the last day, not removed), counted
    from ``authorizations`` and cached for ``ttl_s`` so the count costs one query a minute."""

    def __init__(self, engine: Engine, *, ttl_s: float = 60.0, window: timedelta | None = None):
        self._engine = engine
        self._ttl = ttl_s
        self._window = window or timedelta(days=1)
        self._cache: dict[int, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def count(self, app_id: int, now: datetime) -> int:
        """The app's active users at ``now`` (at least 1: a budget is never zero)."""
        tick = time.monotonic()
        with self._lock:
            hit = self._cache.get(app_id)
            if hit is not None and tick - hit[0] < self._ttl:
                return hit[1]
        with Session(self._engine) as session:
            n = session.scalar(
                select(func.count())
                .select_from(Authorization)
                .where(
                    Authorization.app_id == app_id,
                    Authorization.removed_at.is_(None),
                    Authorization.last_used_at >= now - self._window,
                )
            )
        value = max(1, int(n or 0))
        with self._lock:
            self._cache[app_id] = (tick, value)
        return value


__all__ = [
    "APP_LIMIT_CODE",
    "USER_LIMIT_CODE",
    "ActiveUsers",
    "RateLimitConfig",
    "RateLimiter",
    "UsageReport",
    "graph_error_code",
    "seconds_to_reset",
    "storage_for",
    "usage_header",
]
