"""The integrator: builds the Merkle tree and signs the heads behind a deferred ledger.

With ``SqlDisclosureLedger(..., integration="deferred")`` the Graph API's workers only make
records durable; one integrator process runs :meth:`Integrator.run`, which every
``interval_s`` seconds hashes whatever was written since its last pass
(:meth:`SqlDisclosureLedger.integrate`), extends the tree, and signs a head when one is due
(each second of activity, every 10,000 records, and once after a burst ends). It is the only
process that needs the signing key. ``graphwarden serve`` starts it beside the API workers
(``graphwarden ledger integrate --follow`` runs it on its own); it is stopped with SIGTERM or
SIGINT and signs a last head on the way out. Two integrators never corrupt the tree (each
pass checks, under the ledger's write lock, that the tree has not moved since it read), they
only waste work.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from graphwarden.core.errors import LedgerWriteError
from graphwarden.ledger.service import INTEGRATE_LIMIT, SqlDisclosureLedger

log = logging.getLogger(__name__)

#: seconds between passes: records wait about this long for their leaf hashes
INTERVAL_S = 0.2


@dataclass(slots=True)
class IntegratorStats:
    passes: int = 0
    records: int = 0
    failures: int = 0


class Integrator:
    """Integrates ``ledger``'s pending records every ``interval_s`` seconds until stopped."""

    def __init__(self, ledger: SqlDisclosureLedger, interval_s: float = INTERVAL_S) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        if ledger.integration != "deferred":
            raise ValueError("only a deferred ledger needs an integrator")
        if ledger.signer is None:
            raise ValueError("the integrator signs heads: its ledger needs the signing key")
        self.ledger = ledger
        self.interval_s = interval_s
        self.stats = IntegratorStats()

    def run_once(self) -> int:
        """One pass: integrate everything pending; after a burst, sign its last records.
        Returns the number of records integrated."""
        done = 0
        while True:
            n = self.ledger.integrate()
            done += n
            if n < INTEGRATE_LIMIT:
                break
        if done == 0 and self._unsigned():
            self.ledger.publish_head()
        self.stats.passes += 1
        self.stats.records += done
        return done

    def run(self, stop: threading.Event, *, parent_pid: int | None = None) -> IntegratorStats:
        """Pass every ``interval_s`` seconds until ``stop`` is set (or, with ``parent_pid``,
        until that process, the server that started it, is gone); then sign a last head. A
        failed pass is logged and retried on the next one: the records are durable already,
        only their tree waits."""
        while not stop.is_set():
            started = time.monotonic()
            try:
                self.run_once()
            except LedgerWriteError as exc:
                self.stats.failures += 1
                log.warning("ledger integration failed, retrying: %s", exc)
            if parent_pid is not None and not _alive(parent_pid):
                log.warning("the server that started the integrator is gone: stopping")
                break
            stop.wait(max(0.0, self.interval_s - (time.monotonic() - started)))
        try:
            self.ledger.publish_head()
        except LedgerWriteError as exc:
            log.warning("the last tree head could not be signed: %s", exc)
        return self.stats

    def _unsigned(self) -> bool:
        """Whether integrated records wait for a head (one read, no lock)."""
        try:
            with self.ledger.engine.connect() as conn:
                row = conn.execute(
                    text("SELECT tree_size, last_head_size FROM ledger_state WHERE id = 1")
                ).first()
        except SQLAlchemyError as exc:
            raise LedgerWriteError(f"cannot read the ledger state: {exc}") from exc
        return row is not None and int(row[0]) > int(row[1])


def _alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (its child: not yet reparented away from it)."""
    if os.getppid() == pid:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie still answers kill(0): read its state where /proc exists
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


__all__ = ["INTERVAL_S", "Integrator", "IntegratorStats"]
