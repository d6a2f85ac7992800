"""Rows of the friendship CSR, assembled one block of people at a time.

Every source of friendships hands over its entries already grouped by person: circle
friends (drawn here, as a symmetric accept matrix per circle), the partners of home and away
stubs (:func:`~graphwarden.simulation.matching.match_pool`) and the connecting chain. Each
person's entries from all sources are copied into one slot padded to a fixed length class
(32, 64, ... entries), the slots of a class form one 2-d array, and ``sort(axis=1)`` orders
every row at once: rows of up to 512 entries sort in a few vector passes, far faster than one
sort of a whole block's packed ``row << 32 | column`` keys. Repeats, self-pairs and padding
are then dropped and the kept entries written back in row order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

#: padding of the row slots: sorts to the end of its row and is dropped
SENTINEL = np.iinfo(np.int32).max
#: slot lengths a row's entries are padded to (longer rows: the next power of two)
SLOT_LENGTHS = (32, 64, 128, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192)
#: circle pair cells (circles × size × size) evaluated per vectorised step
PAIR_BUDGET = 4_000_000

Int64Array = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]


@dataclass(frozen=True, slots=True)
class RowEntries:
    """Entries grouped by row: group ``g`` is ``counts[g]`` values for block row ``rows[g]``.

    Groups are consecutive in ``values``; a row appears at most once in a source.
    """

    values: Int32Array
    rows: Int64Array
    counts: Int64Array

    @classmethod
    def in_row_order(cls, values: Int32Array, counts: npt.NDArray[np.integer]) -> RowEntries:
        """A source holding ``counts[r]`` entries for every block row ``r``, in row order."""
        return cls(values, np.arange(counts.size, dtype=np.int64), counts.astype(np.int64))


def _starts(counts: Int64Array) -> Int64Array:
    """Exclusive prefix sums: where each group starts."""
    out = np.zeros(counts.size, dtype=np.int64)
    np.cumsum(counts[:-1], out=out[1:])
    return out


def _scatter_groups(
    dest: Int32Array, slot: Int64Array, counts: Int64Array, values: Int32Array
) -> None:
    """``dest[slot[g] + k] = values[start of group g + k]`` for every group ``g``.

    The positions are a running sum of steps (1 inside a group, a jump where one starts):
    unlike ``np.repeat``, nothing here holds the GIL, so blocks assemble side by side.
    """
    if values.size == 0:
        return
    held = np.flatnonzero(counts)
    first, size = slot[held], counts[held]
    where = np.ones(values.size, dtype=np.int64)
    where[_starts(size)] = first - np.concatenate([[1], first[:-1] + size[:-1]]) + 1
    np.add.accumulate(where, out=where)
    dest[where] = values


def _slot_table(longest: int) -> Int64Array:
    lengths = list(SLOT_LENGTHS)
    while lengths[-1] < longest:
        lengths.append(lengths[-1] * 2)
    return np.array(lengths, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class AssembledRows:
    """A block's rows, sorted and distinct: ``counts[r]`` friends for block row ``r``.

    The friend ids are held by length class; :meth:`write` puts them in row order into the
    final array, so a block's ids are copied once, where they belong.
    """

    counts: Int64Array
    pieces: list[tuple[Int64Array, Int32Array]]

    @property
    def size(self) -> int:
        return int(self.counts.sum())

    def write(self, dest: Int32Array) -> None:
        """Write the friend ids, row after row, into ``dest`` (``size`` entries)."""
        row_start = _starts(self.counts)
        for rows, values in self.pieces:
            _scatter_groups(dest, row_start[rows], self.counts[rows], values)

    def columns(self) -> Int32Array:
        """The friend ids in row order, as a new array."""
        out = np.empty(self.size, dtype=np.int32)
        self.write(out)
        return out


def assemble_rows(first_row: int, n_rows: int, sources: list[RowEntries]) -> AssembledRows:
    """Sorted, distinct friend ids of rows ``first_row .. first_row + n_rows``.

    Self-pairs (a row listing itself) are dropped.
    """
    total = np.zeros(n_rows, dtype=np.int64)
    for src in sources:
        total[src.rows] += src.counts
    table = _slot_table(int(total.max(initial=0)))
    slot_class = np.searchsorted(table, total)
    by_class = np.argsort(slot_class, kind="stable")
    length = table[slot_class]
    slot = np.empty(n_rows, dtype=np.int64)
    slot[by_class] = _starts(length[by_class])
    padded = np.full(int(length.sum()), SENTINEL, dtype=np.int32)
    for src in sources:
        _scatter_groups(padded, slot[src.rows], src.counts, src.values)
        slot[src.rows] += src.counts
    del slot
    kept = np.zeros(n_rows, dtype=np.int64)
    pieces: list[tuple[Int64Array, Int32Array]] = []
    at, done = 0, 0
    for k, in_class in enumerate(np.bincount(slot_class, minlength=table.size).tolist()):
        if not in_class:
            continue
        width = int(table[k])
        rows = by_class[done : done + in_class]
        done += in_class
        grid = padded[at : at + rows.size * width].reshape(rows.size, width)
        at += grid.size
        grid.sort(axis=1)
        keep = np.empty(grid.shape, dtype=bool)
        keep[:, 0] = True
        np.not_equal(grid[:, 1:], grid[:, :-1], out=keep[:, 1:])
        keep &= grid != (rows + first_row).astype(np.int32)[:, None]
        keep &= grid != SENTINEL
        kept[rows] = keep.sum(axis=1)
        pieces.append((rows, grid[keep]))
    return AssembledRows(kept, pieces)


@lru_cache(maxsize=512)
def _upper(s: int) -> npt.NDArray[np.bool_]:
    return np.triu(np.ones((s, s), dtype=bool), 1)


def circle_entries(
    starts: Int64Array,
    sizes: Int64Array,
    local: npt.NDArray[np.float32],
    first_row: int,
    rng: np.random.Generator,
) -> list[RowEntries]:
    """Chung–Lu friendships inside each circle, both directions, grouped by row.

    Circles are given by block-relative ``starts`` and ``sizes``; member ``i`` and ``j`` of
    a circle become friends with probability ``min(1, a_i a_j / S)`` (``a = local``, ``S``
    the circle's sum). Per circle the upper triangle is drawn and mirrored, so each row's
    circle friends come out ascending.
    """
    out: list[RowEntries] = []
    for s in np.unique(sizes).tolist():
        if s < 2:
            continue
        upper = _upper(s)
        cs = starts[sizes == s]
        per = max(1, PAIR_BUDGET // (s * s))
        for c0 in range(0, cs.size, per):
            members = cs[c0 : c0 + per, None] + np.arange(s, dtype=np.int64)[None, :]
            w = local[members]
            total = w.sum(axis=1, keepdims=True)
            total[total <= 0] = 1.0
            p = w[:, :, None] * (w / total)[:, None, :]
            accept = rng.random(p.shape, dtype=np.float32) < p
            del p
            accept &= upper
            accept |= accept.transpose(0, 2, 1)
            counts = accept.sum(axis=2, dtype=np.int64).ravel()
            # cell k is row k // s of the step, friend k % s of that row's circle
            cell = np.flatnonzero(accept)
            del accept
            row = cell // s
            cell -= row * s
            cell += np.repeat(members[:, 0] + first_row, s)[row]
            out.append(RowEntries(cell.astype(np.int32), members.ravel(), counts))
    return out


__all__ = [
    "PAIR_BUDGET",
    "SLOT_LENGTHS",
    "AssembledRows",
    "RowEntries",
    "assemble_rows",
    "circle_entries",
]
