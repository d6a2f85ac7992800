"""Rate limits per app (200 × active users per hour) and per token, in memory."""

from __future__ import annotations

import json

import pytest

from graphwarden.consent.ratelimit import (
    RateLimitConfig,
    RateLimiter,
    UsageReport,
    graph_error_code,
    storage_for,
    usage_header,
)
from graphwarden.core.errors import ConfigError, InvalidInput, RateLimited


def calls_until_refused(limiter: RateLimiter, app: int, token: str, users: int) -> int:
    accepted = 0
    while True:
        try:
            limiter.hit(app, token, users)
        except RateLimited:
            return accepted
        accepted += 1
        assert accepted < 100_000


def test_app_budget_is_200_calls_per_active_user_per_hour() -> None:
    limiter = RateLimiter(RateLimitConfig(token_calls=10_000))
    assert calls_until_refused(limiter, 1, "t", users=3) == 600
    with pytest.raises(RateLimited) as caught:
        limiter.hit(1, "other-token", 3)
    assert caught.value.scope == "app"
    assert graph_error_code(caught.value) == 4


def test_budget_grows_with_active_users_without_resetting() -> None:
    limiter = RateLimiter(RateLimitConfig(calls_per_user_per_hour=5, token_calls=1000))
    assert calls_until_refused(limiter, 1, "t", users=2) == 10
    # one more user: five more calls, not a fresh window of fifteen
    assert calls_until_refused(limiter, 1, "t", users=3) == 5


def test_token_budget_is_separate_and_answers_code_17() -> None:
    limiter = RateLimiter(RateLimitConfig(token_calls=7, token_window_s=600))
    assert calls_until_refused(limiter, 1, "a", users=100) == 7
    with pytest.raises(RateLimited) as caught:
        limiter.hit(1, "a", 100)
    assert caught.value.scope == "user"
    assert graph_error_code(caught.value) == 17
    # another token of the same app still has its own budget
    limiter.hit(1, "b", 100)
    # a refused token call did not use the app's budget
    assert limiter.usage(1, 100).app_used == 8


def test_apps_do_not_share_budgets() -> None:
    limiter = RateLimiter(RateLimitConfig(calls_per_user_per_hour=3))
    assert calls_until_refused(limiter, 1, "t", users=1) == 3
    limiter.hit(2, "t", 1)


def test_usage_header_reports_percentages() -> None:
    limiter = RateLimiter(RateLimitConfig(calls_per_user_per_hour=200))
    report = limiter.hit(9, "t", 1)
    header = json.loads(usage_header(report))
    assert header == {"call_count": 1, "total_time": 0, "total_cputime": 0}
    for _ in range(99):
        report = limiter.hit(9, "t", 1)
    assert json.loads(usage_header(report))["call_count"] == 50
    limiter.charge_time(9, 1, wall_s=1.0, cpu_s=0.25)
    usage = limiter.usage(9, 1)
    assert usage.time_pct == 50  # 1 s of the 2 s allowance per user-hour
    assert usage.cputime_pct == 25


def test_usage_header_caps_at_100() -> None:
    report = UsageReport(app_used=900, app_limit=200, token_used=1, token_limit=600)
    assert json.loads(usage_header(report))["call_count"] == 100


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ConfigError):
        RateLimitConfig(token_calls=0)
    with pytest.raises(ConfigError):
        storage_for("http://example.org")
    with pytest.raises(InvalidInput):
        RateLimiter().hit(1, "t", -1)


def test_an_app_with_no_active_users_still_gets_one_users_budget() -> None:
    limiter = RateLimiter(RateLimitConfig(calls_per_user_per_hour=4))
    assert calls_until_refused(limiter, 1, "t", users=0) == 4
