"""Data-access lapse: a person's authorization stops authorizing non-public data when they have
not used the app for the version's window (v3.0: 90 days), until they authorize again.

The window is platform policy (``graphwarden.policy.tables``); consent sits below policy, so
the caller passes the window in. ``None`` means the version has no lapse (v1.0, v2.0).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from graphwarden.core.clock import as_utc
from graphwarden.core.errors import InvalidInput

#: the 2018 rule, for documentation and defaults in tools; the policy table is authoritative
NINETY_DAYS = timedelta(days=90)


def lapses_at(last_used_at: datetime, window: timedelta | None) -> datetime | None:
    """When access lapses if the person does not use the app again (None: never)."""
    if window is None:
        return None
    if window <= timedelta(0):
        raise InvalidInput("a lapse window must be positive")
    return as_utc(last_used_at) + window


def data_access_active(last_used_at: datetime, window: timedelta | None, now: datetime) -> bool:
    """Whether an authorization last used at ``last_used_at`` still gives data access at ``now``.

    Access is active up to and including the instant the window closes.

    >>> from datetime import UTC
    >>> t = datetime(2018, 5, 1, tzinfo=UTC)
    >>> data_access_active(t, NINETY_DAYS, t + timedelta(days=90))
    True
    >>> data_access_active(t, NINETY_DAYS, t + timedelta(days=90, seconds=1))
    False
    >>> data_access_active(t, None, t + timedelta(days=9000))
    True
    """
    end = lapses_at(last_used_at, window)
    return end is None or as_utc(now) <= end


def days_left(last_used_at: datetime, window: timedelta | None, now: datetime) -> int | None:
    """Whole days until access lapses (0 once lapsed; None when the version has no lapse)."""
    end = lapses_at(last_used_at, window)
    if end is None:
        return None
    return max(0, (end - as_utc(now)).days)


__all__ = ["NINETY_DAYS", "data_access_active", "days_left", "lapses_at"]
