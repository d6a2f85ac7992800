"""The exposure forecast at App Review: for the permissions an app asks for and an expected
number of installers, how many people who never use the app would have non-public data
within its reach — the expected number and a 90% interval, by Monte Carlo over the stored
graph, decided by the policy's bulk face.

A person who does not use the app is reached only as a friend of an installer (see
:mod:`graphwarden.analytics.potential`), and what the version lets a friend's token take of
them does not depend on which friend it is (relation: friend; they use no app; the owner's
grants are the permissions asked for). So the bulk face decides once, for every person, whether
a friend's token would carry at least one non-public field of theirs; each Monte Carlo draw
then only picks installers and counts the flagged people among their friends. Installers are
drawn as the quiz's were (optionally mostly from one country), seeded, so the same seed
gives the same forecast.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from graphwarden.analytics.potential import decide_cases
from graphwarden.consent.models import App
from graphwarden.consent.review import split_permissions
from graphwarden.core.errors import InvalidInput
from graphwarden.graph.fields import FIELDS, Audience, Relation
from graphwarden.graph.policy_arrays import PolicyArrays
from graphwarden.policy.bulk import MEMBER_FIELD, BulkPolicy, permission_mask

#: the interval's probability
COVERAGE = 0.90
#: seed stream of the forecast's installer draws (kept apart from other streams)
STREAM_FORECAST = 303


@dataclass(frozen=True)
class Forecast:
    """Non-consenting people whose non-public data ``installers`` installers would expose."""

    version: str
    permissions: tuple[str, ...]
    installers: int
    samples: int
    seed: int
    expected: float
    low: int
    high: int
    #: people a friend's token would carry non-public data of (the most that could be reached)
    exposable: int

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "permissions": list(self.permissions),
            "installers": self.installers,
            "samples": self.samples,
            "seed": self.seed,
            "expected": round(self.expected, 1),
            "interval": [self.low, self.high],
            "coverage": COVERAGE,
            "exposable": self.exposable,
        }


def exposable_through_friends(
    arrays: PolicyArrays, version: str, permissions: Iterable[str]
) -> npt.NDArray[np.bool_]:
    """Per row: would a friend's token, granted ``permissions`` (App Review passed), carry at
    least one non-public field of this person, who does not use the app?"""
    perms = frozenset(permissions)
    policy = BulkPolicy.for_version(version)
    rows = np.arange(arrays.n, dtype=np.int64)
    no = np.zeros(arrays.n, dtype=np.bool_)
    common = {
        "uses": no,
        "friends_grant": no,
        "owner_mask": permission_mask(perms),
        "approved_mask": permission_mask(perms),
    }
    listed = decide_cases(policy, arrays, rows, MEMBER_FIELD, Relation.FRIEND, **common)
    out = np.zeros(arrays.n, dtype=np.bool_)
    for f in FIELDS[1:]:
        ok = decide_cases(policy, arrays, rows, f.index, Relation.FRIEND, **common)
        out |= ok & (arrays.audience[:, f.index] != int(Audience.PUBLIC))
    return out & listed


def draw_installers(
    arrays: PolicyArrays,
    count: int,
    rng: np.random.Generator,
    *,
    target_country: str | None = None,
    target_share: float = 0.9,
) -> npt.NDArray[np.int64]:
    """``count`` distinct installer rows among people with the platform on; with
    ``target_country``, ``target_share`` of them from there (as far as it has people)."""
    eligible = np.flatnonzero(arrays.platform_enabled)
    if count > eligible.size:
        raise InvalidInput(
            f"asked for {count} installers but only {eligible.size} people have the platform on"
        )
    if target_country is None:
        return rng.choice(eligible, size=count, replace=False).astype(np.int64)
    home_mask = arrays.country[eligible] == target_country
    home, away = eligible[home_mask], eligible[~home_mask]
    want_home = min(round(count * target_share), home.size)
    want_away = count - want_home
    if want_away > away.size:
        want_home += want_away - away.size
        want_away = away.size
    return np.concatenate(
        [rng.choice(home, size=want_home, replace=False),
         rng.choice(away, size=want_away, replace=False)]
    ).astype(np.int64)  # fmt: skip


def reached_count(
    arrays: PolicyArrays, exposable: npt.NDArray[np.bool_], installers: npt.NDArray[np.int64]
) -> int:
    """Flagged people (``exposable``) among the friends of ``installers``, installers left out."""
    indptr, indices = arrays.graph.indptr, arrays.graph.indices
    reached = np.zeros(arrays.n, dtype=np.bool_)
    starts, ends = indptr[installers], indptr[installers + 1]
    counts = ends - starts
    total = int(counts.sum())
    if total:
        offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
        reached[indices[np.repeat(starts, counts) + offsets]] = True
    reached[installers] = False
    return int((reached & exposable).sum())


def exposure_forecast(
    arrays: PolicyArrays,
    version: str,
    permissions: Iterable[str],
    installers: int,
    *,
    samples: int = 200,
    seed: int = 1,
    target_country: str | None = None,
    target_share: float = 0.9,
) -> Forecast:
    """The forecast for ``installers`` installers of an app under ``version`` asking for
    ``permissions``; ``samples`` Monte Carlo draws, seeded with ``seed``."""
    if installers < 1:
        raise InvalidInput("the expected number of installers must be at least 1")
    if not 10 <= samples <= 100_000:
        raise InvalidInput("samples must be between 10 and 100000")
    perms = tuple(sorted(set(permissions)))
    flagged = exposable_through_friends(arrays, version, perms)
    rng = np.random.default_rng(np.random.SeedSequence([seed, STREAM_FORECAST]))
    counts = np.array(
        [
            reached_count(
                arrays,
                flagged,
                draw_installers(
                    arrays,
                    installers,
                    rng,
                    target_country=target_country,
                    target_share=target_share,
                ),
            )
            for _ in range(samples)
        ],
        dtype=np.int64,
    )
    tail = (1.0 - COVERAGE) / 2
    low, high = np.quantile(counts, [tail, 1.0 - tail], method="inverted_cdf")
    return Forecast(
        version=version,
        permissions=perms,
        installers=installers,
        samples=samples,
        seed=seed,
        expected=float(counts.mean()),
        low=int(low),
        high=int(high),
        exposable=int(flagged.sum()),
    )


def review_forecast(
    engine: Engine,
    review_id: int,
    installers: int,
    *,
    samples: int = 200,
    seed: int = 1,
    arrays: PolicyArrays | None = None,
) -> Forecast:
    """The forecast for an App Review request: the app's version, the permissions it asks
    for (already requested ones and the review's), ``installers`` expected installers."""
    from graphwarden.consent.review import get_review
    from graphwarden.graph.policy_arrays import read_policy_arrays

    review = get_review(engine, review_id)
    with Session(engine) as session:
        app = session.get(App, int(review.app_id))
        requested = split_permissions(app.requested_permissions) if app is not None else set()
    arrays = arrays if arrays is not None else read_policy_arrays(engine)
    if installers > int(arrays.platform_enabled.sum()):
        raise InvalidInput(
            f"{installers} installers are more than the {int(arrays.platform_enabled.sum())} "
            "people with the platform on"
        )
    return exposure_forecast(
        arrays, review.api_version, set(requested) | set(review.permissions), installers,
        samples=samples, seed=seed,
    )  # fmt: skip


__all__ = [
    "COVERAGE",
    "Forecast",
    "draw_installers",
    "exposable_through_friends",
    "exposure_forecast",
    "reached_count",
    "review_forecast",
]
