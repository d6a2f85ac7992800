"""ledger: the records' leaf hashes move to their batch; the state row counts integrated records

Revision ID: 0005
Revises: 0004

Each ``disclosures`` row carried its own 32-byte leaf hash; a batch now carries the leaf
hashes of all its records side by side (``disclosure_batches.leaf_hashes``, 32 bytes per
record in seq order). The stored hashes are moved as they are, never recomputed, so a record
altered before the upgrade is still found by ``graphwarden ledger verify`` after it.

``ledger_state.tree_size`` is the number of records integrated into the Merkle tree, which a
separate integrator may now do after the records are written; every record written so far is
integrated, so it starts equal to ``next_seq``.
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_PAGE = 2_000  # batches moved per round trip


def _batches(conn: sa.Connection) -> Iterator[list[tuple[int, int, int]]]:
    """``(id, first_seq, count)`` of every batch, a page at a time, in seq order."""
    after = -1
    while True:
        rows = conn.execute(
            sa.text(
                "SELECT id, first_seq, count FROM disclosure_batches WHERE first_seq > :after "
                "ORDER BY first_seq LIMIT :n"
            ),
            {"after": after, "n": _PAGE},
        ).all()
        if not rows:
            return
        yield [(int(r[0]), int(r[1]), int(r[2])) for r in rows]
        after = int(rows[-1][1])


def upgrade() -> None:
    with op.batch_alter_table("disclosure_batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("leaf_hashes", sa.LargeBinary(), nullable=True))
    conn = op.get_bind()
    for page in _batches(conn):
        lo = page[0][1]
        hi = page[-1][1] + page[-1][2]
        leaves = dict(
            conn.execute(
                sa.text("SELECT seq, leaf_hash FROM disclosures WHERE seq >= :lo AND seq < :hi"),
                {"lo": lo, "hi": hi},
            ).all()
        )
        conn.execute(
            sa.text("UPDATE disclosure_batches SET leaf_hashes = :h WHERE id = :id"),
            [
                {
                    "id": b_id,
                    # a missing record's hash is left out: verify names the gap as before
                    "h": b"".join(
                        bytes(leaves[s]) for s in range(first, first + count) if s in leaves
                    ),
                }
                for b_id, first, count in page
            ],
        )
    with op.batch_alter_table("disclosure_batches", schema=None) as batch_op:
        batch_op.alter_column("leaf_hashes", existing_type=sa.LargeBinary(), nullable=False)
    with op.batch_alter_table("disclosures", schema=None) as batch_op:
        batch_op.drop_column("leaf_hash")
    with op.batch_alter_table("ledger_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tree_size", sa.BigInteger(), nullable=True))
    op.execute("UPDATE ledger_state SET tree_size = next_seq")
    with op.batch_alter_table("ledger_state", schema=None) as batch_op:
        batch_op.alter_column("tree_size", existing_type=sa.BigInteger(), nullable=False)


def downgrade() -> None:
    conn = op.get_bind()
    pending = conn.execute(
        sa.text("SELECT next_seq - tree_size FROM ledger_state WHERE id = 1")
    ).scalar()
    if pending:
        raise RuntimeError(
            f"{pending} disclosure records are not integrated yet: run "
            "`graphwarden ledger integrate` before downgrading"
        )
    with op.batch_alter_table("ledger_state", schema=None) as batch_op:
        batch_op.drop_column("tree_size")
    with op.batch_alter_table("disclosures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=True))
    for page in _batches(conn):
        blobs = dict(
            conn.execute(
                sa.text(
                    "SELECT id, leaf_hashes FROM disclosure_batches "
                    "WHERE first_seq >= :lo AND first_seq <= :hi"
                ),
                {"lo": page[0][1], "hi": page[-1][1]},
            ).all()
        )
        params = []
        for b_id, first, count in page:
            blob = bytes(blobs[b_id])
            for i in range(min(count, len(blob) // 32)):
                params.append({"seq": first + i, "h": blob[32 * i : 32 * i + 32]})
        if params:
            conn.execute(sa.text("UPDATE disclosures SET leaf_hash = :h WHERE seq = :seq"), params)
    with op.batch_alter_table("disclosures", schema=None) as batch_op:
        batch_op.alter_column("leaf_hash", existing_type=sa.LargeBinary(length=32), nullable=False)
    with op.batch_alter_table("disclosure_batches", schema=None) as batch_op:
        batch_op.drop_column("leaf_hashes")
