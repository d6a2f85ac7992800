"""The friendship graph as compressed sparse rows (CSR), for the bulk policy face and replays.

Row ``i`` of a :class:`BulkGraph` lists the friends of person index ``i`` (store id ``i + 1``)
as ascending ``int32`` indices ``indices[indptr[i]:indptr[i + 1]]``. Friendship is symmetric,
so every edge appears in both rows. A 10-million-person population with ~340 friends each is
~13.5 GiB of ``int32`` neighbour ids; everything here is vectorised and chunked so the working
set beyond those arrays stays small.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from graphwarden.core.errors import InvalidInput
from graphwarden.graph.fields import Relation

IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
BoolArray = npt.NDArray[np.bool_]

#: how many neighbour ids one vectorised step may materialise (bounds temporary memory)
_EXPAND_BUDGET = 8_000_000


def sorted_unique(values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Distinct values, ascending: sort then drop repeats.

    ``np.unique`` on large integer arrays takes a hash-based path that is an order of
    magnitude slower than sorting here; this is the path every bulk step uses.
    """
    out = np.sort(values, kind="quicksort")
    if out.size < 2:
        return out
    keep = np.empty(out.size, dtype=bool)
    keep[0] = True
    np.not_equal(out[1:], out[:-1], out=keep[1:])
    kept: npt.NDArray[np.int64] = out[keep]
    return kept


@dataclass(frozen=True, slots=True, eq=False)
class BulkGraph:
    """An undirected simple graph in CSR form (sorted rows, no self-loops, symmetric)."""

    indptr: IntArray
    indices: Int32Array

    def __post_init__(self) -> None:
        if self.indptr.ndim != 1 or self.indptr.size < 1:
            raise InvalidInput("indptr must be a non-empty 1-d array")
        if int(self.indptr[-1]) != self.indices.size:
            raise InvalidInput("indptr[-1] must equal the number of neighbour entries")

    @property
    def n(self) -> int:
        """Number of people (rows)."""
        return int(self.indptr.size - 1)

    @property
    def n_edges(self) -> int:
        """Number of undirected friendships (each is stored twice)."""
        return int(self.indices.size // 2)

    @property
    def degree(self) -> IntArray:
        """Friend count of every person."""
        return np.diff(self.indptr)

    def neighbors(self, i: int) -> Int32Array:
        """Friends of person index ``i``, ascending."""
        if not 0 <= i < self.n:
            raise InvalidInput(f"person index {i} out of range 0..{self.n - 1}")
        return self.indices[self.indptr[i] : self.indptr[i + 1]]

    def _check(self, a: IntArray) -> None:
        if a.size and (int(a.min()) < 0 or int(a.max()) >= self.n):
            raise InvalidInput(f"person index out of range 0..{self.n - 1}")

    def lower_bound(self, rows: npt.ArrayLike, values: npt.ArrayLike) -> IntArray:
        """Position in ``indices`` of the first entry ``>= values[k]`` within row ``rows[k]``.

        A binary search run on all queries at once: ~log2(max degree) vectorised passes.
        """
        r = np.asarray(rows, dtype=np.int64).ravel()
        v = np.asarray(values, dtype=np.int64).ravel()
        if r.shape != v.shape:
            raise InvalidInput("rows and values must have the same length")
        self._check(r)
        lo = self.indptr[r].copy()
        hi = self.indptr[r + 1].copy()
        last = max(self.indices.size - 1, 0)
        while True:
            active = lo < hi
            if not active.any():
                break
            mid = (lo + hi) // 2
            # clamp so finished lanes never read past the array
            less = self.indices[np.minimum(mid, last)] < v
            lo = np.where(active & less, mid + 1, lo)
            hi = np.where(active & ~less, mid, hi)
        return lo

    def contains(self, rows: npt.ArrayLike, values: npt.ArrayLike) -> BoolArray:
        """Whether ``values[k]`` is in row ``rows[k]``, for every ``k`` (vectorised)."""
        r = np.asarray(rows, dtype=np.int64).ravel()
        v = np.asarray(values, dtype=np.int64).ravel()
        pos = self.lower_bound(r, v)
        if self.indices.size == 0:
            return np.zeros(r.size, dtype=bool)
        found: BoolArray = pos < self.indptr[r + 1]
        found &= self.indices[np.minimum(pos, self.indices.size - 1)] == v
        return found

    def without(self, rows: npt.ArrayLike, values: npt.ArrayLike) -> BulkGraph:
        """A copy without the friendships ``(rows[k], values[k])`` (both directions)."""
        r = np.asarray(rows, dtype=np.int64).ravel()
        v = np.asarray(values, dtype=np.int64).ravel()
        rr, vv = np.concatenate([r, v]), np.concatenate([v, r])
        hit = self.contains(rr, vv)
        pos = self.lower_bound(rr[hit], vv[hit])
        pos = sorted_unique(pos)
        removed = np.bincount(sorted_unique(rr[hit] * self.n + vv[hit]) // self.n, minlength=self.n)
        indptr = np.zeros_like(self.indptr)
        np.cumsum(self.degree - removed, out=indptr[1:])
        return BulkGraph(indptr=indptr, indices=np.delete(self.indices, pos))

    def are_friends(self, a: npt.ArrayLike, b: npt.ArrayLike) -> BoolArray:
        """Vectorised friendship test of the pairs ``(a[k], b[k])``.

        >>> g = BulkGraph.from_edges(3, [0], [1]); g.are_friends([0, 0], [1, 2]).tolist()
        [True, False]
        """
        return self.contains(a, b)

    def mutual_friend_exists(self, a: npt.ArrayLike, b: npt.ArrayLike) -> BoolArray:
        """Whether ``a[k]`` and ``b[k]`` share at least one friend (vectorised, chunked)."""
        x = np.asarray(a, dtype=np.int64).ravel()
        y = np.asarray(b, dtype=np.int64).ravel()
        if x.shape != y.shape:
            raise InvalidInput("a and b must have the same length")
        self._check(x)
        self._check(y)
        deg = self.degree
        # expand the smaller row of each pair and look its members up in the larger one
        swap = deg[x] > deg[y]
        small = np.where(swap, y, x)
        large = np.where(swap, x, y)
        out = np.zeros(x.size, dtype=bool)
        lens = deg[small]
        start = 0
        while start < x.size:
            csum = np.cumsum(lens[start:])
            stop = start + max(1, int(np.searchsorted(csum, _EXPAND_BUDGET, side="right")))
            stop = min(stop, x.size)
            seg_len = lens[start:stop]
            total = int(seg_len.sum())
            if total:
                pair = np.repeat(np.arange(start, stop), seg_len)
                offsets = np.cumsum(seg_len) - seg_len
                pos = np.arange(total) - np.repeat(offsets, seg_len)
                members = self.indices[np.repeat(self.indptr[small[start:stop]], seg_len) + pos]
                hit = self.contains(large[pair], members)
                out[start:stop] = np.bincount(pair[hit] - start, minlength=stop - start) > 0
            start = stop
        return out

    def relation(self, owner: npt.ArrayLike, subject: npt.ArrayLike) -> npt.NDArray[np.uint8]:
        """:class:`Relation` codes of each ``subject[k]`` as seen from ``owner[k]``."""
        o = np.asarray(owner, dtype=np.int64).ravel()
        s = np.asarray(subject, dtype=np.int64).ravel()
        if o.shape != s.shape:
            raise InvalidInput("owner and subject must have the same length")
        rel = np.full(o.size, Relation.STRANGER, dtype=np.uint8)
        friend = self.are_friends(o, s)
        rel[friend] = Relation.FRIEND
        rest = np.flatnonzero(~friend & (o != s))
        if rest.size:
            fof = self.mutual_friend_exists(o[rest], s[rest])
            rel[rest[fof]] = Relation.FRIEND_OF_FRIEND
        rel[o == s] = Relation.SELF
        return rel

    def row_of_entries(self) -> IntArray:
        """The row index of every neighbour entry (``len(indices)`` int64; for small graphs)."""
        return np.repeat(np.arange(self.n, dtype=np.int64), self.degree)

    @classmethod
    def from_edges(cls, n: int, a: npt.ArrayLike, b: npt.ArrayLike) -> BulkGraph:
        """Build from undirected edge lists; drops self-loops and duplicates.

        For small and medium graphs (tests, store reads): it sorts ``2 * len(a)`` int64 keys.
        """
        u = np.asarray(a, dtype=np.int64).ravel()
        v = np.asarray(b, dtype=np.int64).ravel()
        if u.shape != v.shape:
            raise InvalidInput("edge endpoint arrays must have the same length")
        if n < 0:
            raise InvalidInput("n must be non-negative")
        for arr in (u, v):
            if arr.size and (int(arr.min()) < 0 or int(arr.max()) >= n):
                raise InvalidInput(f"edge endpoint out of range 0..{n - 1}")
        keep = u != v
        u, v = u[keep], v[keep]
        keys = sorted_unique(np.concatenate([u * n + v, v * n + u]))
        rows = keys // max(n, 1)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
        return cls(indptr=indptr, indices=(keys % max(n, 1)).astype(np.int32))

    def validate(self) -> None:
        """Raise ``InvalidInput`` unless rows are sorted, simple and symmetric (for tests)."""
        rows = self.row_of_entries()
        idx = self.indices.astype(np.int64)
        if np.any(idx == rows):
            raise InvalidInput("self-loop in graph")
        same_row = rows[1:] == rows[:-1]
        if np.any(same_row & (idx[1:] <= idx[:-1])):
            raise InvalidInput("row not strictly ascending (unsorted or duplicate)")
        if not np.all(self.contains(idx, rows)):
            raise InvalidInput("graph is not symmetric")


__all__ = ["BulkGraph", "sorted_unique"]
