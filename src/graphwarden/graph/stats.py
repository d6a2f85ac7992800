"""Calibration statistics of a friendship graph, against published figures.

Targets come from the reference facts: Facebook May 2011 (Ugander et al.: median 99 friends,
mean 190.4, 14% of a median person's friend pairs are friends, 99.91% in the giant component,
83.6% have fewer friends than the median of their friends, 84.2% of friendships within one
country) and Pew, February 2014 (median 200, mean 338; 39% / 23% / 20% / 15% of adults with
1–100 / 101–250 / 251–500 / more than 500 friends).

Clustering is exact triangle counting on a seeded sample of people (sorted-row intersection,
vectorised per person), so the statistics of a 10-million-person graph take seconds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from graphwarden.core.errors import InvalidInput
from graphwarden.graph.bulk import BulkGraph

#: Pew's buckets of friend counts: (label, low, high) inclusive
DEGREE_BUCKETS: tuple[tuple[str, int, int], ...] = (
    ("1-100", 1, 100),
    ("101-250", 101, 250),
    ("251-500", 251, 500),
    (">500", 501, 1 << 30),
)


@dataclass(frozen=True, slots=True)
class CalibrationTarget:
    """Published figures a synthetic population is calibrated against."""

    name: str
    median_degree: float
    mean_degree: float
    clustering_median_person: float = 0.14
    giant_component_share: float = 0.99
    home_share: float = 0.842
    paradox_share: float = 0.836
    #: Pew's bucket shares (only published for 2014)
    buckets: dict[str, float] = field(default_factory=dict)
    source: str = ""


PRESETS: dict[str, CalibrationTarget] = {
    "2011": CalibrationTarget(
        name="2011",
        median_degree=99.0,
        mean_degree=190.4,
        source="Ugander, Karrer, Backstrom, Marlow: The Anatomy of the Facebook Social Graph",
    ),
    "2014": CalibrationTarget(
        name="2014",
        median_degree=200.0,
        mean_degree=338.0,
        buckets={"1-100": 0.39, "101-250": 0.23, "251-500": 0.20, ">500": 0.15},
        source="Pew Research Center, February 2014; structure from Ugander et al. (2011)",
    ),
}

#: the figures whose relative error the generator promises to keep within 10% at 1M people
CALIBRATED = ("median_degree", "mean_degree", "clustering_median_person")


def preset(name: str) -> CalibrationTarget:
    """The calibration target called ``name`` (``"2011"`` or ``"2014"``)."""
    try:
        return PRESETS[name]
    except KeyError:
        raise InvalidInput(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}") from None


@dataclass(frozen=True, slots=True)
class GraphStats:
    """Measured statistics of one graph (see module docstring for what each means)."""

    people: int
    friendships: int
    median_degree: float
    mean_degree: float
    max_degree: int
    percentiles: dict[str, float]
    buckets: dict[str, float]
    isolated_share: float
    clustering_median_person: float
    clustering_by_bucket: dict[str, float | None]
    giant_component_share: float
    home_share: float | None
    paradox_share: float
    sample_size: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def local_clustering(graph: BulkGraph, people: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Exact local clustering coefficient of each listed person (0 for degree < 2)."""
    out = []
    for i in np.asarray(people, dtype=np.int64).ravel():
        nb = graph.neighbors(int(i))
        d = nb.size
        if d < 2:
            out.append(0.0)
            continue
        lens = graph.degree[nb]
        starts = graph.indptr[nb]
        total = int(lens.sum())
        offsets = np.cumsum(lens) - lens
        idx = np.repeat(starts - offsets, lens) + np.arange(total)
        second = graph.indices[idx]
        pos = np.searchsorted(nb, second)
        hits = int(np.count_nonzero(nb[np.minimum(pos, d - 1)] == second))
        # each triangle (i, j, l) is seen from j and from l
        out.append(hits / (d * (d - 1)))
    return np.asarray(out, dtype=np.float64)


def giant_component_share(graph: BulkGraph, *, chunk: int = 4_000_000) -> float:
    """Share of people in the component of the best-connected person (a frontier BFS).

    Each level marks the friends of the frontier in a boolean array (no sort of the
    reached ids), ``chunk`` neighbour entries at a time.
    """
    n = graph.n
    if n == 0:
        return 0.0
    deg = graph.degree
    seen = np.zeros(n, dtype=bool)
    reached = np.zeros(n, dtype=bool)
    start = int(np.argmax(deg))
    seen[start] = True
    frontier = np.array([start], dtype=np.int64)
    while frontier.size:
        lens = deg[frontier]
        csum = np.cumsum(lens)
        begin = 0
        while begin < frontier.size:
            base = csum[begin - 1] if begin else 0
            stop = int(np.searchsorted(csum, base + chunk, side="right"))
            stop = max(stop, begin + 1)
            f = frontier[begin:stop]
            flen = lens[begin:stop]
            total = int(flen.sum())
            offs = np.cumsum(flen) - flen
            idx = np.repeat(graph.indptr[f] - offs, flen) + np.arange(total)
            reached[graph.indices[idx]] = True
            begin = stop
        reached &= ~seen
        frontier = np.flatnonzero(reached)
        seen[frontier] = True
        reached[frontier] = False
    return float(seen.sum() / n)


def home_share(graph: BulkGraph, country: npt.ArrayLike, *, block: int = 200_000) -> float:
    """Share of friendships whose two people live in the same country."""
    codes = np.asarray(country)
    if codes.shape != (graph.n,):
        raise InvalidInput("country must hold one code per person")
    same = 0
    for a in range(0, graph.n, block):
        b = min(a + block, graph.n)
        lo, hi = int(graph.indptr[a]), int(graph.indptr[b])
        rows = np.repeat(codes[a:b], graph.degree[a:b])
        same += int(np.count_nonzero(rows == codes[graph.indices[lo:hi]]))
    return same / max(graph.indices.size, 1)


def paradox_share(graph: BulkGraph, people: npt.ArrayLike) -> float:
    """Share of the listed people with fewer friends than the median of their friends'."""
    deg = graph.degree
    sample = np.asarray(people, dtype=np.int64).ravel()
    sample = sample[deg[sample] > 0]
    if sample.size == 0:
        return 0.0
    fewer = [deg[i] < np.median(deg[graph.neighbors(int(i))]) for i in sample]
    return float(np.mean(fewer))


def measure(
    graph: BulkGraph,
    country: npt.ArrayLike | None = None,
    *,
    sample: int = 2_000,
    seed: int = 0,
) -> GraphStats:
    """All calibration statistics of ``graph`` (clustering and paradox on a seeded sample)."""
    n = graph.n
    if n == 0:
        raise InvalidInput("cannot measure an empty graph")
    deg = graph.degree
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x57A7]))
    median = float(np.median(deg))
    picks = rng.choice(n, size=min(sample, n), replace=False)
    # people within 10% of the median degree: "a median person"
    band = np.flatnonzero(np.abs(deg - median) <= max(1.0, 0.1 * median))
    median_people = rng.choice(band, size=min(max(sample // 4, 1), band.size), replace=False)
    cc_sample = local_clustering(graph, picks)
    by_bucket: dict[str, float | None] = {}
    for label, lo, hi in DEGREE_BUCKETS:
        sel = (deg[picks] >= lo) & (deg[picks] <= hi)
        by_bucket[label] = float(cc_sample[sel].mean()) if sel.any() else None
    return GraphStats(
        people=n,
        friendships=graph.n_edges,
        median_degree=median,
        mean_degree=float(deg.mean()),
        max_degree=int(deg.max()),
        percentiles={f"p{q}": float(np.percentile(deg, q)) for q in (10, 25, 75, 90, 99)},
        buckets={
            label: float(np.count_nonzero((deg >= lo) & (deg <= hi)) / n)
            for label, lo, hi in DEGREE_BUCKETS
        },
        isolated_share=float(np.count_nonzero(deg == 0) / n),
        clustering_median_person=float(local_clustering(graph, median_people).mean())
        if median_people.size
        else 0.0,
        clustering_by_bucket=by_bucket,
        giant_component_share=giant_component_share(graph),
        home_share=None if country is None else home_share(graph, country),
        paradox_share=paradox_share(graph, picks),
        sample_size=int(picks.size),
    )


def relative_errors(stats: GraphStats, target: CalibrationTarget) -> dict[str, float]:
    """``|measured - target| / target`` of every figure the target publishes."""
    pairs: dict[str, tuple[float | None, float]] = {
        "median_degree": (stats.median_degree, target.median_degree),
        "mean_degree": (stats.mean_degree, target.mean_degree),
        "clustering_median_person": (
            stats.clustering_median_person,
            target.clustering_median_person,
        ),
        "giant_component_share": (stats.giant_component_share, target.giant_component_share),
        "home_share": (stats.home_share, target.home_share),
        "paradox_share": (stats.paradox_share, target.paradox_share),
    }
    for label, share in target.buckets.items():
        pairs[f"bucket {label}"] = (stats.buckets.get(label), share)
    return {
        name: abs(measured - want) / want
        for name, (measured, want) in pairs.items()
        if measured is not None and want
    }


def calibration_table(
    stats: GraphStats, target: CalibrationTarget
) -> list[dict[str, float | str | bool | None]]:
    """Rows ``{figure, measured, target, relative_error, calibrated, within_10pct}``."""
    errors = relative_errors(stats, target)
    measured: dict[str, float | None] = {
        "median_degree": stats.median_degree,
        "mean_degree": stats.mean_degree,
        "clustering_median_person": stats.clustering_median_person,
        "giant_component_share": stats.giant_component_share,
        "home_share": stats.home_share,
        "paradox_share": stats.paradox_share,
        **{f"bucket {k}": v for k, v in stats.buckets.items()},
    }
    wanted: dict[str, float] = {
        "median_degree": target.median_degree,
        "mean_degree": target.mean_degree,
        "clustering_median_person": target.clustering_median_person,
        "giant_component_share": target.giant_component_share,
        "home_share": target.home_share,
        "paradox_share": target.paradox_share,
        **{f"bucket {k}": v for k, v in target.buckets.items()},
    }
    rows: list[dict[str, float | str | bool | None]] = []
    for name, want in wanted.items():
        err = errors.get(name)
        rows.append(
            {
                "figure": name,
                "measured": measured.get(name),
                "target": want,
                "relative_error": err,
                "calibrated": name in CALIBRATED,
                "within_10pct": None if err is None else err <= 0.10,
            }
        )
    return rows


__all__ = [
    "CALIBRATED",
    "DEGREE_BUCKETS",
    "PRESETS",
    "CalibrationTarget",
    "GraphStats",
    "calibration_table",
    "giant_component_share",
    "home_share",
    "local_clustering",
    "measure",
    "paradox_share",
    "preset",
    "relative_errors",
]
