"""Rate limits at the Graph API's edge.

Wiring (``api/app.py``)::

    from graphwarden.api.ratelimit_middleware import install_rate_limits
    install_rate_limits(app, settings, engine, clock)     # once, in create_app

and in the Graph API, right after the access token resolved and before any work::

    from graphwarden.api.ratelimit_middleware import enforce_rate_limit
    enforce_rate_limit(request, app_id=token.app.id, token_id=token.token_id)

:func:`enforce_rate_limit` raises ``RateLimited`` (``api.errors.from_domain`` turns it into
Graph API error 4 or 17, HTTP 429) or records the usage; the one response hook,
:class:`~graphwarden.api.middleware.EdgeMiddleware`, then adds the ``X-App-Usage`` header.
The work a counted call does is wrapped in :func:`charged`, which charges its wall-clock and
CPU time to the app (``total_time`` and ``total_cputime`` of the next calls' headers). With
``GRAPHWARDEN_REDIS_URL`` set every worker counts in the same Redis, so the budget is shared.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from fastapi import FastAPI, Request
from sqlalchemy import Engine

from graphwarden.api.middleware import APP_USAGE_HEADER, USAGE_STATE_KEY, EdgeMiddleware
from graphwarden.consent.ratelimit import (
    ActiveUsers,
    RateLimitConfig,
    RateLimiter,
    UsageReport,
)
from graphwarden.core.clock import Clock, SystemClock
from graphwarden.core.config import Settings

_STATE_KEY = USAGE_STATE_KEY
_CHARGE_KEY = "app_usage_charge"


def install_rate_limits(
    app: FastAPI,
    settings: Settings,
    engine: Engine,
    clock: Clock | None = None,
    *,
    config: RateLimitConfig | None = None,
    limiter: RateLimiter | None = None,
) -> RateLimiter:
    """Attach a limiter (Redis when configured, else memory); the usage header is added by
    the one response hook, :class:`~graphwarden.api.middleware.EdgeMiddleware` (installed
    here when the application does not have it yet)."""
    limiter = limiter or RateLimiter.from_url(settings.redis_url, config)
    app.state.rate_limiter = limiter
    app.state.active_users = ActiveUsers(engine)
    app.state.rate_clock = clock or SystemClock()
    if not any(m.cls is EdgeMiddleware for m in app.user_middleware):
        app.add_middleware(EdgeMiddleware)  # the one hook that sends X-App-Usage
    return limiter


def enforce_rate_limit(
    request: Request,
    *,
    app_id: int,
    token_id: int | str,
    active_users: int | None = None,
    now: datetime | None = None,
) -> UsageReport | None:
    """Count this call against the app's and the token's budgets; raise ``RateLimited`` past
    either. Returns None (and counts nothing) when rate limits are not installed."""
    state = request.app.state
    limiter: RateLimiter | None = getattr(state, "rate_limiter", None)
    if limiter is None:
        return None
    if active_users is None:
        when = now or state.rate_clock.now()
        active_users = state.active_users.count(app_id, when)
    report = limiter.hit(app_id, token_id, active_users)
    setattr(request.state, _STATE_KEY, report)
    setattr(request.state, _CHARGE_KEY, (app_id, active_users))
    return report


@contextmanager
def charged(request: Request) -> Iterator[None]:
    """Charge the block's wall-clock time and this thread's CPU time to the app whose call
    :func:`enforce_rate_limit` counted (nothing when it counted none). Charged whether the
    block answers or raises: an error costs the platform too."""
    wall0, cpu0 = time.perf_counter(), time.thread_time()
    try:
        yield
    finally:
        charge = getattr(request.state, _CHARGE_KEY, None)
        limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
        if charge is not None and limiter is not None:
            app_id, active_users = charge
            limiter.charge_time(
                app_id,
                active_users,
                wall_s=time.perf_counter() - wall0,
                cpu_s=time.thread_time() - cpu0,
            )


__all__ = [
    "APP_USAGE_HEADER",
    "charged",
    "enforce_rate_limit",
    "install_rate_limits",
]
