"""The synthetic population: people, friendships, settings and likes as numpy arrays.

``generate_population(n, seed)`` is deterministic: the same ``(n, seed, model)`` gives
bit-identical arrays on any machine with the same numpy. Person *index* ``i`` is store id
``i + 1``; page index ``p`` is page id ``p + 1``. People are laid out by country (contiguous
index ranges) and, inside a country, by social circle.

Profile strings (names, emails, cities...) are not held: :meth:`Population.profile_columns`
builds them for a range of people, so a 10-million-person population needs only its codes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from graphwarden.core.errors import InvalidInput
from graphwarden.graph.bulk import BulkGraph
from graphwarden.graph.stats import PRESETS, preset
from graphwarden.simulation.countries import COUNTRIES, COUNTRY_CODES, country_shares
from graphwarden.simulation.degrees import DegreeModel, build_graph, stream
from graphwarden.simulation.profiles import draw_profile_codes, profile_columns, sample_ages
from graphwarden.simulation.settings import (
    PAGE_CATEGORIES,
    draw_audiences,
    draw_likes,
    draw_platform_enabled,
    draw_sharing,
    page_count,
    page_names,
    page_popularity,
)

FORMAT_VERSION = 1
STREAM_PROFILE = 10
STREAM_SETTINGS = 11
STREAM_LIKES = 12
STREAM_PAGES = 13
MAX_PEOPLE = 50_000_000

#: arrays saved by :meth:`Population.save` (everything but the metadata)
_ARRAYS = [
    "indptr",
    "indices",
    "country",
    "age",
    "circle",
    "gender",
    "first",
    "last",
    "birth",
    "location",
    "hometown",
    "relationship",
    "religion",
    "political",
    "education",
    "work",
    "phone",
    "audience",
    "shares",
    "platform_enabled",
    "likes_indptr",
    "likes_indices",
    "page_category",
    "page_likes",
]
#: the profile codes turned into strings by ``profile_columns``
_CODES = [
    "gender",
    "first",
    "last",
    "birth",
    "location",
    "hometown",
    "relationship",
    "religion",
    "political",
    "education",
    "work",
    "phone",
]


@dataclass(eq=False)
class Population:
    """A generated population. All arrays are indexed by person index (store id - 1)."""

    n: int
    seed: int
    preset: str
    median_friends: float
    mean_friends: float
    indptr: npt.NDArray[np.int64]
    indices: npt.NDArray[np.int32]
    country: npt.NDArray[np.uint8]
    age: npt.NDArray[np.uint8]
    circle: npt.NDArray[np.int32]
    gender: npt.NDArray[np.uint8]
    first: npt.NDArray[np.uint16]
    last: npt.NDArray[np.uint16]
    birth: npt.NDArray[np.int32]
    location: npt.NDArray[np.uint8]
    hometown: npt.NDArray[np.uint8]
    relationship: npt.NDArray[np.uint8]
    religion: npt.NDArray[np.uint8]
    political: npt.NDArray[np.uint8]
    education: npt.NDArray[np.uint16]
    work: npt.NDArray[np.uint16]
    phone: npt.NDArray[np.int64]
    #: n × N_FIELDS :class:`~graphwarden.graph.fields.Audience` codes, ``FIELDS`` order
    audience: npt.NDArray[np.uint8]
    #: bit c set = "apps others use" category ``AppsOthersUse(c)`` is on
    shares: npt.NDArray[np.uint8]
    platform_enabled: npt.NDArray[np.bool_]
    likes_indptr: npt.NDArray[np.int64]
    likes_indices: npt.NDArray[np.int32]
    page_category: npt.NDArray[np.uint8]
    #: how many people like each page (its popularity)
    page_likes: npt.NDArray[np.int64]

    @property
    def graph(self) -> BulkGraph:
        """The friendship graph (shares the arrays)."""
        return BulkGraph(indptr=self.indptr, indices=self.indices)

    @property
    def n_pages(self) -> int:
        return int(self.page_category.size)

    @property
    def country_codes(self) -> tuple[str, ...]:
        """ISO codes of the ``country`` array's values."""
        return COUNTRY_CODES

    def likes_of(self, i: int) -> npt.NDArray[np.int32]:
        """Page indices person ``i`` likes, ascending."""
        return self.likes_indices[self.likes_indptr[i] : self.likes_indptr[i + 1]]

    def page_names(self, start: int = 0, stop: int | None = None) -> list[str]:
        """Names of pages ``start..stop`` (indices)."""
        stop = self.n_pages if stop is None else stop
        ids = np.arange(start, stop, dtype=np.int64)
        return page_names(ids, self.page_category[start:stop])

    def page_category_names(self, start: int = 0, stop: int | None = None) -> list[str]:
        stop = self.n_pages if stop is None else stop
        return [PAGE_CATEGORIES[c] for c in self.page_category[start:stop].tolist()]

    def profile_columns(self, start: int, stop: int) -> dict[str, list[str | None]]:
        """The ``people`` table's string columns of people ``start..stop`` (indices)."""
        if not 0 <= start <= stop <= self.n:
            raise InvalidInput(f"people range {start}..{stop} outside 0..{self.n}")
        codes = {k: getattr(self, k)[start:stop] for k in _CODES}
        return profile_columns(self.country[start:stop], codes, start)

    # --- persistence --------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write every array to an uncompressed ``.npz`` (no pickles) and return its path."""
        target = Path(path)
        if target.suffix != ".npz":
            target = target.with_suffix(".npz")
        target.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "format": FORMAT_VERSION,
            "n": self.n,
            "seed": self.seed,
            "preset": self.preset,
            "median_friends": self.median_friends,
            "mean_friends": self.mean_friends,
        }
        np.savez(target, meta=np.array(json.dumps(meta)), **{k: getattr(self, k) for k in _ARRAYS})
        return target

    @classmethod
    def load(cls, path: str | Path) -> Population:
        """Read a population written by :meth:`save`."""
        source = Path(path)
        if not source.is_file():
            raise InvalidInput(f"no population file at {source}")
        try:
            with np.load(source, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                arrays = {k: data[k] for k in _ARRAYS}
        except (OSError, ValueError, KeyError) as exc:
            raise InvalidInput(f"{source} is not a graphwarden population file: {exc}") from exc
        if meta.get("format") != FORMAT_VERSION:
            raise InvalidInput(f"{source}: unsupported population format {meta.get('format')}")
        return cls(
            n=int(meta["n"]),
            seed=int(meta["seed"]),
            preset=str(meta["preset"]),
            median_friends=float(meta["median_friends"]),
            mean_friends=float(meta["mean_friends"]),
            **arrays,
        )

    def arrays(self) -> dict[str, Any]:
        """Every field by name (for comparisons)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def degree_model(
    preset_name: str = "2014",
    *,
    median_friends: float | None = None,
    mean_friends: float | None = None,
) -> DegreeModel:
    """The degree model of a preset, or of an explicit median/mean (both or neither)."""
    if (median_friends is None) != (mean_friends is None):
        raise InvalidInput("give both --median-friends and --mean-friends, or neither")
    if median_friends is not None and mean_friends is not None:
        return DegreeModel(median=float(median_friends), mean=float(mean_friends))
    target = preset(preset_name)
    return DegreeModel(median=target.median_degree, mean=target.mean_degree)


def generate_population(
    n: int,
    seed: int,
    *,
    preset_name: str = "2014",
    median_friends: float | None = None,
    mean_friends: float | None = None,
    fill_all: bool = False,
) -> Population:
    """Generate ``n`` people deterministically from ``seed``.

    ``fill_all`` gives every person a value for every profile field (otherwise, as in life,
    many leave religion, politics, relationship, education or work empty).

    >>> p = generate_population(50, seed=7); p.n, bool(p.graph.degree.min() >= 1)
    (50, True)
    """
    if not 1 <= n <= MAX_PEOPLE:
        raise InvalidInput(f"users must be between 1 and {MAX_PEOPLE:,}, got {n}")
    if seed < 0:
        raise InvalidInput("seed must be a non-negative integer")
    if preset_name not in PRESETS:
        preset(preset_name)  # raises with the list of presets
    model = degree_model(preset_name, median_friends=median_friends, mean_friends=mean_friends)
    layout = stream(seed, 2, 0)
    counts = layout.multinomial(n, country_shares()).astype(np.int64)
    country = np.repeat(np.arange(len(COUNTRIES), dtype=np.uint8), counts)
    # inside a country people sit near others of their age: circles become age-homophilous
    age = sample_ages(layout, n)
    noisy = age.astype(np.float64) + layout.normal(0.0, 4.0, size=n)
    age = age[np.lexsort((noisy, country))]
    graph, circle = build_graph(model, counts, seed)
    codes = draw_profile_codes(country, age, stream(seed, STREAM_PROFILE), fill_all=fill_all)
    # most people of a circle live in the circle's city
    rng = stream(seed, STREAM_PROFILE, 1)
    n_cities = np.array([len(c.cities) for c in COUNTRIES])
    # circle ids ascend along the index: a circle's first member is where the id changes
    circle_country = country[np.flatnonzero(np.diff(circle, prepend=-1))]
    circle_city = np.floor(n_cities[circle_country] * rng.random(circle_country.size) ** 1.6)
    local = rng.random(n) < 0.8
    codes["location"] = np.where(local, circle_city[circle], codes["location"]).astype(np.uint8)
    settings_rng = stream(seed, STREAM_SETTINGS)
    audience = draw_audiences(settings_rng, n)
    shares = draw_sharing(settings_rng, n)
    platform = draw_platform_enabled(settings_rng, n)
    n_pages = page_count(n)
    likes_indptr, likes_indices = draw_likes(stream(seed, STREAM_LIKES), n, n_pages)
    page_category = stream(seed, STREAM_PAGES).integers(
        0, len(PAGE_CATEGORIES), size=n_pages, dtype=np.uint8
    )
    return Population(
        n=n,
        seed=seed,
        preset=preset_name if median_friends is None else "custom",
        median_friends=model.median,
        mean_friends=model.mean,
        indptr=graph.indptr,
        indices=graph.indices,
        country=country,
        age=age,
        circle=circle,
        audience=audience,
        shares=shares,
        platform_enabled=platform,
        likes_indptr=likes_indptr,
        likes_indices=likes_indices,
        page_category=page_category,
        page_likes=page_popularity(likes_indices, n_pages),
        **codes,  # type: ignore[arg-type]
    )


__all__ = ["MAX_PEOPLE", "Population", "degree_model", "generate_population"]
