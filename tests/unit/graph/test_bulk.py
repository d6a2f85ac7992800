"""The bulk CSR graph: construction, friendship tests, relations, against a plain-set oracle."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphwarden.core.errors import InvalidInput
from graphwarden.graph.bulk import BulkGraph
from graphwarden.graph.fields import Relation


@st.composite
def graphs(draw: st.DrawFn) -> tuple[int, list[tuple[int, int]]]:
    n = draw(st.integers(1, 25))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=80))
    return n, edges


def _adjacency(n: int, edges: list[tuple[int, int]]) -> list[set[int]]:
    adj: list[set[int]] = [set() for _ in range(n)]
    for a, b in edges:
        if a != b:
            adj[a].add(b)
            adj[b].add(a)
    return adj


@given(graphs())
@settings(max_examples=80, deadline=None)
def test_from_edges_is_the_simple_symmetric_graph(case: tuple[int, list[tuple[int, int]]]) -> None:
    n, edges = case
    g = BulkGraph.from_edges(n, [e[0] for e in edges], [e[1] for e in edges])
    g.validate()
    adj = _adjacency(n, edges)
    for i in range(n):
        assert g.neighbors(i).tolist() == sorted(adj[i])
    assert g.n_edges == sum(len(s) for s in adj) // 2


@given(graphs(), st.data())
@settings(max_examples=80, deadline=None)
def test_relations_agree_with_set_oracle(
    case: tuple[int, list[tuple[int, int]]], data: st.DataObject
) -> None:
    n, edges = case
    g = BulkGraph.from_edges(n, [e[0] for e in edges], [e[1] for e in edges])
    adj = _adjacency(n, edges)
    owners = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=30))
    subjects = data.draw(
        st.lists(st.integers(0, n - 1), min_size=len(owners), max_size=len(owners))
    )
    rel = g.relation(owners, subjects)
    for o, s, r in zip(owners, subjects, rel.tolist(), strict=True):
        if o == s:
            want = Relation.SELF
        elif s in adj[o]:
            want = Relation.FRIEND
        elif adj[o] & adj[s]:
            want = Relation.FRIEND_OF_FRIEND
        else:
            want = Relation.STRANGER
        assert r == want, (o, s)
    assert g.are_friends(owners, subjects).tolist() == [
        s in adj[o] for o, s in zip(owners, subjects, strict=True)
    ]


def test_without_removes_both_directions() -> None:
    g = BulkGraph.from_edges(4, [0, 0, 1, 2], [1, 2, 2, 3])
    h = g.without([0], [2])
    h.validate()
    assert not h.are_friends([0, 2], [2, 0]).any()
    assert h.n_edges == 3


def test_bad_input_is_invalid_input() -> None:
    g = BulkGraph.from_edges(3, [0], [1])
    with pytest.raises(InvalidInput):
        g.neighbors(3)
    with pytest.raises(InvalidInput):
        g.are_friends([0, 5], [1, 1])
    with pytest.raises(InvalidInput):
        BulkGraph.from_edges(3, [0], [3])
    with pytest.raises(InvalidInput):
        BulkGraph(indptr=np.array([0, 2], dtype=np.int64), indices=np.array([1], dtype=np.int32))
