"""The synthetic population: determinism, graph invariants, settings, persistence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphwarden.core.errors import InvalidInput
from graphwarden.graph.fields import FIELDS, N_FIELDS, Audience
from graphwarden.graph.loader import PROFILE_COLUMNS
from graphwarden.simulation.population import Population, generate_population


@pytest.fixture(scope="module")
def town() -> Population:
    return generate_population(3_000, seed=11)


def test_same_seed_gives_identical_arrays(town: Population) -> None:
    again = generate_population(3_000, seed=11)
    for name, value in town.arrays().items():
        other = again.arrays()[name]
        if isinstance(value, np.ndarray):
            assert value.dtype == other.dtype, name
            assert np.array_equal(value, other), name
        else:
            assert value == other, name


def test_another_seed_gives_another_population(town: Population) -> None:
    other = generate_population(3_000, seed=12)
    assert not np.array_equal(town.indices[:1000], other.indices[:1000])


def test_graph_is_simple_symmetric_and_connected(town: Population) -> None:
    g = town.graph
    g.validate()  # sorted rows, no self-loops, no duplicates, symmetric
    assert g.indices.dtype == np.int32
    assert g.indptr.dtype == np.int64
    assert g.degree.min() >= 1
    from graphwarden.graph.stats import giant_component_share

    assert giant_component_share(g) >= 0.99


@given(n=st.integers(1, 400), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=15, deadline=None)
def test_any_size_respects_the_cap_and_invariants(n: int, seed: int) -> None:
    pop = generate_population(n, seed=seed)
    pop.graph.validate()
    assert pop.graph.degree.max(initial=0) <= max(n - 1, 0)
    assert pop.audience.shape == (n, N_FIELDS)
    assert pop.likes_indptr[-1] == pop.likes_indices.size


def test_cap_of_5000_holds_for_a_wide_preset() -> None:
    from graphwarden.simulation.degrees import DegreeModel, target_degrees

    # a lognormal this wide puts ~3% of people at the 5,000 cap
    targets = target_degrees(DegreeModel(median=150, mean=700), 6_000, seed=3)
    assert (targets == 5_000).sum() > 20
    pop = generate_population(6_000, seed=3, median_friends=150, mean_friends=700)
    assert pop.graph.degree.max() <= 5_000
    assert pop.graph.degree.max() > 1_000
    pop.graph.validate()


def test_audiences_follow_defaults_with_variation(town: Population) -> None:
    aud = town.audience
    for spec in FIELDS:
        column = aud[:, spec.index]
        if spec.basic:
            assert (column == Audience.PUBLIC).all(), spec.name
            continue
        counts = np.bincount(column, minlength=4) / town.n
        # the default is what most people keep; every other audience also occurs
        assert counts.argmax() == spec.default_audience, spec.name
        assert (counts > 0).sum() >= 3, spec.name
    everyone_on = town.shares == 0xFF
    assert 0.9 < everyone_on.mean() < 0.99
    assert 0.98 < town.platform_enabled.mean() <= 1.0


def test_likes_are_sorted_unique_and_skewed(town: Population) -> None:
    for i in range(0, town.n, 97):
        row = town.likes_of(i)
        assert row.size >= 1
        assert np.all(np.diff(row) > 0)
    pop = town.page_likes
    assert pop.sum() == town.likes_indices.size
    assert np.array_equal(pop, np.bincount(town.likes_indices, minlength=town.n_pages))
    # Zipf-like: the top 10% of pages get far more than 10% of likes (~25% among 300 pages,
    # where a person's repeated likes of the top pages are merged)
    top = np.sort(pop)[::-1][: max(1, pop.size // 10)].sum() / pop.sum()
    assert top > 0.2


def test_profile_strings(town: Population) -> None:
    cols = town.profile_columns(0, 50)
    assert set(cols) == set(PROFILE_COLUMNS)
    assert all(len(v) == 50 for v in cols.values())
    assert all(e is not None and e.endswith((".com", ".org", ".net")) for e in cols["email"])
    assert len(set(cols["email"])) == 50
    assert all(c is not None and len(c) == 2 for c in cols["country"])
    with pytest.raises(InvalidInput):
        town.profile_columns(10, town.n + 1)


def test_small_population_with_every_field_filled() -> None:
    pop = generate_population(50, seed=1, fill_all=True)
    cols = pop.profile_columns(0, pop.n)
    for name, values in cols.items():
        assert all(v is not None and v != "" for v in values), name
    assert pop.graph.degree.min() >= 1
    assert np.diff(pop.likes_indptr).min() >= 1


def test_npz_round_trip(tmp_path: Path, town: Population) -> None:
    path = town.save(tmp_path / "town.npz")
    back = Population.load(path)
    for name, value in town.arrays().items():
        got = back.arrays()[name]
        if isinstance(value, np.ndarray):
            assert np.array_equal(value, got), name
            assert value.dtype == got.dtype, name
        else:
            assert value == got, name


def test_bad_input() -> None:
    with pytest.raises(InvalidInput):
        generate_population(0, seed=1)
    with pytest.raises(InvalidInput):
        generate_population(10, seed=-1)
    with pytest.raises(InvalidInput):
        generate_population(10, seed=1, preset_name="1999")
    with pytest.raises(InvalidInput):
        generate_population(10, seed=1, median_friends=50)
    with pytest.raises(InvalidInput):
        generate_population(10, seed=1, median_friends=300, mean_friends=100)


def test_load_rejects_other_files(tmp_path: Path) -> None:
    bad = tmp_path / "x.npz"
    np.savez(bad, a=np.arange(3))
    with pytest.raises(InvalidInput):
        Population.load(bad)
    with pytest.raises(InvalidInput):
        Population.load(tmp_path / "missing.npz")


def test_page_popularity_counts_in_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    from graphwarden.simulation import settings as population_settings

    likes = np.random.default_rng(2).integers(0, 40, size=1_001).astype(np.int32)
    monkeypatch.setattr(population_settings, "_COUNT_STEP", 100)
    counted = population_settings.page_popularity(likes, 50)
    assert counted.dtype == np.int64
    assert np.array_equal(counted, np.bincount(likes, minlength=50))
