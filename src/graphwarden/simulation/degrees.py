"""Friend counts and the friendship graph of the synthetic population.

The model (all numpy, no Python loop over people or edges):

1. People are laid out by country (contiguous index ranges), and inside a country by age with
   some noise, then cut into *social circles* of ~0.6–1.4× the preset's median degree. Circles
   never straddle a country.
2. Each person draws a target friend count from a lognormal fitted to the preset's median and
   mean, capped at 5,000 (smaller for tiny populations).
3. A share of each person's friendships are drawn inside their circle with Chung–Lu
   probabilities ``min(1, a_i a_j / S_circle)`` (dense circles give triangles: clustering).
4. The rest are a configuration-model matching of "stubs": most within the person's country
   (home bias), the others across the whole population.
5. A chain through all people in a random order guarantees one connected component.
6. Rows are assembled block by block (blocks of whole circles), sorted, deduplicated, and
   self-loops dropped, so peak memory stays ~1.6× the final CSR.
"""

from __future__ import annotations

import itertools
import math
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from graphwarden.core.errors import InvalidInput
from graphwarden.graph.bulk import BulkGraph, sorted_unique

FRIEND_CAP = 5_000
#: threads assembling row blocks (the output is the same whatever the number)
BUILD_THREADS = 2

#: directed entries assembled per block (bounds temporary memory; fixed so output is stable)
_BLOCK_ENTRIES = 12_000_000
#: circle pairs evaluated per vectorised step
_PAIR_BUDGET = 4_000_000
#: undirected stub pairs routed per step
_ROUTE_CHUNK = 2_000_000
_EMPTY = np.empty(0, dtype=np.int64)
#: stubs shuffled at once when mixing (fits a core's cache: 1 MiB of int32)
_MIX_WINDOW = 1 << 18
#: rows of the deal moved per step
_MIX_SLAB = 1 << 9

# stream ids for the seed sequence: each random process draws from its own stream
STREAM_DEGREE = 1
STREAM_LAYOUT = 2
STREAM_HOME = 3
STREAM_AWAY = 4
STREAM_CHAIN = 5
STREAM_CIRCLE = 6


def stream(seed: int, *ids: int) -> np.random.Generator:
    """An independent generator for one random process of the population with ``seed``."""
    return np.random.default_rng(np.random.SeedSequence([seed, *ids]))


@dataclass(frozen=True, slots=True)
class DegreeModel:
    """Parameters of the friend-count and friendship model."""

    median: float
    mean: float
    cap: int = FRIEND_CAP
    #: share of each person's friendships sought inside their circle
    local_share: float = 0.40
    #: circle size as a multiple of the median target degree
    circle_scale: float = 0.95
    #: share of the non-circle friendships matched inside the person's country
    home_share: float = 0.80

    def __post_init__(self) -> None:
        if not (1 <= self.median <= self.mean):
            raise InvalidInput(
                f"need 1 <= median friends ({self.median}) <= mean friends ({self.mean})"
            )
        if self.mean > self.cap:
            raise InvalidInput(f"mean friends ({self.mean}) cannot exceed the cap ({self.cap})")

    #: the realised mean runs ~5% under the lognormal's (full circles, repeated stub pairs
    #: of the best-connected); the tail is drawn for a slightly higher mean to make up
    tail_boost: float = 1.055

    @property
    def sigma(self) -> float:
        """Lognormal shape: mean / median = exp(sigma² / 2), with the tail boost."""
        return math.sqrt(2.0 * math.log(self.tail_boost * self.mean / self.median))


def scaled_model(model: DegreeModel, n: int) -> DegreeModel:
    """The model a population of ``n`` can hold.

    A town of 50 cannot give everyone 200 friends: below ~8× the mean, median and mean shrink
    in proportion (keeping their ratio) and the cap becomes ``n - 1``.
    """
    cap = max(1, min(model.cap, n - 1))
    factor = min(1.0, (n - 1) / (8.0 * model.mean))
    if factor >= 1.0 and cap == model.cap:
        return model
    median = max(1.0, model.median * factor)
    mean = max(median, model.mean * factor)
    return DegreeModel(
        median=median,
        mean=min(mean, float(cap)),
        cap=cap,
        local_share=model.local_share,
        circle_scale=model.circle_scale,
        home_share=model.home_share,
        tail_boost=model.tail_boost,
    )


def target_degrees(model: DegreeModel, n: int, seed: int) -> npt.NDArray[np.int32]:
    """Target friend counts: lognormal(median, mean), at least 1, capped."""
    rng = stream(seed, STREAM_DEGREE)
    k = rng.lognormal(math.log(model.median), model.sigma, size=n)
    return np.clip(np.rint(k), 1, model.cap).astype(np.int32)


def circle_bounds(
    country_counts: npt.NDArray[np.int64], model: DegreeModel, seed: int
) -> npt.NDArray[np.int64]:
    """Start offsets of the circles (plus the end), never crossing a country boundary."""
    n = int(country_counts.sum())
    rng = stream(seed, STREAM_LAYOUT, 1)
    base = max(4.0, model.circle_scale * model.median)
    lo, hi = max(3, int(0.6 * base)), max(4, int(1.4 * base))
    sizes = rng.integers(lo, hi + 1, size=n // lo + 2)
    cuts = np.cumsum(sizes)
    cuts = cuts[cuts < n]
    country_cuts = np.cumsum(country_counts)[:-1]
    return sorted_unique(np.concatenate([[0], cuts, country_cuts, [n]]).astype(np.int64))


@lru_cache(maxsize=512)
def _triu(s: int) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    iu, ju = np.triu_indices(s, 1)
    return iu.astype(np.int32), ju.astype(np.int32)


def _circle_edges(
    starts: npt.NDArray[np.int64],
    sizes: npt.NDArray[np.int64],
    local: npt.NDArray[np.float32],
    rng: np.random.Generator,
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """Chung–Lu edges inside each circle (circles given by start and size)."""
    us: list[npt.NDArray[np.int32]] = []
    vs: list[npt.NDArray[np.int32]] = []
    for s in np.unique(sizes):
        s = int(s)
        if s < 2:
            continue
        iu, ju = _triu(s)
        cs = starts[sizes == s].astype(np.int32)
        per = max(1, _PAIR_BUDGET // iu.size)
        for c0 in range(0, cs.size, per):
            c = cs[c0 : c0 + per]
            members = c[:, None] + np.arange(s, dtype=np.int32)[None, :]
            w = local[members]
            total = w.sum(axis=1, keepdims=True)
            total[total <= 0] = 1.0
            p = (w[:, iu] * w[:, ju]) / total
            accept = rng.random(p.shape, dtype=np.float32) < p
            row, col = np.nonzero(accept)
            us.append(c[row] + iu[col])
            vs.append(c[row] + ju[col])
    if not us:
        empty = np.empty(0, dtype=np.int32)
        return empty, empty
    return np.concatenate(us), np.concatenate(vs)


def _segment_sums(
    values: npt.NDArray[np.int64], bounds: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Sum of ``values`` over each ``[bounds[j], bounds[j + 1])`` (empty segments give 0)."""
    csum = np.concatenate([[0], np.cumsum(values)]).astype(np.int64)
    sums: npt.NDArray[np.int64] = csum[bounds[1:]] - csum[bounds[:-1]]
    return sums


def _even_segments(
    stubs_per_person: npt.NDArray[np.int64], seg_bounds: npt.NDArray[np.int64]
) -> None:
    """Make each segment's stub total even by adding one stub to its first person."""
    totals = _segment_sums(stubs_per_person, seg_bounds)
    for j, t in enumerate(totals.tolist()):
        lo, hi = int(seg_bounds[j]), int(seg_bounds[j + 1])
        if t % 2 and hi > lo:
            stubs_per_person[lo] += 1


@dataclass(frozen=True, slots=True)
class StubMatching:
    """Configuration-model stubs: home stubs paired within each country, the rest globally.

    ``per_person`` is how many stubs each person holds (each becomes one entry of their row,
    a self-paired stub included); :meth:`edges` yields the pairs as ``(m, 2)`` int32 arrays,
    one country at a time, so only one country's stubs are in memory at once.
    """

    home: npt.NDArray[np.int64]
    away: npt.NDArray[np.int64]
    country_bounds: npt.NDArray[np.int64]
    seed: int

    @property
    def per_person(self) -> npt.NDArray[np.int64]:
        return self.home + self.away

    def edges(self) -> Iterator[npt.NDArray[np.int32]]:
        rng_home = stream(self.seed, STREAM_HOME, 1)
        ids = np.arange(self.home.size, dtype=np.int32)
        for j in range(self.country_bounds.size - 1):
            lo, hi = int(self.country_bounds[j]), int(self.country_bounds[j + 1])
            stubs = np.repeat(ids[lo:hi], self.home[lo:hi])
            mixed = mix_stubs(stubs, rng_home)
            del stubs  # only the mixed copy may live while the consumer routes it
            yield mixed.reshape(-1, 2)
            del mixed
        stubs = np.repeat(ids, self.away)
        mixed = mix_stubs(stubs, stream(self.seed, STREAM_AWAY))
        del stubs
        yield mixed.reshape(-1, 2)


def mix_stubs(stubs: npt.NDArray[np.int32], rng: np.random.Generator) -> npt.NDArray[np.int32]:
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
    if stubs.size <= _MIX_WINDOW * 2:
        rng.shuffle(stubs)
        return stubs
    windows = -(-stubs.size // _MIX_WINDOW)
    width = stubs.size // windows
    dealt_size = windows * width
    source = stubs[:dealt_size].reshape(windows, width)
    for w in range(windows):
        rng.shuffle(source[w])
    dealt = np.empty_like(stubs)
    grid = dealt[:dealt_size].reshape(width, windows)
    # the deal, a transpose done in slabs so both sides stay in cache
    for k0 in range(0, width, _MIX_SLAB):
        grid[k0 : k0 + _MIX_SLAB] = source[:, k0 : k0 + _MIX_SLAB].T
    dealt[dealt_size:] = stubs[dealt_size:]
    del source, grid
    starts = list(range(0, dealt_size, width))
    ends = [*starts[1:], stubs.size]
    for lo, hi in zip(starts, ends, strict=True):
        rng.shuffle(dealt[lo:hi])
    return dealt


def stub_matching(
    k_global: npt.NDArray[np.int64],
    country_bounds: npt.NDArray[np.int64],
    home_share: float,
    seed: int,
) -> StubMatching:
    """Split each person's stubs into home and away (every segment's total made even)."""
    n = k_global.size
    rng_home = stream(seed, STREAM_HOME)
    home = rng_home.binomial(k_global, home_share).astype(np.int64)
    # nobody can meet more than an eighth of a small country through stubs without repeats
    country_size = np.repeat(np.diff(country_bounds), np.diff(country_bounds))
    home = np.minimum(home, country_size // 8)
    away = k_global - home
    _even_segments(home, country_bounds)
    _even_segments(away, np.array([0, n], dtype=np.int64))
    return StubMatching(home=home, away=away, country_bounds=country_bounds, seed=seed)


def chain_edges(n: int, seed: int) -> npt.NDArray[np.int32]:
    """A path through everyone in a random order: one connected component by construction."""
    perm = stream(seed, STREAM_CHAIN).permutation(n).astype(np.int32)
    return np.stack([perm[:-1], perm[1:]], axis=1)


def block_bounds(
    circles: npt.NDArray[np.int64], target: npt.NDArray[np.int32]
) -> npt.NDArray[np.int64]:
    """Row blocks of whole circles holding about ``_BLOCK_ENTRIES`` neighbour entries each."""
    csum = np.concatenate([[0], np.cumsum(target, dtype=np.int64)])
    at_circle = csum[circles]
    marks = np.searchsorted(at_circle, np.arange(0, at_circle[-1], _BLOCK_ENTRIES)[1:])
    picks = np.unique(np.concatenate([[0], marks, [circles.size - 1]]))
    bounds: npt.NDArray[np.int64] = circles[picks]
    return bounds


def _route(
    edge_source: Iterable[npt.NDArray[np.int32]],
    per_person: npt.NDArray[np.int64],
    blocks: npt.NDArray[np.int64],
    n: int,
) -> list[npt.NDArray[np.int64]]:
    """Both directions of every edge as per-block keys ``(row - block start) << 32 | column``.

    ``per_person`` says how many entries each row receives, so every block gets one exactly
    sized array up front; large single arrays go back to the operating system as soon as
    their block is assembled, which keeps peak memory near the final CSR's size. Self-pairs
    are routed like any edge and dropped when the block is assembled.
    """
    n_blocks = blocks.size - 1
    block_of = np.repeat(np.arange(n_blocks, dtype=np.int32), np.diff(blocks))
    keys = [np.empty(int(c), dtype=np.int64) for c in _segment_sums(per_person, blocks)]
    filled = np.zeros(n_blocks, dtype=np.int64)
    for edges in edge_source:
        for e0 in range(0, edges.shape[0], _ROUTE_CHUNK):
            part = edges[e0 : e0 + _ROUTE_CHUNK]
            r = np.concatenate([part[:, 0], part[:, 1]])
            c = np.concatenate([part[:, 1], part[:, 0]])
            blk = block_of[r]
            key = ((r - blocks[blk]) << 32) | c
            # a stable sort of 16-bit keys is a radix sort: linear in the chunk
            order = np.argsort(blk.astype(np.int16) if n_blocks < 2**15 else blk, kind="stable")
            key = key[order]
            bounds = np.concatenate([[0], np.cumsum(np.bincount(blk, minlength=n_blocks))])
            for j in np.flatnonzero(np.diff(bounds)):
                lo, hi = int(bounds[j]), int(bounds[j + 1])
                keys[j][filled[j] : filled[j] + hi - lo] = key[lo:hi]
                filled[j] += hi - lo
        del edges
    if not np.array_equal(filled, [k.size for k in keys]):  # pragma: no cover - a bug guard
        raise RuntimeError("stub routing lost entries")
    return keys


def build_graph(
    model: DegreeModel,
    country_counts: npt.NDArray[np.int64],
    seed: int,
) -> tuple[BulkGraph, npt.NDArray[np.int32]]:
    """The friendship graph and the circle id of every person (index ranges per country)."""
    n = int(country_counts.sum())
    if n < 1:
        raise InvalidInput("a population needs at least one person")
    model = scaled_model(model, n)
    target = target_degrees(model, n, seed)
    circles = circle_bounds(country_counts, model, seed)
    sizes = np.diff(circles)
    circle_of = np.repeat(np.arange(sizes.size, dtype=np.int32), sizes)
    # circle stubs: a share of the target, never more than the circle can hold
    local = np.minimum(model.local_share * target, 0.85 * (sizes[circle_of] - 1)).astype(np.float32)
    local = np.maximum(local, 0)
    # Chung–Lu gives person i about a_i (S - a_i) / S circle friends, not a_i
    circle_total = np.add.reduceat(local.astype(np.float64), circles[:-1])[circle_of]
    expected_local = np.where(
        circle_total > 0, local * (circle_total - local) / np.maximum(circle_total, 1e-9), 0.0
    )
    # global stubs make up the rest; 2 are left for the connecting chain, and the circle
    # may at most fill up, so the cap holds by construction in all but tiny populations
    k_global = np.maximum(target.astype(np.int64) - np.rint(expected_local).astype(np.int64) - 2, 0)
    k_global = np.minimum(k_global, np.maximum(model.cap - sizes[circle_of] - 2, 0))
    country_bounds = np.concatenate([[0], np.cumsum(country_counts)]).astype(np.int64)
    stubs = stub_matching(k_global, country_bounds, model.home_share, seed)
    chain = chain_edges(n, seed) if n > 1 else np.empty((0, 2), dtype=np.int32)
    per_person = stubs.per_person + np.bincount(chain.ravel(), minlength=n)
    blocks = block_bounds(circles, target)
    routed = _route(itertools.chain(stubs.edges(), [chain]), per_person, blocks, n)
    del chain
    upper = sum(k.size for k in routed)
    # upper bound of circle entries: every circle complete
    upper += int(np.sum(sizes * (sizes - 1)))
    indices = np.empty(min(upper, n * (n - 1)), dtype=np.int32)
    indptr = np.zeros(n + 1, dtype=np.int64)
    written = 0
    circle_idx = np.searchsorted(circles, blocks)

    def assemble(b: int, keys: npt.NDArray[np.int64]) -> _Block:
        a0, a1 = int(blocks[b]), int(blocks[b + 1])
        c0, c1 = int(circle_idx[b]), int(circle_idx[b + 1])
        rng = stream(seed, STREAM_CIRCLE, b)
        return _assemble_block(keys, a0, circles[c0:c1] - a0, sizes[c0:c1], local[a0:a1], rng)

    # blocks are independent and numpy's sorts release the GIL: threads share the arrays,
    # so nothing is copied, and results are written in block order whatever finishes first
    workers = max(1, min(BUILD_THREADS, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[tuple[int, Future[_Block]]] = deque()
        for b in range(blocks.size - 1):
            pending.append((b, pool.submit(assemble, b, routed[b])))
            routed[b] = _EMPTY  # the block owns its entries now; freed once assembled
            # a bounded window of blocks in flight keeps peak memory near the final CSR
            while len(pending) > workers or (pending and b == blocks.size - 2):
                done_b, future = pending.popleft()
                cols, counts = future.result()
                a0, a1 = int(blocks[done_b]), int(blocks[done_b + 1])
                indices[written : written + cols.size] = cols
                written += cols.size
                indptr[a0 + 1 : a1 + 1] = counts
                del cols, counts, future
    np.cumsum(indptr, out=indptr)
    try:
        indices.resize(written, refcheck=False)
    except ValueError:  # a view or shared buffer: fall back to a copy
        indices = indices[:written].copy()
    graph = BulkGraph(indptr=indptr, indices=indices)
    return _enforce_cap(graph, model.cap), circle_of


_Block = tuple[npt.NDArray[np.int32], npt.NDArray[np.int64]]


def _assemble_block(
    routed: npt.NDArray[np.int64],
    a0: int,
    starts: npt.NDArray[np.int64],
    sizes: npt.NDArray[np.int64],
    local: npt.NDArray[np.float32],
    rng: np.random.Generator,
) -> _Block:
    """One row block's sorted neighbour ids and row lengths.

    ``routed`` holds the block's stub and chain entries as ``local row << 32 | column``;
    circle edges (``starts`` relative to the block's first row ``a0``) join them, then one
    sort orders rows and columns together, repeats go, and self-paired stubs are dropped.
    """
    cu, cv = _circle_edges(starts, sizes, local, rng)
    cu64, cv64 = cu.astype(np.int64), cv.astype(np.int64)
    del cu, cv
    keys = np.concatenate([routed, (cu64 << 32) | (cv64 + a0), (cv64 << 32) | (cu64 + a0)])
    del routed, cu64, cv64
    keys.sort()
    if keys.size:
        keep = np.empty(keys.size, dtype=bool)
        keep[0] = True
        np.not_equal(keys[1:], keys[:-1], out=keep[1:])
        keys = keys[keep]
        del keep
    local_rows = (keys >> 32).astype(np.int32)
    cols = (keys & 0xFFFFFFFF).astype(np.int32)
    del keys
    not_self = cols != local_rows + a0  # a stub paired with its own person
    cols = cols[not_self]
    local_rows = local_rows[not_self]
    return cols, np.bincount(local_rows, minlength=local.size).astype(np.int64)


def _enforce_cap(graph: BulkGraph, cap: int) -> BulkGraph:
    """Drop the newest-id friendships of anyone above ``cap`` (only tiny populations need it)."""
    deg = graph.degree
    over = np.flatnonzero(deg > cap)
    if over.size == 0:
        return graph
    rows = np.repeat(over, deg[over] - cap)
    ends = np.repeat(graph.indptr[over + 1], deg[over] - cap)
    offsets = np.arange(rows.size) - np.repeat(
        np.cumsum(deg[over] - cap) - (deg[over] - cap), deg[over] - cap
    )
    cols = graph.indices[ends - 1 - offsets]
    trimmed = graph.without(rows, cols)
    # removing a friendship lowers both ends, so one pass is enough
    return trimmed


__all__ = [
    "FRIEND_CAP",
    "DegreeModel",
    "StubMatching",
    "block_bounds",
    "build_graph",
    "chain_edges",
    "circle_bounds",
    "mix_stubs",
    "scaled_model",
    "stream",
    "stub_matching",
    "target_degrees",
]
