"""Configuration-model stub matching whose result comes out grouped by person.

A pool is a list of stubs in person order (person ``p`` holds ``counts[p]`` consecutive
stubs). :func:`match_pool` pairs the stubs at random and returns, for every stub *in that
same order*, the person its partner belongs to: the friends a pool gives each person are a
contiguous slice, with no routing of edges to rows and no sort by row.

How: the even-numbered stubs (side A) are matched to the odd-numbered ones (side B) through a
uniformly random bijection ``order``: A-stub ``i`` pairs with B-stub ``order[i]``. Reading
the partners of A is one gather (``b[order]``), writing the partners of B one scatter
(``b[order] = a``): a bijection needs no counting of how many entries a row already has.
Every person's stubs alternate between the two sides, so a stub's partner is a person drawn
in proportion to their stub count, as in the configuration model; a person's stubs may pair
with each other or twice with the same person (dropped self-pairs and merged repeats when
rows are assembled).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

#: items shuffled at once when mixing (fits a core's cache: 1 MiB of int32)
MIX_WINDOW = 1 << 18
#: windows dealt per step
_DEAL_WINDOWS = 16
#: stubs handled per step of the gather and the scatter (bounds temporary memory)
_STEP = 1 << 20


def random_order(size: int, rng: np.random.Generator) -> npt.NDArray[np.integer]:
    """A random permutation of ``range(size)`` in which neighbours are uniformly random.

    A full Fisher–Yates shuffle of hundreds of millions of items is one cache miss per
    element. Instead: ``w`` equal cache-sized windows of ``0, 1, 2, ...`` are shuffled and
    dealt out like cards (window ``i``'s ``k``-th item goes to position ``k * w + i``), then
    the windows of the dealt order are shuffled again. After the deal every window holds an
    equal share of every original window, each a random subset, so after the second shuffle
    each item sits next to a uniformly random other one. The fewer than ``w`` items left over
    by equal windows join the last window. Small sizes are shuffled outright. ``int32`` unless
    ``size`` needs more.
    """
    index_type = np.int32 if size < 2**31 else np.int64
    if size <= MIX_WINDOW * 2:
        order = np.arange(size, dtype=index_type)
        rng.shuffle(order)
        return order
    windows = -(-size // MIX_WINDOW)
    width = size // windows
    dealt_size = windows * width
    # numpy shuffles 8-byte items by a faster path than 4-byte ones (same draws, same order)
    wide = np.empty(width + windows, dtype=np.int64)

    def shuffle(part: npt.NDArray[np.integer]) -> None:
        held = wide[: part.size]
        held[:] = part
        rng.shuffle(held)
        part[:] = held

    order = np.empty(size, dtype=index_type)
    grid = order[:dealt_size].reshape(width, windows)
    # windows are shuffled a few at a time and dealt at once (each row of the deal receives
    # a cache line), so no array holds all the items in their first order
    slab = np.empty((min(windows, _DEAL_WINDOWS), width), dtype=index_type)
    for w0 in range(0, windows, slab.shape[0]):
        rows = slab[: min(slab.shape[0], windows - w0)]
        for j in range(rows.shape[0]):
            wide[:width] = np.arange((w0 + j) * width, (w0 + j + 1) * width)
            rng.shuffle(wide[:width])
            rows[j] = wide[:width]
        grid[:, w0 : w0 + rows.shape[0]] = rows.T
    order[dealt_size:] = np.arange(dealt_size, size)
    del grid, slab
    starts = list(range(0, dealt_size, width))
    ends = [*starts[1:], size]
    for lo, hi in zip(starts, ends, strict=True):
        shuffle(order[lo:hi])
    return order


def owners(
    counts: npt.NDArray[np.integer], first: int, out: npt.NDArray[np.int32] | None = None
) -> npt.NDArray[np.int32]:
    """``np.repeat(first + arange(len(counts)), counts)``, built without holding the GIL.

    Each person's run starts with the step from the previous non-empty person's id; one
    running sum turns the steps into ids. (``np.repeat`` holds the GIL: two threads building
    pools would take turns.) ``out``, if given, receives the result (``sum(counts)`` long).
    """
    ends = np.cumsum(counts, dtype=np.int64)
    size = int(ends[-1]) if ends.size else 0
    if out is None:
        out = np.zeros(size, dtype=np.int32)
    elif out.shape != (size,):
        raise ValueError(f"out holds {out.size} entries, the pool {size}")
    else:
        out.fill(0)
    held = np.flatnonzero(counts)
    if held.size:
        out[ends[held] - counts[held]] = np.diff(held, prepend=-first)
        np.add.accumulate(out, out=out)
    return out


def match_pool(
    counts: npt.NDArray[np.integer],
    first: int,
    rng: np.random.Generator,
    out: npt.NDArray[np.int32] | None = None,
) -> npt.NDArray[np.int32]:
    """Partners of a pool's stubs, in stub order (see the module docstring).

    ``counts[k]`` is how many stubs person ``first + k`` holds; their total must be even.
    Entry ``j`` of the result is the person whose stub was paired with stub ``j``, so person
    ``first + k``'s partners are the slice ``[sum(counts[:k]), sum(counts[:k + 1]))``.
    Working memory beyond the result: the bijection, half its length. ``out``, if given,
    receives the result.

    >>> match_pool(np.array([1, 1]), 5, np.random.default_rng(0)).tolist()
    [6, 5]
    """
    stubs = owners(counts, first, out)
    if stubs.size % 2:
        raise ValueError("a pool needs an even number of stubs")
    half = stubs.size // 2
    order = random_order(half, rng)
    side_a, side_b = stubs[0::2], stubs[1::2]
    # A-stub i's partner is B-stub order[i]; A's own owners are overwritten here ...
    for i0 in range(0, half, _STEP):
        side_a[i0 : i0 + _STEP] = side_b[order[i0 : i0 + _STEP]]
    # ... and rebuilt a step at a time for the scatter: B-stub order[i]'s partner is A-stub i
    ends = np.cumsum(counts, dtype=np.int64)
    for i0 in range(0, half, _STEP):
        i1 = min(i0 + _STEP, half)
        lo, hi = np.searchsorted(ends, [2 * i0, 2 * i1 - 1], side="right")
        run = owners(counts[lo : hi + 1], first + int(lo))
        skip = 2 * i0 - int(ends[lo] - counts[lo])
        side_b[order[i0:i1]] = run[skip : skip + 2 * (i1 - i0) : 2]
    return stubs


__all__ = ["MIX_WINDOW", "match_pool", "owners", "random_order"]
