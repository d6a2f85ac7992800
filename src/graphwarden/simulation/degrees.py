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
   (home bias), the others across the whole population. Each pool's matching lists every
   stub's partner in person order (``matching``), so no edge is routed to its row.
5. A chain through all people in a random order guarantees one connected component.
6. Rows are assembled block by block (blocks of whole circles inside one country): each
   person's entries from every source are sorted row by row, deduplicated and self-pairs
   dropped (``assembly``), and written straight into the final CSR.
"""

from __future__ import annotations

import math
import mmap
import os
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from graphwarden.core.errors import InvalidInput
from graphwarden.graph.bulk import BulkGraph, sorted_unique
from graphwarden.simulation.assembly import RowEntries, assemble_rows, circle_entries
from graphwarden.simulation.matching import match_pool

FRIEND_CAP = 5_000
#: threads assembling row blocks (the output is the same whatever the number)
BUILD_THREADS = 2

#: entries (by target degree) assembled per block: bounds temporary memory; fixed so the
#: output does not depend on the machine
_BLOCK_ENTRIES = 2_000_000
#: memory handed back at a time once read (a multiple of the page and huge-page sizes)
_RELEASE_STEP = 1 << 24

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

    ``home`` and ``away`` say how many stubs of each kind every person holds (each becomes
    one entry of their row, a self-paired stub included). :meth:`home_partners` and
    :meth:`away_partners` pair them and list each stub's partner in person order, so a
    person's friends from a pool are one contiguous slice (see ``matching``).
    """

    home: npt.NDArray[np.int64]
    away: npt.NDArray[np.int64]
    country_bounds: npt.NDArray[np.int64]
    seed: int

    @property
    def per_person(self) -> npt.NDArray[np.int64]:
        return self.home + self.away

    def home_partners(self, country: int) -> npt.NDArray[np.int32]:
        """Partners of the home stubs of ``country``'s people, in person order."""
        lo, hi = int(self.country_bounds[country]), int(self.country_bounds[country + 1])
        return match_pool(self.home[lo:hi], lo, stream(self.seed, STREAM_HOME, 1, country))

    def away_partners(self, out: npt.NDArray[np.int32] | None = None) -> npt.NDArray[np.int32]:
        """Partners of everyone's away stubs (matched across the population), in person order."""
        return match_pool(self.away, 0, stream(self.seed, STREAM_AWAY), out)


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


def chain_neighbours(n: int, seed: int) -> npt.NDArray[np.int32]:
    """A path through everyone in a random order: one connected component by construction.

    Row ``i`` holds person ``i``'s two neighbours on the path; the path's two ends list
    themselves once (a self-pair, dropped when rows are assembled).
    """
    perm = stream(seed, STREAM_CHAIN).permutation(n).astype(np.int32)
    place = np.empty(n, dtype=np.int64)
    place[perm] = np.arange(n, dtype=np.int64)
    out = np.empty((n, 2), dtype=np.int32)
    out[:, 0] = perm[np.maximum(place - 1, 0)]
    out[:, 1] = perm[np.minimum(place + 1, n - 1)]
    return out


def block_bounds(
    circles: npt.NDArray[np.int64],
    target: npt.NDArray[np.int32],
    country_bounds: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """Row blocks of whole circles, ~``_BLOCK_ENTRIES`` entries each, inside one country."""
    csum = np.concatenate([[0], np.cumsum(target, dtype=np.int64)])
    at_circle = csum[circles]
    marks = np.searchsorted(at_circle, np.arange(0, at_circle[-1], _BLOCK_ENTRIES)[1:])
    at_country = np.searchsorted(circles, country_bounds)
    picks = np.unique(np.concatenate([[0], marks, at_country, [circles.size - 1]]))
    bounds: npt.NDArray[np.int64] = circles[picks]
    return bounds


def _cumulative(counts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """``[0, c0, c0 + c1, ...]``: where each person's slice of a pool starts (and the end)."""
    out = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=out[1:])
    return out


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
    del circle_total
    # global stubs make up the rest; 2 are left for the connecting chain, and the circle
    # may at most fill up, so the cap holds by construction in all but tiny populations
    k_global = np.maximum(target.astype(np.int64) - np.rint(expected_local).astype(np.int64) - 2, 0)
    k_global = np.minimum(k_global, np.maximum(model.cap - sizes[circle_of] - 2, 0))
    del expected_local
    country_bounds = np.concatenate([[0], np.cumsum(country_counts)]).astype(np.int64)
    stubs = stub_matching(k_global, country_bounds, model.home_share, seed)
    del k_global
    chain = chain_neighbours(n, seed)
    blocks = block_bounds(circles, target, country_bounds)
    block_country = np.searchsorted(country_bounds, blocks[:-1], side="right") - 1
    circle_idx = np.searchsorted(circles, blocks)
    home_at, away_at = _cumulative(stubs.home), _cumulative(stubs.away)
    # upper bound of the entries: every stub and chain link kept, every circle complete
    upper = int(home_at[-1] + away_at[-1]) + 2 * n + int(np.sum(sizes * (sizes - 1)))
    indices = np.empty(min(upper, n * (n - 1)), dtype=np.int32)
    indptr = np.zeros(n + 1, dtype=np.int64)
    workers = max(1, min(BUILD_THREADS, os.cpu_count() or 1))
    # countries in the order their blocks come
    countries = block_country[np.flatnonzero(np.diff(block_country, prepend=-1))].tolist()
    following = dict(zip(countries, [*countries[1:], None], strict=True))
    starts = _Relay(blocks.size - 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        # every pool is matched from its own stream, so what runs when does not matter; a
        # country's home stubs are matched while the one before it is assembled, so at most
        # two countries' home partners are held at once
        away_list = _ReadOnce(int(away_at[-1]))
        away_job = pool.submit(stubs.away_partners, away_list.array)
        home_job = pool.submit(stubs.home_partners, countries[0])
        away = away_job.result()
        del away_job

        def assemble(b: int, home: npt.NDArray[np.int32]) -> None:
            a0, a1 = int(blocks[b]), int(blocks[b + 1])
            try:
                c0, c1 = int(circle_idx[b]), int(circle_idx[b + 1])
                rng = stream(seed, STREAM_CIRCLE, b)
                sources = circle_entries(circles[c0:c1] - a0, sizes[c0:c1], local[a0:a1], a0, rng)
                sources.append(RowEntries.in_row_order(home, stubs.home[a0:a1]))
                away_rows = away[away_at[a0] : away_at[a1]]
                sources.append(RowEntries.in_row_order(away_rows, stubs.away[a0:a1]))
                chain_rows = chain[a0:a1].ravel()
                sources.append(RowEntries.in_row_order(chain_rows, np.full(a1 - a0, 2)))
                rows = assemble_rows(a0, a1 - a0, sources)
                del sources
                start = starts.wait(b)
                starts.hand_on(b, start + rows.size)
            except BaseException:
                starts.fail(b)
                raise
            # the next block may write already: each writes its own slice of the final array
            indptr[a0 + 1 : a1 + 1] = rows.counts
            rows.write(indices[start : start + rows.size])

        # blocks are independent and numpy releases the GIL: threads share the arrays, so
        # nothing is copied, and each block writes where the one before it ended
        pending: deque[tuple[int, Future[None]]] = deque()
        home: npt.NDArray[np.int32] | None = None
        last = blocks.size - 2
        for b in range(last + 1):
            c = int(block_country[b])
            if home is None:  # the country's first block
                home = home_job.result()
                after = following[c]
                if after is not None:
                    home_job = pool.submit(stubs.home_partners, after)
            h0, h1 = home_at[blocks[b : b + 2]] - home_at[country_bounds[c]]
            pending.append((b, pool.submit(assemble, b, home[h0:h1])))
            if b == last or block_country[b + 1] != c:
                home = None  # freed once the country's last blocks are assembled
            # a bounded window of blocks in flight keeps peak memory near the final CSR
            while len(pending) > workers or (pending and b == last):
                done, job = pending.popleft()
                job.result()
                # blocks finish in order: every away partner before this one's end is read
                away_list.release_before(int(away_at[blocks[done + 1]]))
    np.cumsum(indptr, out=indptr)
    written = starts.wait(blocks.size - 1)
    try:
        indices.resize(written, refcheck=False)
    except ValueError:  # a view or shared buffer: fall back to a copy
        indices = indices[:written].copy()
    graph = BulkGraph(indptr=indptr, indices=indices)
    return _enforce_cap(graph, model.cap), circle_of


class _ReadOnce:
    """An ``int32`` array read once, front to back, whose read part goes back to the system.

    Large arrays live in their own anonymous mapping, so the pages below the read position
    can be released (``MADV_DONTNEED``) while the rest is still in use: the cross-country
    partners (~16% of the CSR's size) shrink as the CSR grows. Elsewhere a plain array.
    """

    def __init__(self, size: int) -> None:
        self._map: mmap.mmap | None = None
        self._released = 0
        if size * 4 >= _RELEASE_STEP and hasattr(mmap, "MADV_DONTNEED"):
            flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS
            self._map = mmap.mmap(-1, size * 4, flags=flags)
            if hasattr(mmap, "MADV_HUGEPAGE"):
                self._map.madvise(mmap.MADV_HUGEPAGE)
            self.array: npt.NDArray[np.int32] = np.frombuffer(self._map, dtype=np.int32)
        else:
            self.array = np.empty(size, dtype=np.int32)

    def release_before(self, index: int) -> None:
        """Hand back the pages holding entries ``[0, index)`` (whole steps only)."""
        if self._map is None:
            return
        end = index * 4 // _RELEASE_STEP * _RELEASE_STEP
        if end > self._released:
            self._map.madvise(mmap.MADV_DONTNEED, self._released, end - self._released)
            self._released = end


class _Relay:
    """Where each block's friend ids start in the final array, handed from block to block.

    Block ``b`` learns its start once block ``b - 1`` has counted its own ids; a block that
    fails passes the failure on, so no later block waits for ever.
    """

    def __init__(self, blocks: int) -> None:
        self._ready = [threading.Event() for _ in range(blocks + 1)]
        self._start = [0] * (blocks + 1)
        self._failed_at = blocks + 1
        self._lock = threading.Lock()
        self._ready[0].set()

    def wait(self, b: int) -> int:
        self._ready[b].wait()
        if self._failed_at < b:
            raise RuntimeError(f"block {self._failed_at} of the graph failed")
        return self._start[b]

    def hand_on(self, b: int, end: int) -> None:
        self._start[b + 1] = end
        self._ready[b + 1].set()

    def fail(self, b: int) -> None:
        with self._lock:
            self._failed_at = min(self._failed_at, b)
        for ready in self._ready[b + 1 :]:
            ready.set()


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
    "chain_neighbours",
    "circle_bounds",
    "scaled_model",
    "stream",
    "stub_matching",
    "target_degrees",
]
