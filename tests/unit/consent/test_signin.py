"""The sign-in throttle: an account is refused exactly when it has met its budget of failures
since its last success; addresses have their own budget."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graphwarden.consent.signin import SignInLimits, SignInThrottle
from graphwarden.core.errors import InvalidInput, RateLimited

EVENTS = st.lists(
    st.tuples(st.sampled_from(["ada", "Ada ", "grace", "42"]), st.booleans()), max_size=60
)


@given(events=EVENTS)
def test_an_account_is_refused_exactly_after_its_budget_of_failures(
    events: list[tuple[str, bool]],
) -> None:
    throttle = SignInThrottle(limits=SignInLimits(identifier_failures=3, address_failures=1000))
    failures: dict[str, int] = {}
    for identifier, correct in events:
        key = identifier.strip().casefold()
        refused = failures.get(key, 0) >= 3
        if refused:
            with pytest.raises(RateLimited):
                throttle.check(identifier, None)
            continue  # a refused attempt checks no password and counts nothing
        throttle.check(identifier, None)
        if correct:
            throttle.succeeded(identifier)
            failures[key] = 0
        else:
            throttle.failed(identifier, None)
            failures[key] = failures.get(key, 0) + 1


def test_an_address_spraying_accounts_is_refused() -> None:
    throttle = SignInThrottle(limits=SignInLimits(identifier_failures=5, address_failures=4))
    for i in range(4):
        throttle.check(f"user-{i}", "203.0.113.9")
        throttle.failed(f"user-{i}", "203.0.113.9")
    with pytest.raises(RateLimited, match="this address"):
        throttle.check("user-99", "203.0.113.9")
    throttle.check("user-99", "198.51.100.1")  # another address is not affected


def test_limits_must_be_positive() -> None:
    with pytest.raises(InvalidInput):
        SignInLimits(identifier_failures=0)
