"""What the analytics read: the ledger's Parquet export and the people table, at a signed
tree head.

:func:`take_snapshot` signs a tree head over every record written so far (when given the
ledger's signer), exports the ledger to Parquet (:func:`graphwarden.ledger.export.
export_parquet`, atomically) and writes the people table (``person_id``, ``country``) beside
it. Figures computed from a snapshot count the records ``seq < head.tree_size`` only, so each
one names the signed head it can be checked against.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine, select

from graphwarden.core.clock import Clock, SystemClock
from graphwarden.graph.models import Person
from graphwarden.ledger.export import export_parquet
from graphwarden.ledger.merkle import EMPTY_ROOT
from graphwarden.ledger.queries import latest_head
from graphwarden.ledger.signing import LedgerSigner, SignedTreeHead


@dataclass(frozen=True)
class Snapshot:
    """The ledger export and people table, and the signed head the figures are taken at."""

    ledger: Path
    people: Path
    head: SignedTreeHead | None

    @property
    def tree_size(self) -> int:
        return 0 if self.head is None else self.head.tree_size

    @property
    def root_hash(self) -> str:
        return (EMPTY_ROOT if self.head is None else self.head.root_hash).hex()

    def head_json(self) -> dict[str, Any] | None:
        return None if self.head is None else self.head.to_json()


def export_people(engine: Engine, out: Path) -> Path:
    """The store's people as ``person_id``, ``country`` (Parquet) at ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    p = Person.__table__.c
    with engine.connect() as conn:
        rows = conn.execute(select(p.id, p.country).order_by(p.id)).all()
    table = pa.table(
        {
            "person_id": pa.array([r[0] for r in rows], pa.int64()),
            "country": pa.array([r[1] or "??" for r in rows], pa.string()),
        }
    )
    tmp = out.with_name(f".{out.name}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    tmp.replace(out)
    return out


def take_snapshot(
    engine: Engine,
    work_dir: Path,
    *,
    signer: LedgerSigner | None = None,
    clock: Clock | None = None,
) -> Snapshot:
    """Sign a head over every record (with ``signer``), export ledger and people under
    ``work_dir``, and return where they are with the newest signed head."""
    if signer is not None:
        from graphwarden.ledger.service import SqlDisclosureLedger

        SqlDisclosureLedger(engine, signer, clock or SystemClock()).publish_head()
    head = latest_head(engine)
    work_dir = Path(work_dir)
    result = export_parquet(engine, work_dir)
    people = export_people(engine, work_dir / "people.parquet")
    return Snapshot(ledger=result.path, people=people, head=head)


__all__ = ["Snapshot", "export_people", "take_snapshot"]
