"""Calibration statistics on graphs whose answers are known by hand."""

from __future__ import annotations

import numpy as np
import pytest

from graphwarden.core.errors import InvalidInput
from graphwarden.graph.bulk import BulkGraph
from graphwarden.graph.stats import (
    PRESETS,
    calibration_table,
    giant_component_share,
    home_share,
    local_clustering,
    measure,
    preset,
    relative_errors,
)


def _complete(n: int) -> BulkGraph:
    a, b = np.triu_indices(n, 1)
    return BulkGraph.from_edges(n, a, b)


def test_clustering_of_complete_graph_and_star() -> None:
    assert local_clustering(_complete(6), range(6)).tolist() == [1.0] * 6
    star = BulkGraph.from_edges(5, [0, 0, 0, 0], [1, 2, 3, 4])
    assert local_clustering(star, [0, 1]).tolist() == [0.0, 0.0]
    # a square with one diagonal: node 0 has friends 1, 2, 3 and only 1-2... pairs
    g = BulkGraph.from_edges(4, [0, 1, 2, 3, 0], [1, 2, 3, 0, 2])
    assert local_clustering(g, [0]).tolist() == pytest.approx([2 / 3])


def test_giant_component_share() -> None:
    # components of sizes 5 and 3 and an isolated person
    g = BulkGraph.from_edges(9, [0, 1, 2, 3, 5, 6], [1, 2, 3, 4, 6, 7])
    assert giant_component_share(g) == pytest.approx(5 / 9)
    assert giant_component_share(g, chunk=1) == pytest.approx(5 / 9)


def test_home_share_counts_friendships_within_a_country() -> None:
    g = BulkGraph.from_edges(4, [0, 0, 2], [1, 2, 3])
    assert home_share(g, np.array([0, 0, 1, 1])) == pytest.approx(2 / 3)
    with pytest.raises(InvalidInput):
        home_share(g, np.array([0, 1]))


def test_measure_and_errors_on_a_complete_graph() -> None:
    stats = measure(_complete(11), np.zeros(11, dtype=np.uint8), seed=1)
    assert stats.median_degree == 10
    assert stats.mean_degree == 10
    assert stats.clustering_median_person == 1.0
    assert stats.giant_component_share == 1.0
    assert stats.home_share == 1.0
    assert stats.buckets["1-100"] == 1.0
    assert stats.paradox_share == 0.0  # nobody has fewer friends than their friends' median
    errors = relative_errors(stats, PRESETS["2011"])
    assert errors["median_degree"] == pytest.approx(abs(10 - 99) / 99)
    rows = {r["figure"]: r for r in calibration_table(stats, PRESETS["2014"])}
    assert rows["bucket >500"]["target"] == 0.15
    assert rows["median_degree"]["within_10pct"] is False


def test_unknown_preset_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="2014"):
        preset("1999")
