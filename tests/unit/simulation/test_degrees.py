"""Calibration of the friendship model at a moderate size, and the model's building blocks.

At 60,000 people the countries are small, so random home-country friendships close more
triangles than at scale: clustering is checked against a wider band here; the 10% promise
on the median person's clustering is measured at 1,000,000 people by
``benchmarks/bench_population.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from graphwarden.core.errors import InvalidInput
from graphwarden.graph.stats import PRESETS, measure, relative_errors
from graphwarden.simulation import degrees
from graphwarden.simulation.degrees import (
    DegreeModel,
    build_graph,
    circle_bounds,
    scaled_model,
    target_degrees,
)
from graphwarden.simulation.population import generate_population


def test_calibration_at_moderate_size() -> None:
    pop = generate_population(60_000, seed=2)
    stats = measure(pop.graph, pop.country, sample=300, seed=1)
    errors = relative_errors(stats, PRESETS["2014"])
    assert errors["median_degree"] <= 0.10
    assert errors["mean_degree"] <= 0.10
    assert 0.10 <= stats.clustering_median_person <= 0.30
    assert stats.giant_component_share >= 0.99
    assert stats.home_share is not None
    assert stats.home_share >= 0.55
    assert stats.paradox_share >= 0.7  # the friendship paradox shows
    assert pop.graph.degree.max() <= 5_000


def test_target_degrees_follow_the_lognormal() -> None:
    model = DegreeModel(median=200, mean=338)
    k = target_degrees(model, 200_000, seed=4)
    assert abs(np.median(k) - 200) / 200 < 0.02
    assert k.min() >= 1
    assert k.max() <= 5_000
    assert np.array_equal(k, target_degrees(model, 200_000, seed=4))


def test_small_populations_scale_the_model() -> None:
    small = scaled_model(DegreeModel(median=200, mean=338), 50)
    assert small.cap == 49
    assert small.mean <= 49 / 8 + 1e-9
    assert small.mean / small.median == pytest.approx(338 / 200)
    big = DegreeModel(median=200, mean=338)
    assert scaled_model(big, 1_000_000) is big


def test_circles_never_straddle_a_country() -> None:
    counts = np.array([500, 0, 37, 2_000], dtype=np.int64)
    bounds = circle_bounds(counts, DegreeModel(median=100, mean=150), seed=1)
    assert bounds[0] == 0
    assert bounds[-1] == counts.sum()
    for edge in np.cumsum(counts)[:-1]:
        assert edge in bounds
    assert np.all(np.diff(bounds) > 0)


def test_model_rejects_impossible_figures() -> None:
    with pytest.raises(InvalidInput):
        DegreeModel(median=300, mean=200)
    with pytest.raises(InvalidInput):
        DegreeModel(median=0, mean=10)
    with pytest.raises(InvalidInput):
        DegreeModel(median=100, mean=6_000)


def test_graph_does_not_depend_on_the_number_of_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    # small blocks so several are assembled concurrently
    monkeypatch.setattr(degrees, "_BLOCK_ENTRIES", 50_000)
    counts = np.array([3_000, 1_500, 500], dtype=np.int64)
    model = DegreeModel(median=40, mean=70)
    graphs = []
    for threads in (1, 2, 3):
        monkeypatch.setattr(degrees, "BUILD_THREADS", threads)
        graph, circle = build_graph(model, counts, seed=8)
        graphs.append((graph.indptr, graph.indices, circle))
    graph.validate()
    for other in graphs[1:]:
        for a, b in zip(graphs[0], other, strict=True):
            assert np.array_equal(a, b)


def test_a_failing_block_fails_the_build_without_hanging(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(degrees, "_BLOCK_ENTRIES", 20_000)
    real = degrees.assemble_rows
    calls: list[int] = []

    def flaky(first_row: int, n_rows: int, sources: list[object]) -> object:
        calls.append(first_row)
        if len(calls) == 3:
            raise MemoryError("no room for this block")
        return real(first_row, n_rows, sources)  # type: ignore[arg-type]

    monkeypatch.setattr(degrees, "assemble_rows", flaky)
    with pytest.raises(MemoryError, match="no room"):
        build_graph(DegreeModel(median=40, mean=70), np.array([4_000], dtype=np.int64), seed=1)
    assert len(calls) >= 3


def test_read_partners_are_handed_back_and_the_graph_is_unchanged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import mmap

    if not hasattr(mmap, "MADV_DONTNEED"):
        pytest.skip("no madvise here")
    monkeypatch.setattr(degrees, "_RELEASE_STEP", mmap.PAGESIZE)
    partners = degrees._ReadOnce(10 * mmap.PAGESIZE)
    partners.array[:] = 7
    partners.release_before(3 * mmap.PAGESIZE // 4 + 5)  # three pages and a bit
    released = 3 * mmap.PAGESIZE // 4
    assert not partners.array[:released].any()  # handed back: reads as fresh zero pages
    assert (partners.array[released:] == 7).all()

    counts = np.array([6_000, 2_000], dtype=np.int64)
    model = DegreeModel(median=40, mean=70)
    monkeypatch.setattr(degrees, "_BLOCK_ENTRIES", 30_000)
    released_graph, _ = build_graph(model, counts, seed=4)
    monkeypatch.setattr(degrees, "_RELEASE_STEP", 1 << 40)  # never mapped apart
    plain_graph, _ = build_graph(model, counts, seed=4)
    assert np.array_equal(released_graph.indptr, plain_graph.indptr)
    assert np.array_equal(released_graph.indices, plain_graph.indices)
