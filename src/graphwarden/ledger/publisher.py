"""Sign tree heads on a timer, so an idle ledger's newest records do not wait for traffic.

Appends sign a head when one is due, but only while records arrive: the records of the last
burst before a quiet spell stay unsigned until the next append. :class:`HeadPublisher` calls
:meth:`SqlDisclosureLedger.publish_head` every ``interval_s`` seconds on a daemon thread, and
once more when stopped. A failed publish is logged and retried on the next tick: the records
are already durable, only their signature waits.

    publisher = HeadPublisher(ledger, interval_s=1.0)
    publisher.start()          # at server start-up
    ...
    publisher.stop()           # at shutdown: signs a last head covering every record
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType
from typing import Protocol

from graphwarden.core.errors import LedgerWriteError
from graphwarden.ledger.signing import SignedTreeHead

log = logging.getLogger(__name__)


class HeadSource(Protocol):
    """What the publisher needs of a ledger (``SqlDisclosureLedger`` is one)."""

    def publish_head(self) -> SignedTreeHead | None: ...


class HeadPublisher:
    """Calls ``ledger.publish_head()`` every ``interval_s`` seconds until stopped."""

    def __init__(self, ledger: HeadSource, interval_s: float = 1.0) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self.ledger = ledger
        self.interval_s = interval_s
        self.published = 0
        self.failures = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def publish_once(self) -> SignedTreeHead | None:
        """One tick: sign a head if records are unsigned; log and count a failure."""
        try:
            head = self.ledger.publish_head()
        except LedgerWriteError as exc:
            self.failures += 1
            log.warning("tree head not published (retrying in %.1fs): %s", self.interval_s, exc)
            return None
        if head is not None:
            self.published += 1
        return head

    def start(self) -> None:
        """Start the timer thread (a daemon: it never keeps the process alive)."""
        if self._thread is not None:
            raise RuntimeError("the head publisher is already running")
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name="graphwarden-head-publisher", daemon=True
        )
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the thread and sign a last head covering every record appended so far."""
        thread = self._thread
        if thread is not None:
            self._stop.set()
            thread.join(timeout_s)
            self._thread = None
        self.publish_once()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.publish_once()

    def __enter__(self) -> HeadPublisher:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


__all__ = ["HeadPublisher", "HeadSource"]
