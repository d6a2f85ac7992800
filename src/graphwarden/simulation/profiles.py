"""Profile values of the synthetic population: codes drawn with numpy, strings on demand.

A person's profile is held as small integer codes (name index, city index, status code...)
so ten million people cost ~30 bytes each; :func:`profile_columns` turns a range of people
into strings for the store loader, chunk by chunk. Names come from per-locale pools built once
with Faker (seeded, cached); people are then sampled from the pools with numpy, never one
Faker call per person.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from graphwarden.graph.interfaces import PROFILE_TEXT_COLUMNS
from graphwarden.simulation.countries import COUNTRIES

#: names per gender and surnames per locale pool
POOL_SIZE = 200
COMPANIES_PER_LOCALE = 60
#: ages are as of this day (the quiz app's summer)
AGE_REFERENCE = date(2014, 6, 1)

GENDERS: tuple[str, ...] = ("female", "male")
RELATIONSHIP_STATUSES: tuple[str | None, ...] = (
    None,
    "Single",
    "In a relationship",
    "Engaged",
    "Married",
    "It's complicated",
    "In an open relationship",
    "Divorced",
    "Widowed",
)
RELIGIONS: tuple[str | None, ...] = (
    None,
    "Christian",
    "Catholic",
    "Islam",
    "Hindu",
    "Buddhist",
    "Jewish",
    "Agnostic",
    "Atheist",
    "Spiritual",
)
POLITICAL_VIEWS: tuple[str | None, ...] = (
    None,
    "Liberal",
    "Conservative",
    "Moderate",
    "Libertarian",
    "Green",
    "Socialist",
    "Apolitical",
)
EDUCATION_KINDS: tuple[str | None, ...] = (
    None,
    "{city} High School",
    "University of {city}",
    "{city} Institute of Technology",
    "{city} Community College",
)
#: age brackets of the 2014 user base: (low, high, share)
AGE_BRACKETS: tuple[tuple[int, int, float], ...] = (
    (13, 17, 0.08),
    (18, 24, 0.25),
    (25, 34, 0.27),
    (35, 44, 0.18),
    (45, 54, 0.12),
    (55, 64, 0.07),
    (65, 80, 0.03),
)
EMAIL_DOMAINS: tuple[str, ...] = ("example.com", "example.org", "example.net")


@dataclass(frozen=True, slots=True)
class NamePool:
    """First names by gender, surnames and employers of one locale."""

    female: tuple[str, ...]
    male: tuple[str, ...]
    last: tuple[str, ...]
    companies: tuple[str, ...]


def _unique(values: list[str], size: int) -> tuple[str, ...]:
    seen = sorted({v for v in values if v})
    return tuple(seen[:size]) if seen else ("Alex",)


@lru_cache(maxsize=64)
def name_pool(locale: str) -> NamePool:
    """The name pool of ``locale``, built once with a fixed Faker seed (stable across runs)."""
    from faker import Faker

    fake = Faker(locale)
    fake.seed_instance(0)
    draws = POOL_SIZE * 3

    def many(method: str, fallback: str, count: int) -> list[str]:
        fn = getattr(fake, method, None) or getattr(fake, fallback)
        return [str(fn()) for _ in range(count)]

    return NamePool(
        female=_unique(many("first_name_female", "first_name", draws), POOL_SIZE),
        male=_unique(many("first_name_male", "first_name", draws), POOL_SIZE),
        last=_unique(many("last_name", "last_name", draws), POOL_SIZE),
        companies=_unique(
            many("company", "last_name", COMPANIES_PER_LOCALE * 2), COMPANIES_PER_LOCALE
        ),
    )


def pools() -> list[NamePool]:
    """The name pool of every country, in table order."""
    return [name_pool(c.locale) for c in COUNTRIES]


def sample_ages(rng: np.random.Generator, n: int) -> npt.NDArray[np.uint8]:
    """Ages 13–80 skewed young, as the 2014 user base."""
    shares = np.array([b[2] for b in AGE_BRACKETS])
    bracket = rng.choice(len(AGE_BRACKETS), size=n, p=shares / shares.sum())
    lo = np.array([b[0] for b in AGE_BRACKETS])[bracket]
    hi = np.array([b[1] for b in AGE_BRACKETS])[bracket]
    ages: npt.NDArray[np.uint8] = (lo + np.floor(rng.random(n) * (hi - lo + 1))).astype(np.uint8)
    return ages


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def profile_columns(
    country: npt.NDArray[np.uint8],
    codes: dict[str, npt.NDArray[np.generic]],
    start: int,
) -> dict[str, list[str | None]]:
    """String profile columns of the people whose codes are given (index ``start`` onwards).

    ``codes`` holds equally long arrays: gender, first, last, birth (date ordinal), location,
    hometown, relationship, religion, political, education, work, phone. Returns the columns
    of the ``people`` table (without id and platform_enabled).
    """
    all_pools = pools()
    size = country.size
    out: dict[str, list[str | None]] = {k: [] for k in PROFILE_TEXT_COLUMNS}
    for i in range(size):
        c = COUNTRIES[int(country[i])]
        pool = all_pools[int(country[i])]
        g = int(codes["gender"][i])
        firsts = pool.female if g == 0 else pool.male
        first = firsts[int(codes["first"][i]) % len(firsts)]
        last = pool.last[int(codes["last"][i]) % len(pool.last)]
        person = start + i + 1
        local = f"{_ascii(first)}.{_ascii(last)}".strip(".") or "user"
        city = c.cities[int(codes["location"][i]) % len(c.cities)]
        home = c.cities[int(codes["hometown"][i]) % len(c.cities)]
        edu = EDUCATION_KINDS[int(codes["education"][i]) % len(EDUCATION_KINDS)]
        work = int(codes["work"][i])
        out["name"].append(f"{first} {last}")
        out["first_name"].append(first)
        out["last_name"].append(last)
        out["gender"].append(GENDERS[g])
        out["birthday"].append(date.fromordinal(int(codes["birth"][i])).isoformat())
        out["email"].append(f"{local}.{person}@{EMAIL_DOMAINS[person % len(EMAIL_DOMAINS)]}")
        out["phone"].append(f"+{c.calling_code} {int(codes['phone'][i]):010d}")
        out["hometown"].append(f"{home}, {c.name}")
        out["location"].append(f"{city}, {c.name}")
        out["country"].append(c.code)
        out["relationship_status"].append(
            RELATIONSHIP_STATUSES[int(codes["relationship"][i]) % len(RELATIONSHIP_STATUSES)]
        )
        out["religion"].append(RELIGIONS[int(codes["religion"][i]) % len(RELIGIONS)])
        out["political"].append(POLITICAL_VIEWS[int(codes["political"][i]) % len(POLITICAL_VIEWS)])
        out["education"].append(None if edu is None else edu.format(city=home))
        out["work"].append(None if work == 0 else pool.companies[(work - 1) % len(pool.companies)])
    return out


def draw_profile_codes(
    country: npt.NDArray[np.uint8],
    age: npt.NDArray[np.uint8],
    rng: np.random.Generator,
    *,
    fill_all: bool = False,
) -> dict[str, npt.NDArray[np.generic]]:
    """Profile codes for everyone (see :func:`profile_columns` for their meaning).

    Realistically many people leave religion, politics, work... empty; ``fill_all`` gives
    every person a value for every field (demo and test populations).
    """
    n = country.size
    pool_sizes = pools()
    n_female = np.array([len(p.female) for p in pool_sizes])[country]
    n_male = np.array([len(p.male) for p in pool_sizes])[country]
    n_last = np.array([len(p.last) for p in pool_sizes])[country]
    n_cities = np.array([len(c.cities) for c in COUNTRIES])[country]
    gender = (rng.random(n) < 0.53).astype(np.uint8)  # 1 = male, as the 2014 user mix
    first = np.floor(rng.random(n) * np.where(gender == 0, n_female, n_male)).astype(np.uint16)
    last = np.floor(rng.random(n) * n_last).astype(np.uint16)
    # big cities are bigger: the first cities of a country's list weigh more (Zipf-like)
    location = np.floor(n_cities * rng.random(n) ** 1.6).astype(np.uint8)
    moved = rng.random(n) < 0.35
    hometown = np.where(moved, np.floor(n_cities * rng.random(n)), location).astype(np.uint8)
    ref = AGE_REFERENCE.toordinal()
    birth = (ref - age.astype(np.int64) * 365 - np.floor(rng.random(n) * 365)).astype(np.int32)
    young = age < 25
    rel_young = np.array([0.30, 0.38, 0.22, 0.03, 0.01, 0.04, 0.02, 0.0, 0.0])
    rel_older = np.array([0.28, 0.10, 0.12, 0.04, 0.36, 0.02, 0.01, 0.05, 0.02])
    relationship = np.where(
        young,
        rng.choice(len(rel_young), size=n, p=rel_young / rel_young.sum()),
        rng.choice(len(rel_older), size=n, p=rel_older / rel_older.sum()),
    ).astype(np.uint8)
    # about 40% fill in a religion: mostly their country's most common one
    home_religion = np.array([RELIGIONS.index(c.religion) for c in COUNTRIES])[country]
    filled = rng.random(n) < 0.40
    other = rng.integers(1, len(RELIGIONS), size=n)
    religion = np.where(filled, np.where(rng.random(n) < 0.7, home_religion, other), 0)
    political = np.where(rng.random(n) < 0.25, rng.integers(1, len(POLITICAL_VIEWS), size=n), 0)
    education = np.where(
        rng.random(n) < 0.65, rng.integers(1, len(EDUCATION_KINDS), size=n), 0
    ).astype(np.uint16)
    working = (rng.random(n) < 0.5) & (age >= 18)
    work = np.where(working, rng.integers(1, COMPANIES_PER_LOCALE + 1, size=n), 0)
    phone = rng.integers(10**9, 10**10 - 1, size=n, dtype=np.int64)
    if fill_all:

        def filled_in(codes: npt.NDArray[np.generic], kinds: int) -> npt.NDArray[np.generic]:
            return np.where(codes == 0, rng.integers(1, kinds, size=n), codes)

        relationship = filled_in(relationship, len(RELATIONSHIP_STATUSES)).astype(np.uint8)
        religion = filled_in(religion, len(RELIGIONS))
        political = filled_in(political, len(POLITICAL_VIEWS))
        education = filled_in(education, len(EDUCATION_KINDS)).astype(np.uint16)
        work = filled_in(work, COMPANIES_PER_LOCALE + 1)
    return {
        "gender": gender,
        "first": first,
        "last": last,
        "birth": birth,
        "location": location,
        "hometown": hometown,
        "relationship": relationship.astype(np.uint8),
        "religion": religion.astype(np.uint8),
        "political": political.astype(np.uint8),
        "education": education,
        "work": work.astype(np.uint16),
        "phone": phone,
    }


__all__ = [
    "AGE_BRACKETS",
    "EDUCATION_KINDS",
    "GENDERS",
    "POLITICAL_VIEWS",
    "RELATIONSHIP_STATUSES",
    "RELIGIONS",
    "NamePool",
    "draw_profile_codes",
    "name_pool",
    "pools",
    "profile_columns",
    "sample_ages",
]
