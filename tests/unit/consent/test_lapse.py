"""Data access lapses 90 days after the person last used the app (v3.0); a moved clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graphwarden.consent.lapse import NINETY_DAYS, data_access_active, days_left, lapses_at
from graphwarden.core.clock import ManualClock
from graphwarden.core.errors import InvalidInput
from graphwarden.policy import tables

T0 = datetime(2018, 5, 1, 12, tzinfo=UTC)


def window(version: str) -> timedelta | None:
    days = tables.lapse_days(version)
    return None if days is None else timedelta(days=days)


@pytest.mark.parametrize(
    ("version", "idle", "active"),
    [
        ("v3.0", timedelta(days=89), True),
        ("v3.0", timedelta(days=90), True),
        ("v3.0", timedelta(days=90, seconds=1), False),
        ("v3.0", timedelta(days=400), False),
        ("v2.0", timedelta(days=400), True),
        ("v1.0", timedelta(days=4000), True),
    ],
)
def test_lapse_by_version(version: str, idle: timedelta, active: bool) -> None:
    clock = ManualClock(T0)
    last_used = clock.now()
    clock.advance(seconds=idle.total_seconds())
    assert data_access_active(last_used, window(version), clock.now()) is active


def test_using_the_app_again_restores_access() -> None:
    clock = ManualClock(T0)
    last_used = clock.now()
    clock.advance(days=91)
    assert not data_access_active(last_used, NINETY_DAYS, clock.now())
    last_used = clock.now()  # the person authorizes again
    assert data_access_active(last_used, NINETY_DAYS, clock.now())
    assert days_left(last_used, NINETY_DAYS, clock.now()) == 90


def test_naive_timestamps_from_sqlite_are_utc() -> None:
    naive = T0.replace(tzinfo=None)
    assert lapses_at(naive, NINETY_DAYS) == T0 + NINETY_DAYS
    assert days_left(naive, None, T0) is None
    assert days_left(naive, NINETY_DAYS, T0 + timedelta(days=200)) == 0


def test_a_window_must_be_positive() -> None:
    with pytest.raises(InvalidInput):
        data_access_active(T0, timedelta(0), T0)


@given(
    idle_s=st.integers(min_value=-(10**6), max_value=10**9),
    window_days=st.integers(min_value=1, max_value=3650),
)
def test_active_exactly_within_the_window(idle_s: int, window_days: int) -> None:
    """Property: active iff the idle time does not exceed the window."""
    w = timedelta(days=window_days)
    now = T0 + timedelta(seconds=idle_s)
    assert data_access_active(T0, w, now) is (timedelta(seconds=idle_s) <= w)
