"""Configuration-model stub matching whose result comes out grouped by person.

A pool is a list of stubs in person order (person ``p`` holds ``counts[p]`` consecutive
stubs). :func:`match_pool` pairs the stubs uniformly at random and returns, for every stub
*in that same order*, the person its partner belongs to: the friends a pool gives each person
are a contiguous slice, with no routing of edges to rows and no sort by row.

How: the even-numbered stubs (side A) are matched to the odd-numbered ones (side B) through a
random bijection ``order``: A-stub ``i`` pairs with B-stub ``order[i]``. Reading the partners
of A is one gather (``b[order]``), writing the partners of B one scatter (``b[order] = a``):
a bijection needs no counting of how many entries a row already has. Every perfect matching
of the pool arises from the same number of (split, bijection) pairs, and a fixed split into
even and odd stubs only decides which end of each pair is "A"; the pairing itself is a
configuration model (a person's stubs may pair with each other or twice with the same person:
those become dropped self-pairs and merged repeats when rows are assembled).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

#: stubs shuffled at once when mixing (fits a core's cache: 1 MiB of int32)
MIX_WINDOW = 1 << 18
#: rows of the deal moved per step
MIX_SLAB = 1 << 9


def mix_stubs(stubs: npt.NDArray[np.integer], rng: np.random.Generator) -> npt.NDArray[np.integer]:
    """Stubs in an order where each one's neighbour is a uniformly random other stub.

    A full Fisher–Yates shuffle of hundreds of millions of stubs is one cache miss per
    element. Instead: shuffle ``w`` equal cache-sized windows in place, deal them out like
    cards into a new array (window ``i``'s ``k``-th stub goes to position ``k * w + i``), and
    shuffle the windows of the dealt order again. After the deal every window holds an equal
    share of every original window, each a random subset, so the second shuffle pairs each
    stub with a uniformly random stub of the whole list. The fewer than ``w`` stubs left over
    by equal windows join the last window. Small lists are shuffled outright (in place).
    ``stubs`` is reordered in place; the result is a new array of the same size.
    """
    window = MIX_WINDOW
    if stubs.size <= window * 2:
        rng.shuffle(stubs)
        return stubs
    windows = -(-stubs.size // window)
    width = stubs.size // windows
    dealt_size = windows * width
    source = stubs[:dealt_size].reshape(windows, width)
    for w in range(windows):
        rng.shuffle(source[w])
    dealt = np.empty_like(stubs)
    grid = dealt[:dealt_size].reshape(width, windows)
    # the deal, a transpose done in slabs so both sides stay in cache
    for k0 in range(0, width, MIX_SLAB):
        grid[k0 : k0 + MIX_SLAB] = source[:, k0 : k0 + MIX_SLAB].T
    dealt[dealt_size:] = stubs[dealt_size:]
    del source, grid
    starts = list(range(0, dealt_size, width))
    ends = [*starts[1:], stubs.size]
    for lo, hi in zip(starts, ends, strict=True):
        rng.shuffle(dealt[lo:hi])
    return dealt


def match_pool(
    counts: npt.NDArray[np.integer], first: int, rng: np.random.Generator
) -> npt.NDArray[np.int32]:
    """Partners of a pool's stubs, in stub order (see the module docstring).

    ``counts[k]`` is how many stubs person ``first + k`` holds; their total must be even.
    Entry ``j`` of the result is the person whose stub was paired with stub ``j``, so person
    ``first + k``'s partners are the slice ``[sum(counts[:k]), sum(counts[:k + 1]))``.

    >>> match_pool(np.array([1, 1]), 5, np.random.default_rng(0)).tolist()
    [6, 5]
    """
    people = np.arange(first, first + counts.size, dtype=np.int32)
    stubs = np.repeat(people, counts)
    if stubs.size % 2:
        raise ValueError("a pool needs an even number of stubs")
    half = stubs.size // 2
    index_type = np.int32 if half < 2**31 else np.int64
    order = mix_stubs(np.arange(half, dtype=index_type), rng)
    side_a, side_b = stubs[0::2], stubs[1::2]
    partners_of_a = side_b[order]
    # B-stub order[i] pairs with A-stub i; A's values are read before any is overwritten
    side_b[order] = side_a.copy()
    del order
    side_a[:] = partners_of_a
    return stubs


__all__ = ["MIX_SLAB", "MIX_WINDOW", "match_pool", "mix_stubs"]
