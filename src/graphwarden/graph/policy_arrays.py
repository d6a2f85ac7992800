"""The stored graph as the arrays the policy's bulk face reads.

:func:`read_policy_arrays` reads people, friendships, audiences, "apps others use" switches,
the platform switch, which profile fields hold a value and who likes any page, into numpy
arrays indexed by row (row ``i`` is the ``i``-th person id in ascending order). Potential
exposure, what-if and the App Review forecast decide over these with
:class:`graphwarden.policy.bulk.BulkPolicy`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from graphwarden.core.errors import InvalidInput, StoreError
from graphwarden.graph.bulk import BulkGraph
from graphwarden.graph.fields import FIELDS, N_FIELDS, AppsOthersUse, Audience
from graphwarden.graph.loader import read_graph
from graphwarden.graph.models import Like, Person, apps_others_use, field_audiences

#: profile columns whose NULL means "no value" (a field without a value is never served)
_VALUE_COLUMNS = tuple(
    f.name for f in FIELDS if hasattr(Person, f.name) and not f.basic and not f.edge
)


@dataclass(frozen=True, eq=False)
class PolicyArrays:
    """Everything the bulk face needs about each person, by row."""

    graph: BulkGraph
    person_ids: npt.NDArray[np.int64]
    country: npt.NDArray[np.str_]
    #: ``Audience`` per row and field (columns in ``FIELDS`` order)
    audience: npt.NDArray[np.uint8]
    #: "apps others use" bitmask per row (bit ``AppsOthersUse`` set: friends may share it)
    shares: npt.NDArray[np.uint8]
    platform_enabled: npt.NDArray[np.bool_]
    #: whether each row holds a value for each field
    has_value: npt.NDArray[np.bool_]

    @property
    def n(self) -> int:
        return int(self.person_ids.size)

    def rows_of(self, person_ids: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Rows of store ids; ``InvalidInput`` for an id that is not a person."""
        ids = np.asarray(person_ids, dtype=np.int64).ravel()
        rows = np.searchsorted(self.person_ids, ids)
        ok = rows < self.person_ids.size
        ok[ok] = self.person_ids[rows[ok]] == ids[ok]
        if not ok.all():
            raise InvalidInput(f"no person {int(ids[~ok][0])} in the store")
        return rows.astype(np.int64)

    def shares_field(self, rows: npt.NDArray[np.int64], field_index: int) -> npt.NDArray[np.bool_]:
        """Whether each row lets friends bring field ``field_index`` into apps."""
        category = FIELDS[field_index].category
        if category is None:
            return np.ones(rows.size, dtype=np.bool_)
        return (self.shares[rows] >> np.uint8(int(category)) & 1).astype(np.bool_)


def read_policy_arrays(engine: Engine) -> PolicyArrays:
    """Read the store's graph into :class:`PolicyArrays`."""
    stored = read_graph(engine)
    ids = stored.person_ids
    n = ids.size
    audience = np.tile(
        np.array([int(f.default_audience) for f in FIELDS], dtype=np.uint8), (max(n, 0), 1)
    )
    audience[:, 0] = int(Audience.PUBLIC)
    shares = np.full(n, (1 << len(AppsOthersUse)) - 1, dtype=np.uint8)
    platform = np.ones(n, dtype=np.bool_)
    has_value = np.ones((n, N_FIELDS), dtype=np.bool_)
    p = Person.__table__.c
    try:
        with engine.connect() as conn:
            value_cols = [p[name].is_not(None) for name in _VALUE_COLUMNS]
            rows = conn.execute(select(p.id, p.platform_enabled, *value_cols).order_by(p.id)).all()
            if rows:
                arr = np.array(rows, dtype=np.int64)
                at = np.searchsorted(ids, arr[:, 0])
                platform[at] = arr[:, 1].astype(bool)
                for k, name in enumerate(_VALUE_COLUMNS):
                    has_value[at, _index(name)] = arr[:, 2 + k].astype(bool)
            a = field_audiences.c
            names = [c.name for c in field_audiences.columns if c.name != "person_id"]
            rows = conn.execute(select(a.person_id, *[a[c] for c in names])).all()
            if rows:
                arr = np.array(rows, dtype=np.int64)
                at = np.searchsorted(ids, arr[:, 0])
                for k, name in enumerate(names):
                    audience[at, _index(name)] = arr[:, 1 + k].astype(np.uint8)
            s = apps_others_use.c
            cats = list(AppsOthersUse)
            rows = conn.execute(select(s.person_id, *[s[c.label] for c in cats])).all()
            if rows:
                arr = np.array(rows, dtype=np.int64)
                at = np.searchsorted(ids, arr[:, 0])
                mask = np.zeros(arr.shape[0], dtype=np.uint8)
                for k, cat in enumerate(cats):
                    mask |= (arr[:, 1 + k].astype(np.uint8) & 1) << np.uint8(int(cat))
                shares[at] = mask
            lk = Like.__table__.c
            rows = conn.execute(select(lk.person_id, func.count()).group_by(lk.person_id)).all()
            likes = np.zeros(n, dtype=bool)
            if rows:
                arr = np.array(rows, dtype=np.int64)
                likes[np.searchsorted(ids, arr[:, 0])] = arr[:, 1] > 0
            has_value[:, _index("likes")] = likes
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read the graph: {exc.__class__.__name__}: {exc}") from exc
    return PolicyArrays(
        graph=stored.graph,
        person_ids=ids,
        country=stored.country,
        audience=audience,
        shares=shares,
        platform_enabled=platform,
        has_value=has_value,
    )


def _index(name: str) -> int:
    return next(f.index for f in FIELDS if f.name == name)


__all__ = ["PolicyArrays", "read_policy_arrays"]
