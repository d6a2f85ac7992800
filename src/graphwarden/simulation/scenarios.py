"""The quiz-2014 scenario: the population a replay runs on, who installs, and what the apps ask.

A replay needs only a handful of arrays from a population (see :class:`ReplayPopulation`):
the friendship CSR, countries, per-field audiences, the "apps others use" bitmask, the
platform switch, page likes, and which fields hold a value. It adapts the generator's
``Population`` (:meth:`ReplayPopulation.of`) or is built by hand for small tests. Person ids in
the store are array index + 1, as the population loader writes them.

Installers are chosen as the 2014 quiz's paid survey-takers were: mostly from one country
(default: 90% from the US), the rest from anywhere, deterministic for a seed, and only among
people with the platform turned on (others cannot sign in to an app at all).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from graphwarden.core.errors import InvalidInput
from graphwarden.graph.fields import FIELD_BY_NAME, FIELDS, N_FIELDS, AppsOthersUse, Audience
from graphwarden.policy.tables import PUBLIC_PROFILE, needs_review, requestable

IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
U8Array = npt.NDArray[np.uint8]
BoolArray = npt.NDArray[np.bool_]

#: seed stream of the installer draw (kept apart from the population's own streams)
STREAM_INSTALLERS = 101

#: what the personality quiz asks for, in the order the 2014 app listed it; each version
#: gets the subset it still allows (``requestable``), and the consent screen / App Review
#: decide what is actually granted
QUIZ_WISHES: tuple[str, ...] = (
    PUBLIC_PROFILE,
    "email",
    "user_friends",
    "user_likes",
    "user_birthday",
    "user_location",
    "user_hometown",
    "user_relationships",
    "user_religion_politics",
    "user_education_history",
    "user_work_history",
    "friends_birthday",
    "friends_likes",
    "friends_location",
    "friends_hometown",
    "friends_relationships",
    "friends_religion_politics",
    "friends_education_history",
    "friends_work_history",
)

#: the quiz's ``/me`` selection (scalar fields; likes are read as a nested edge)
QUIZ_OWN_FIELDS: tuple[str, ...] = (
    "id",
    "name",
    "first_name",
    "last_name",
    "gender",
    "email",
    "birthday",
    "hometown",
    "location",
    "country",
    "relationship_status",
    "religion",
    "political",
    "education",
    "work",
)
#: what the quiz reads of every friend it can list
QUIZ_FRIEND_FIELDS: tuple[str, ...] = (
    "id",
    "name",
    "first_name",
    "last_name",
    "gender",
    "birthday",
    "hometown",
    "location",
    "country",
    "relationship_status",
    "religion",
    "political",
    "education",
    "work",
)
#: page size of nested likes; the friends page size follows from the Graph API's budget of
#: 5,000 objects per response: ``friends_limit * (1 + likes_limit) <= 5000``
QUIZ_LIKES_LIMIT = 100
GRAPH_API_OBJECT_BUDGET = 5000
QUIZ_FRIENDS_LIMIT = GRAPH_API_OBJECT_BUDGET // (1 + QUIZ_LIKES_LIMIT)


def quiz_request(version: str) -> tuple[str, ...]:
    """The permissions the quiz asks for under ``version`` (what the version still allows).

    >>> "friends_likes" in quiz_request("v1.0"), "friends_likes" in quiz_request("v2.0")
    (True, False)
    """
    return tuple(p for p in QUIZ_WISHES if requestable(version, p))


def expected_grant(version: str, requested: Sequence[str]) -> frozenset[str]:
    """What a person who accepts everything offered ends up granting to an app that passed
    no App Review (the consent screen withholds what needs review)."""
    return frozenset(p for p in requested if not needs_review(version, p)) | {PUBLIC_PROFILE}


@dataclass(frozen=True, eq=False)
class ReplayPopulation:
    """The arrays a replay reads. Row ``i`` is the person with store id ``i + 1``."""

    indptr: IntArray
    indices: Int32Array
    #: country code per person, an index into ``country_names``
    country: U8Array
    country_names: tuple[str, ...]
    #: ``Audience`` per person and field (columns in ``graph.fields.FIELDS`` order)
    audience: U8Array
    #: "apps others use" bitmask per person (bit ``AppsOthersUse`` set: friends may share it)
    shares: U8Array
    platform_enabled: BoolArray
    #: page likes as CSR: the pages (ids, ascending) person ``i`` likes
    likes_indptr: IntArray
    likes_indices: Int32Array
    #: whether each person has a value for each field (absent fields are never served)
    has_value: BoolArray = field(default_factory=lambda: np.zeros((0, N_FIELDS), dtype=np.bool_))

    def __post_init__(self) -> None:
        n = self.n
        if self.indices.size != int(self.indptr[-1]):
            raise InvalidInput("indptr[-1] must equal the number of friendship entries")
        for name, arr in (
            ("country", self.country),
            ("shares", self.shares),
            ("platform_enabled", self.platform_enabled),
        ):
            if arr.shape != (n,):
                raise InvalidInput(f"{name} must have shape ({n},), not {arr.shape}")
        if self.audience.shape != (n, N_FIELDS):
            raise InvalidInput(f"audience must have shape ({n}, {N_FIELDS})")
        if self.likes_indptr.shape != (n + 1,):
            raise InvalidInput(f"likes_indptr must have shape ({n + 1},)")
        if self.has_value.shape[0] == 0:
            object.__setattr__(self, "has_value", np.ones((n, N_FIELDS), dtype=np.bool_))
        elif self.has_value.shape != (n, N_FIELDS):
            raise InvalidInput(f"has_value must have shape ({n}, {N_FIELDS})")

    @property
    def n(self) -> int:
        return int(self.indptr.size - 1)

    @property
    def degree(self) -> IntArray:
        return np.diff(self.indptr)

    @property
    def like_count(self) -> IntArray:
        return np.diff(self.likes_indptr)

    def with_has_value(self, has_value: BoolArray) -> ReplayPopulation:
        """The same population with ``has_value`` replaced (e.g. read back from a store)."""
        return ReplayPopulation(
            indptr=self.indptr,
            indices=self.indices,
            country=self.country,
            country_names=self.country_names,
            audience=self.audience,
            shares=self.shares,
            platform_enabled=self.platform_enabled,
            likes_indptr=self.likes_indptr,
            likes_indices=self.likes_indices,
            has_value=has_value,
        )

    @classmethod
    def of(cls, population: Any) -> ReplayPopulation:
        """Adapt the generator's ``Population`` (``graphwarden.simulation.population``).

        Accepts likes as ``likes_indptr``/``likes_indices`` or a ``likes`` object with
        ``indptr``/``indices``; shares as a bitmask or an ``n x N_CATEGORIES`` bool matrix;
        country names from ``country_codes``/``country_table``/``countries``.
        """
        if isinstance(population, ReplayPopulation):
            return population
        n = int(population.n)
        shares = np.asarray(population.shares)
        if shares.ndim == 2:
            weights = (1 << np.arange(shares.shape[1], dtype=np.uint16)).astype(np.uint16)
            shares = (shares.astype(np.uint16) @ weights).astype(np.uint8)
        likes = getattr(population, "likes", None)
        if hasattr(population, "likes_indptr"):
            l_indptr, l_indices = population.likes_indptr, population.likes_indices
        elif likes is not None and hasattr(likes, "indptr"):
            l_indptr, l_indices = likes.indptr, likes.indices
        else:
            l_indptr, l_indices = np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.int32)
        names = _country_names(population)
        has_value = getattr(population, "has_value", None)
        if has_value is None:
            has_value = profile_presence(population)
        return cls(
            indptr=np.asarray(population.indptr, dtype=np.int64),
            indices=np.asarray(population.indices, dtype=np.int32),
            country=np.asarray(population.country, dtype=np.uint8),
            country_names=names,
            audience=np.asarray(population.audience, dtype=np.uint8),
            shares=np.asarray(shares, dtype=np.uint8),
            platform_enabled=np.asarray(population.platform_enabled, dtype=np.bool_),
            likes_indptr=np.asarray(l_indptr, dtype=np.int64),
            likes_indices=np.asarray(l_indices, dtype=np.int32),
            has_value=(
                np.asarray(has_value, dtype=np.bool_)
                if has_value is not None
                else np.zeros((0, N_FIELDS), dtype=np.bool_)
            ),
        )


#: the generator's code arrays whose lookup tables hold ``None`` for "left empty"
_OPTIONAL_CODES: tuple[tuple[str, str, str], ...] = (
    ("relationship_status", "relationship", "RELATIONSHIP_STATUSES"),
    ("religion", "religion", "RELIGIONS"),
    ("political", "political", "POLITICAL_VIEWS"),
    ("education", "education", "EDUCATION_KINDS"),
)


def profile_presence(population: Any) -> BoolArray:
    """Which fields of each person of a generated population hold a value, vectorised from
    the generator's profile codes (the same rule its ``profile_columns`` applies: a code
    that looks up ``None`` is an empty field; work code 0 is no work). Falls back to the
    string columns, chunk by chunk, for a population without codes."""
    n = int(population.n)
    present = np.ones((n, N_FIELDS), dtype=np.bool_)
    try:
        from graphwarden.simulation import profiles
    except ImportError:  # pragma: no cover - the generator ships with graphwarden
        profiles = None
    if profiles is not None and all(hasattr(population, c) for _, c, _ in _OPTIONAL_CODES):
        for field_name, code_attr, table_name in _OPTIONAL_CODES:
            table = getattr(profiles, table_name)
            empty = np.array([v is None for v in table], dtype=np.bool_)
            codes = np.asarray(getattr(population, code_attr), dtype=np.int64)
            present[:, FIELD_BY_NAME[field_name].index] = ~empty[codes % len(table)]
        if hasattr(population, "work"):
            present[:, FIELD_BY_NAME["work"].index] = np.asarray(population.work) != 0
        return present
    if hasattr(population, "profile_columns"):
        step = 50_000
        for a in range(0, n, step):
            b = min(n, a + step)
            columns = population.profile_columns(a, b)
            for name, values in columns.items():
                if name in FIELD_BY_NAME:
                    present[a:b, FIELD_BY_NAME[name].index] = [v is not None for v in values]
    return present


def _country_names(population: Any) -> tuple[str, ...]:
    for attr in ("country_codes", "country_table", "countries", "country_names"):
        value = getattr(population, attr, None)
        if value is None:
            continue
        items = list(value)
        if items and hasattr(items[0], "code"):
            return tuple(str(c.code) for c in items)
        return tuple(str(c) for c in items)
    count = int(np.max(population.country)) + 1 if len(population.country) else 0
    return tuple(f"C{i}" for i in range(count))


def choose_installers(
    population: ReplayPopulation,
    *,
    count: int,
    seed: int,
    target_country: str = "US",
    target_share: float = 0.9,
) -> IntArray:
    """``count`` distinct installers (person indexes, in install order), deterministic.

    ``target_share`` of them come from ``target_country`` (as far as it has enough people
    with the platform on), the rest from anywhere else.
    """
    if count < 0:
        raise InvalidInput("the number of installers cannot be negative")
    if not 0.0 <= target_share <= 1.0:
        raise InvalidInput("the target-country share must be between 0 and 1")
    eligible = np.flatnonzero(population.platform_enabled)
    if count > eligible.size:
        raise InvalidInput(
            f"asked for {count} installers but only {eligible.size} people have the platform on"
        )
    rng = np.random.default_rng(np.random.SeedSequence([seed, STREAM_INSTALLERS]))
    names = population.country_names
    code = names.index(target_country) if target_country in names else -1
    home = eligible[population.country[eligible] == code] if code >= 0 else eligible[:0]
    away = np.setdiff1d(eligible, home, assume_unique=True)
    want_home = min(round(count * target_share), home.size)
    want_away = count - want_home
    if want_away > away.size:  # not enough people elsewhere: fill from home
        want_home += want_away - away.size
        want_away = away.size
    picked = np.concatenate(
        [
            rng.choice(home, size=want_home, replace=False),
            rng.choice(away, size=want_away, replace=False),
        ]
    ).astype(np.int64)
    # install order is random too (survey-takers arrived over weeks)
    return picked[rng.permutation(picked.size)]


#: the share of people who install the quiz when neither count nor rate is given (2014: about
#: 270,000 installers among the network's users; scaled to what a laptop replays quickly)
DEFAULT_INSTALL_RATE = 0.002


def installer_count(n: int, installers: int | None, install_rate: float | None) -> int:
    """The number of installers from ``--installers`` or ``--install-rate`` (at most one;
    neither: :data:`DEFAULT_INSTALL_RATE` of ``n``)."""
    if installers is not None and install_rate is not None:
        raise InvalidInput("give at most one of --installers and --install-rate")
    if installers is None and install_rate is None:
        install_rate = DEFAULT_INSTALL_RATE
    if installers is not None:
        if installers < 1:
            raise InvalidInput("--installers must be at least 1")
        return installers
    assert install_rate is not None
    if not 0.0 < install_rate <= 1.0:
        raise InvalidInput("--install-rate must be in (0, 1]")
    return max(1, round(n * install_rate))


def shares_field(shares: U8Array, field_index: int) -> BoolArray:
    """Whether each person lets friends bring field ``field_index`` into apps (True where
    the field has no "apps others use" category)."""
    category = FIELDS[field_index].category
    if category is None:
        return np.ones(shares.shape, dtype=np.bool_)
    return (shares >> np.uint8(int(category)) & 1).astype(np.bool_)


def tiny_population(
    n: int,
    *,
    seed: int,
    mean_friends: float = 8.0,
    countries: Sequence[str] = ("US", "GB", "IN"),
    country_weights: Sequence[float] = (0.6, 0.25, 0.15),
    pages: int = 30,
    missing_share: float = 0.1,
) -> ReplayPopulation:
    """A small random population with varied audiences, switches, likes and missing values;
    for tests and examples (the real generator is ``graphwarden.simulation.population``)."""
    if n < 2:
        raise InvalidInput("a population needs at least two people")
    rng = np.random.default_rng(seed)
    m = int(n * mean_friends / 2)
    a = rng.integers(0, n, size=m)
    b = rng.integers(0, n, size=m)
    chain_a = np.arange(n - 1)
    a, b = np.concatenate([a, chain_a]), np.concatenate([b, chain_a + 1])
    keep = a != b
    lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
    pairs = np.unique(lo * n + hi)
    lo, hi = pairs // n, pairs % n
    rows, cols = np.concatenate([lo, hi]), np.concatenate([hi, lo])
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    weights = np.asarray(country_weights, dtype=float)
    country = rng.choice(len(countries), size=n, p=weights / weights.sum()).astype(np.uint8)
    defaults = np.array([int(f.default_audience) for f in FIELDS], dtype=np.uint8)
    audience = np.tile(defaults, (n, 1))
    vary = rng.random((n, N_FIELDS)) < 0.3
    audience[vary] = rng.integers(0, len(Audience), size=int(vary.sum()), dtype=np.uint8)
    audience[:, FIELD_BY_NAME["id"].index] = int(Audience.PUBLIC)
    shares = np.full(n, (1 << len(AppsOthersUse)) - 1, dtype=np.uint8)
    off = rng.random((n, len(AppsOthersUse))) < 0.1
    shares &= ~(
        (off.astype(np.uint8) << np.arange(len(AppsOthersUse), dtype=np.uint8))
        .sum(axis=1)
        .astype(np.uint8)
    )
    platform = rng.random(n) >= 0.03
    like_counts = rng.integers(0, 8, size=n)
    l_indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(like_counts, out=l_indptr[1:])
    l_indices = np.concatenate(
        [np.sort(rng.choice(pages, size=int(c), replace=False)) + 1 for c in like_counts]
    ).astype(np.int32)
    has_value = np.ones((n, N_FIELDS), dtype=np.bool_)
    optional = [f.index for f in FIELDS if not f.basic and not f.edge]
    gaps = rng.random((n, len(optional))) < missing_share
    has_value[:, optional] = ~gaps
    return ReplayPopulation(
        indptr=indptr,
        indices=cols.astype(np.int32),
        country=country,
        country_names=tuple(countries),
        audience=audience,
        shares=shares,
        platform_enabled=platform,
        likes_indptr=l_indptr,
        likes_indices=l_indices,
        has_value=has_value,
    )


__all__ = [
    "DEFAULT_INSTALL_RATE",
    "GRAPH_API_OBJECT_BUDGET",
    "QUIZ_FRIENDS_LIMIT",
    "QUIZ_FRIEND_FIELDS",
    "QUIZ_LIKES_LIMIT",
    "QUIZ_OWN_FIELDS",
    "QUIZ_WISHES",
    "ReplayPopulation",
    "choose_installers",
    "expected_grant",
    "installer_count",
    "profile_presence",
    "quiz_request",
    "shares_field",
    "tiny_population",
]
