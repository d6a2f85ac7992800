"""Verify a large ledger with several processes: each recomputes one range of the log.

The log ``[0, n)`` is cut at multiples of ``2**level`` leaves (blocks small enough that each
worker gets at least 16) into one range per worker. A
worker (its own process and connection; on PostgreSQL inside the parent's exported snapshot)
recomputes and checks its range exactly as the sequential verifier does
(:func:`~graphwarden.ledger.recompute.recompute`) and returns:

* the roots of the aligned blocks of ``2**level`` leaves its range completes;
* for each head whose size falls inside its range, the frontier of the partial block up to
  that size (at most ``level`` hashes);
* for the last range, the frontier of the log's final partial block.

Because every range starts on a block boundary, the parent rebuilds the frontier at any size
``s`` as the frontier over the first ``s >> level`` block roots followed by the partial block's
frontier, and so checks every head's root. Only the good case is decided here: whenever a
worker or a check reports anything, the caller re-runs the sequential verifier, whose single
pass names the first bad record or head in log order. Tampering costs a second pass; an
intact ledger is verified in about ``1 / workers`` of the time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any

from graphwarden.core.db import create_store_engine
from graphwarden.core.errors import VerificationError
from graphwarden.ledger.merkle import MerkleFrontier
from graphwarden.ledger.recompute import CHUNK, LeafSink, recompute

#: the largest blocks: 2**20 leaves
BLOCK_LEVEL = 20
_SNAPSHOT_ID = re.compile(r"^[0-9A-Fa-f-]+$")


@dataclass(slots=True)
class RangeResult:
    """What a worker found in ``[lo, hi)``; ``error`` is a description, or ``None``."""

    lo: int
    hi: int | None
    count: int = 0
    batches: int = 0
    blocks: list[bytes] = field(default_factory=list)
    #: head size -> the frontier hashes of its partial block
    partials: dict[int, bytes] = field(default_factory=dict)
    tail: bytes = b""
    error: str | None = None


def block_level(size: int, workers: int) -> int:
    """Blocks small enough that each worker gets at least 16 of them (so the ranges are even
    to within 1/16), and at most ``2**BLOCK_LEVEL`` leaves."""
    per_block = max(2, size // (16 * max(1, workers)))
    return max(1, min(BLOCK_LEVEL, per_block.bit_length() - 1))


def split(size: int, workers: int, level: int) -> list[tuple[int, int | None]]:
    """Ranges ``(lo, hi)`` over ``[0, size)`` cut at multiples of ``2**level``, the last one
    open-ended (``hi`` ``None``: it runs to the end of whatever is stored)."""
    if level < 1:
        raise ValueError("blocks must hold at least two leaves (level >= 1)")
    block = 1 << level
    blocks = size >> level
    cuts = sorted({(blocks * i // workers) * block for i in range(1, workers)} - {0})
    bounds = [0, *cuts]
    return [(lo, hi) for lo, hi in zip(bounds, [*cuts, None], strict=True)]


def check_range(
    url: str,
    lo: int,
    hi: int | None,
    sizes: Sequence[int],
    level: int,
    chunk_size: int = CHUNK,
    snapshot: str | None = None,
) -> RangeResult:
    """Worker: recompute ``[lo, hi)`` of the ledger at ``url`` (see the module docstring)."""
    result = RangeResult(lo, hi)
    mask = (1 << level) - 1

    def reached(size: int, frontier: MerkleFrontier) -> None:
        # the partial block's subtrees are the frontier's last (lowest) entries
        partial = ((size - lo) & mask).bit_count()
        hashes = frontier.to_bytes()
        result.partials[size] = hashes[len(hashes) - 32 * partial :] if partial else b""

    engine = create_store_engine(url)
    try:
        with engine.connect() as conn:
            postgres = conn.dialect.name == "postgresql"
            if postgres:
                conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                if snapshot is not None:
                    if not _SNAPSHOT_ID.match(snapshot):
                        raise ValueError(f"malformed snapshot id {snapshot!r}")
                    conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            sink = LeafSink(sizes, reached, base=lo, capture=level)
            driver = conn.connection.driver_connection
            try:
                result.batches = recompute(driver, postgres, sink, chunk_size, lo=lo, hi=hi)
            except VerificationError as exc:
                result.error = str(exc)
            result.count = sink.frontier.size
            result.blocks = sink.blocks
            tail = sink.frontier.to_bytes()
            partial = (result.count & mask).bit_count()
            result.tail = tail[len(tail) - 32 * partial :] if partial else b""
    finally:
        engine.dispose()
    return result


@dataclass(slots=True)
class Combined:
    """The whole log as the workers saw it, if every range was sound."""

    size: int
    batches: int
    frontier: MerkleFrontier
    #: head size -> the recomputed root at that size
    roots: dict[int, bytes]


def combine(results: Sequence[RangeResult], sizes: Sequence[int], level: int) -> Combined | None:
    """Join the workers' ranges; ``None`` if any reported a problem or the ranges do not
    meet (the caller then verifies sequentially)."""
    expected = 0
    blocks: list[bytes] = []
    for r in results:
        if r.error is not None or r.lo != expected:
            return None
        if r.hi is not None and r.lo + r.count != r.hi:
            return None
        blocks.extend(r.blocks)
        expected = r.lo + r.count
    size = expected
    if len(blocks) != size >> level:
        return None
    partials: dict[int, bytes] = {}
    for r in results:
        partials.update(r.partials)
    block_frontier = MerkleFrontier()
    roots: dict[int, bytes] = {}
    for s in sizes:
        if s > size:
            break  # past the end: the caller names the head that covers missing records
        if s == 0:
            roots[s] = MerkleFrontier().root()
            continue
        if s not in partials:
            return None
        block_frontier.extend(blocks[block_frontier.size : s >> level])
        roots[s] = _join(block_frontier, s, partials[s]).root()
    block_frontier.extend(blocks[block_frontier.size :])
    return Combined(
        size, sum(r.batches for r in results), _join(block_frontier, size, results[-1].tail), roots
    )


def _join(blocks: MerkleFrontier, size: int, partial: bytes) -> MerkleFrontier:
    """The frontier at ``size``: the block roots' frontier, then the partial block's."""
    return MerkleFrontier.from_bytes(size, blocks.to_bytes() + partial)


def run(
    url: str,
    size: int,
    sizes: Sequence[int],
    workers: int,
    *,
    level: int | None = None,
    chunk_size: int = CHUNK,
    snapshot: str | None = None,
    end: int | None = None,
) -> Combined | None:
    """Check the log in ``workers`` processes; ``None`` when the good case does not hold.

    ``level``: blocks of ``2**level`` leaves (default: :func:`block_level`); ``end``: where
    the last range stops (default: at the end of whatever is stored)."""
    if level is None:
        level = block_level(size, workers)
    ranges = split(size, workers, level)
    if end is not None:
        ranges[-1] = (ranges[-1][0], end)
    jobs: list[Any] = []
    with ProcessPoolExecutor(len(ranges), mp_context=get_context("spawn")) as pool:
        for lo, hi in ranges:
            mine = [s for s in sizes if s > lo and (hi is None or s <= hi)]
            jobs.append(pool.submit(check_range, url, lo, hi, mine, level, chunk_size, snapshot))
        results = [job.result() for job in jobs]
    return combine(results, sizes, level)


__all__ = [
    "BLOCK_LEVEL",
    "Combined",
    "RangeResult",
    "block_level",
    "check_range",
    "combine",
    "run",
    "split",
]
