"""Clocks. Domain code takes a :class:`Clock` so tests can move time (90-day lapse, expiry)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to; for tests and deterministic simulation.

    >>> c = ManualClock(datetime(2014, 6, 1, tzinfo=UTC)); c.advance(days=90); c.now().month
    8
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2014, 6, 1, tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, **delta: float) -> datetime:
        with self._lock:
            self._now = self._now + timedelta(**delta)
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = when


def monotonic() -> float:
    """Seconds on a monotonic clock (durations only)."""
    return time.monotonic()


def as_utc(value: datetime) -> datetime:
    """Treat a naive datetime (as SQLite returns them) as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


__all__ = ["Clock", "ManualClock", "SystemClock", "as_utc", "monotonic"]
