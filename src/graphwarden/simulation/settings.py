"""Privacy settings and page likes of the synthetic population (all vectorised numpy).

Audiences follow the field catalogue's defaults (basic info public, email and phone only me,
the rest friends) with the variation real people show: a minority opened their profile to
the public or to friends of friends, some locked fields to only me. "Apps others use"
switches are on (the 2014 default) except for a few percent who turned some off; nearly
everyone keeps the platform on. Page likes follow a Zipf-like popularity.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from graphwarden.graph.fields import FIELDS, N_CATEGORIES, N_FIELDS, Audience

#: kinds of people by how they set their audiences: (share, per-field probabilities of
#: (public, friends_of_friends, friends, only_me) for fields defaulting to friends)
AUDIENCE_TYPES: tuple[tuple[str, float, tuple[float, float, float, float]], ...] = (
    ("default", 0.62, (0.03, 0.04, 0.90, 0.03)),
    ("open", 0.13, (0.70, 0.10, 0.18, 0.02)),
    ("friends_of_friends", 0.15, (0.05, 0.75, 0.17, 0.03)),
    ("private", 0.10, (0.00, 0.02, 0.48, 0.50)),
)
#: fields defaulting to only me (email, phone): who opened them to friends or the public
CONTACT_AUDIENCE = (0.03, 0.02, 0.10, 0.85)
#: share of people who turned some "apps others use" categories off, and who turned all off
SHARING_PARTIAL_OFF = 0.04
SHARING_ALL_OFF = 0.01
PLATFORM_OFF = 0.005
#: people whose likes are drawn per vectorised step (bounds temporary memory)
_LIKES_STEP = 50_000
#: likes counted per step
_COUNT_STEP = 1 << 22

PAGE_CATEGORIES: tuple[str, ...] = (
    "Musician/Band",
    "TV Show",
    "Movie",
    "Sports Team",
    "Brand",
    "Public Figure",
    "Book",
    "Game",
    "Restaurant/Cafe",
    "Community",
    "Local Business",
    "Athlete",
)
_PAGE_WORDS_A = (
    "Blue", "Golden", "Silent", "Electric", "Northern", "Wild", "Urban", "Lucky", "Crimson",
    "Happy", "Midnight", "Royal", "Little", "Brave", "Cosmic", "Green", "Iron", "Velvet",
    "Sunny", "Secret",
)  # fmt: skip
_PAGE_WORDS_B = (
    "Lions", "Kitchen", "Riders", "Stories", "Gardens", "Echoes", "Pixels", "Wolves", "Harbor",
    "Club", "Express", "Theory", "Rebels", "Market", "Dreams", "Comets", "Valley", "Studio",
    "Legends", "Society", "Wave", "Tribe", "Works", "Society of Friends", "Collective",
)  # fmt: skip


def draw_audiences(rng: np.random.Generator, n: int) -> npt.NDArray[np.uint8]:
    """An ``n × N_FIELDS`` matrix of :class:`Audience` codes (columns in ``FIELDS`` order)."""
    out = np.empty((n, N_FIELDS), dtype=np.uint8)
    kinds = rng.choice(len(AUDIENCE_TYPES), size=n, p=[t[1] for t in AUDIENCE_TYPES])
    probs = np.array([t[2] for t in AUDIENCE_TYPES])[kinds]  # n × 4
    cum = np.cumsum(probs, axis=1)
    contact_cum = np.cumsum(CONTACT_AUDIENCE)
    for spec in FIELDS:
        if spec.basic:
            out[:, spec.index] = Audience.PUBLIC  # name, gender, picture: always public
            continue
        u = rng.random(n)
        if spec.default_audience is Audience.ONLY_ME:
            out[:, spec.index] = np.searchsorted(contact_cum, u, side="right").clip(0, 3)
        else:
            out[:, spec.index] = (u[:, None] >= cum).sum(axis=1).clip(0, 3)
    return out


def draw_sharing(rng: np.random.Generator, n: int) -> npt.NDArray[np.uint8]:
    """Bitmask of "apps others use" categories left on (bit ``c`` = ``AppsOthersUse(c)``)."""
    everything = (1 << N_CATEGORIES) - 1
    u = rng.random(n)
    partial = (u >= SHARING_ALL_OFF) & (u < SHARING_ALL_OFF + SHARING_PARTIAL_OFF)
    off_bits = rng.random((n, N_CATEGORIES)) < 0.5
    weights = 1 << np.arange(N_CATEGORIES)
    mask = everything ^ (off_bits @ weights)
    shares = np.where(partial, mask, everything)
    shares = np.where(u < SHARING_ALL_OFF, 0, shares)
    return shares.astype(np.uint8)


def draw_platform_enabled(rng: np.random.Generator, n: int) -> npt.NDArray[np.bool_]:
    """Whether each person keeps the platform (all apps) on."""
    return rng.random(n) >= PLATFORM_OFF


def page_count(n: int) -> int:
    """How many pages a population of ``n`` can like."""
    return int(min(200_000, max(50, n // 10)))


def page_names(ids: npt.NDArray[np.int64], category: npt.NDArray[np.uint8]) -> list[str]:
    """Names of the pages ``ids`` (0-based), built from word lists (unique per id)."""
    a, b = len(_PAGE_WORDS_A), len(_PAGE_WORDS_B)
    names = []
    for i, c in zip(ids.tolist(), category.tolist(), strict=True):
        base = f"{_PAGE_WORDS_A[i % a]} {_PAGE_WORDS_B[(i // a) % b]}"
        series = i // (a * b)
        suffix = f" {series + 1}" if series else ""
        names.append(f"{base}{suffix} ({PAGE_CATEGORIES[c]})")
    return names


def page_popularity(likes: npt.NDArray[np.int32], n_pages: int) -> npt.NDArray[np.int64]:
    """How many people like each page (``np.bincount`` a step at a time: it copies its input
    to 64-bit integers, a large transient for hundreds of millions of likes)."""
    out = np.zeros(n_pages, dtype=np.int64)
    for a in range(0, likes.size, _COUNT_STEP):
        out += np.bincount(likes[a : a + _COUNT_STEP], minlength=n_pages)
    return out


def draw_likes(
    rng: np.random.Generator, n: int, n_pages: int, *, median: float = 20.0, mean: float = 40.0
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32]]:
    """Likes as CSR (person → ascending page indices), Zipf-like page popularity.

    Page ``p``'s chance per like falls as ``p^-0.5`` (page ``floor(P u²)`` for a uniform
    ``u``): page 0 is the most popular. A person's ``k`` uniforms are drawn already in order,
    as the partial sums of ``k + 1`` exponentials over their total (the order statistics of
    ``k`` uniforms), so no sort is needed; repeated pages are dropped.
    """
    sigma = math.sqrt(2.0 * math.log(mean / median))
    counts = np.clip(np.rint(rng.lognormal(math.log(median), sigma, size=n)), 1, 1000)
    counts = np.minimum(counts, max(1, n_pages // 2)).astype(np.int64)
    indptr = np.zeros(n + 1, dtype=np.int64)
    indices = np.empty(int(counts.sum()), dtype=np.int32)
    written = 0
    for a in range(0, n, _LIKES_STEP):
        b = min(a + _LIKES_STEP, n)
        c = counts[a:b]
        ends = np.cumsum(c)
        starts = ends - c
        sums = np.cumsum(rng.standard_exponential(int(ends[-1])))
        # every sum up to the person's first draw, and the total of their k + 1 exponentials
        before = np.concatenate([[0.0], sums[ends[:-1] - 1]])
        scale = 1.0 / (sums[ends - 1] + rng.standard_exponential(b - a) - before)
        u = sums
        u -= np.repeat(before, c)
        u *= np.repeat(scale, c)
        u *= u
        u *= n_pages
        pages = np.minimum(u.astype(np.int32), n_pages - 1)  # floor; rounding never reaches P
        del u, sums
        new = np.empty(pages.size, dtype=bool)
        new[0] = True
        np.not_equal(pages[1:], pages[:-1], out=new[1:])
        new[starts] = True  # a person's first like is never a repeat
        kept = pages[new]
        indptr[a + 1 : b + 1] = np.add.reduceat(new, starts, dtype=np.int64)
        indices[written : written + kept.size] = kept
        written += kept.size
    np.cumsum(indptr, out=indptr)
    try:  # merged repeats leave the tail unused: give it back without copying the rest
        indices.resize(written, refcheck=False)
    except ValueError:  # pragma: no cover - a buffer numpy cannot resize in place
        indices = indices[:written].copy()
    return indptr, indices


__all__ = [
    "AUDIENCE_TYPES",
    "PAGE_CATEGORIES",
    "draw_audiences",
    "draw_likes",
    "draw_platform_enabled",
    "draw_sharing",
    "page_count",
    "page_names",
    "page_popularity",
]
