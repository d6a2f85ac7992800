"""What a store backend gives the population loader.

A backend (:mod:`graphwarden.graph.loader_postgres`, :mod:`graphwarden.graph.loader_sqlite`)
provides a :data:`Writer` for column batches (the profile tables), a :data:`PairWriter` for
id pairs (friendships, likes), and a :class:`SetAside`: the statements that drop a table's
constraints and indexes before a bulk load and re-add them after it, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Table

#: writes one batch of columns (name -> values) into a table; returns the rows written
Writer = Callable[[Table, list[str], dict[str, Any]], int]

#: writes (a, b) id pairs into the two named columns of a table; returns the rows written
PairWriter = Callable[[Table, list[str], npt.NDArray[np.int64], npt.NDArray[np.int64]], int]


@dataclass(frozen=True, slots=True)
class SetAside:
    """Constraints and indexes of a table dropped for a bulk load, and how to re-add them."""

    drop: list[str]
    restore: list[str]


__all__ = ["PairWriter", "SetAside", "Writer"]
