"""Row assembly: every source's entries per row, sorted, distinct, without self-pairs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphwarden.simulation import assembly
from graphwarden.simulation.assembly import RowEntries, assemble_rows, circle_entries


def _expected(first_row: int, n_rows: int, sources: list[RowEntries]) -> list[list[int]]:
    rows: list[set[int]] = [set() for _ in range(n_rows)]
    for src in sources:
        at = 0
        for row, count in zip(src.rows.tolist(), src.counts.tolist(), strict=True):
            rows[row].update(src.values[at : at + count].tolist())
            at += count
    return [sorted(r - {first_row + i}) for i, r in enumerate(rows)]


@st.composite
def block_sources(draw: st.DrawFn) -> tuple[int, int, list[RowEntries]]:
    n_rows = draw(st.integers(1, 40))
    first_row = draw(st.integers(0, 100))
    n_ids = first_row + n_rows + draw(st.integers(0, 60))
    sources = []
    for _ in range(draw(st.integers(1, 4))):
        order = draw(st.permutations(range(n_rows)))
        rows = order[: draw(st.integers(0, n_rows))]
        # long rows too, so several length classes (and the longest) are used
        counts = [draw(st.sampled_from([0, 1, 2, 5, 40, 300, 700])) for _ in rows]
        values = draw(
            st.lists(st.integers(0, n_ids - 1), min_size=sum(counts), max_size=sum(counts))
        )
        sources.append(
            RowEntries(
                np.array(values, dtype=np.int32),
                np.array(rows, dtype=np.int64),
                np.array(counts, dtype=np.int64),
            )
        )
    return first_row, n_rows, sources


@settings(max_examples=60, deadline=None)
@given(block=block_sources())
def test_rows_are_sorted_distinct_and_complete(block: tuple[int, int, list[RowEntries]]) -> None:
    first_row, n_rows, sources = block
    rows = assemble_rows(first_row, n_rows, sources)
    expected = _expected(first_row, n_rows, sources)
    assert rows.counts.tolist() == [len(r) for r in expected]
    columns = rows.columns()
    assert columns.dtype == np.int32
    assert columns.tolist() == [c for r in expected for c in r]
    # writing into a slice of a larger array touches only that slice
    dest = np.full(columns.size + 4, -1, dtype=np.int32)
    rows.write(dest[2 : 2 + columns.size])
    assert dest[:2].tolist() == [-1, -1]
    assert dest[-2:].tolist() == [-1, -1]
    assert np.array_equal(dest[2:-2], columns)


def test_rows_longer_than_every_slot_class(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(assembly, "SLOT_LENGTHS", (32, 64))
    values = np.arange(1_000, 0, -1, dtype=np.int32) % 300
    src = RowEntries.in_row_order(values, np.array([1_000]))
    rows = assemble_rows(5, 1, [src])
    assert rows.columns().tolist() == [v for v in range(300) if v != 5]


def test_circle_friends_are_mutual_ascending_and_inside_the_circle() -> None:
    rng = np.random.default_rng(5)
    sizes = np.array([7, 12, 7, 1, 30], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    local = rng.uniform(0, 10, int(sizes.sum())).astype(np.float32)
    first_row = 1_000
    sources = circle_entries(starts, sizes, local, first_row, rng)
    friends: dict[int, list[int]] = {}
    for src in sources:
        at = 0
        for row, count in zip(src.rows.tolist(), src.counts.tolist(), strict=True):
            friends[first_row + row] = src.values[at : at + count].tolist()
            at += count
    circle_of = np.repeat(np.arange(sizes.size), sizes)
    assert friends  # some circle friendships were drawn
    for person, theirs in friends.items():
        assert theirs == sorted(set(theirs))
        assert person not in theirs
        for friend in theirs:
            assert circle_of[friend - first_row] == circle_of[person - first_row]
            assert person in friends[friend]


def test_full_weights_make_a_circle_complete() -> None:
    # a_i a_j / S >= 1 for every pair: everyone in the circle befriends everyone else
    sizes = np.array([6], dtype=np.int64)
    local = np.full(6, 100.0, dtype=np.float32)
    (src,) = circle_entries(np.array([0]), sizes, local, 0, np.random.default_rng(1))
    assert src.counts.tolist() == [5] * 6
