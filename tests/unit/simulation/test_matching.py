"""Stub matching: a random bijection between even and odd stubs, partners listed per person."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphwarden.simulation import matching
from graphwarden.simulation.matching import match_pool, owners, random_order


@settings(max_examples=40, deadline=None)
@given(size=st.integers(0, 5_000), seed=st.integers(0, 2**32 - 1))
def test_random_order_is_a_permutation(size: int, seed: int) -> None:
    with pytest.MonkeyPatch.context() as patch:
        # small windows so the windowed path (not the outright shuffle) runs on small sizes
        patch.setattr(matching, "MIX_WINDOW", 64)
        order = random_order(size, np.random.default_rng(seed))
    assert order.dtype == np.int32
    assert np.array_equal(np.sort(order), np.arange(size))


def test_random_order_puts_neighbours_anywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matching, "MIX_WINDOW", 1_024)
    size = 200_000
    pairs = random_order(size, np.random.default_rng(4)).reshape(-1, 2).astype(np.int64)
    gap = np.abs(pairs[:, 0] - pairs[:, 1])
    # a uniformly random neighbour is, on average, a third of the range away
    assert abs(gap.mean() / size - 1 / 3) < 0.01
    # and neighbours spread over the whole range, not only over nearby windows
    quarter = pairs // (size // 4)
    joint = np.bincount(quarter[:, 0] * 4 + quarter[:, 1], minlength=16) / pairs.shape[0]
    assert np.all(np.abs(joint - 1 / 16) < 0.01)


@settings(max_examples=60, deadline=None)
@given(counts=st.lists(st.integers(0, 9), max_size=60), first=st.integers(0, 1_000))
def test_owners_repeats_each_person_by_their_count(counts: list[int], first: int) -> None:
    c = np.array(counts, dtype=np.int64)
    expected = np.repeat(np.arange(first, first + c.size), c)
    got = owners(c, first)
    assert got.dtype == np.int32
    assert np.array_equal(got, expected)


@settings(max_examples=40, deadline=None)
@given(
    counts=st.lists(st.integers(0, 12), min_size=1, max_size=300),
    first=st.integers(0, 50),
    seed=st.integers(0, 2**32 - 1),
)
def test_match_pool_pairs_every_stub_once_and_symmetrically(
    counts: list[int], first: int, seed: int
) -> None:
    c = np.array(counts, dtype=np.int64)
    c[-1] += int(c.sum()) % 2
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(matching, "MIX_WINDOW", 16)
        patch.setattr(matching, "_STEP", 7)  # several steps of the gather and the scatter
        partners = match_pool(c, first, np.random.default_rng(seed))
    own = np.repeat(np.arange(first, first + c.size), c).astype(np.int64)
    assert partners.dtype == np.int32
    assert partners.size == own.size
    # person u lists v as often as v lists u: both ends of every pair are recorded
    forward = np.sort(own * 10_000 + partners)
    backward = np.sort(partners.astype(np.int64) * 10_000 + own)
    assert np.array_equal(forward, backward)


def test_partners_are_drawn_in_proportion_to_stub_counts() -> None:
    # one hub holds half of the stubs: about half of everyone else's partners are the hub
    counts = np.ones(200_001, dtype=np.int64)
    counts[-1] = 200_000
    partners = match_pool(counts, 0, np.random.default_rng(3))
    others = partners[: counts[:-1].sum()]
    assert abs(np.mean(others == 200_000) - 0.5) < 0.01


def test_an_odd_pool_is_refused() -> None:
    with pytest.raises(ValueError, match="even"):
        match_pool(np.array([1, 2]), 0, np.random.default_rng(0))
