"""Batches and ledgers for the ledger tests."""

from __future__ import annotations

from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from graphwarden.core.clock import ManualClock
from graphwarden.core.db import create_store_engine
from graphwarden.core.types import ApiVersion, AppId, PersonId
from graphwarden.ledger.interfaces import DisclosureBatch, DisclosureItem
from graphwarden.ledger.service import SqlDisclosureLedger
from graphwarden.ledger.signing import LedgerSigner

FIELDS = ("id", "name", "birthday", "hometown", "location")
#: a fixed key, so worker processes sign with the same key as the test that checks them
SIGNER = LedgerSigner(Ed25519PrivateKey.from_private_bytes(bytes(range(32))))


def make_batch(
    n: int,
    *,
    request_id: str = "req-1",
    app_id: int = 7,
    owner_id: int = 1,
    at: datetime | None = None,
    api_version: ApiVersion = "v1.0",
    first_subject: int = 1000,
) -> DisclosureBatch:
    """``n`` records: subjects of ``len(FIELDS)`` fields each, as a friends page produces."""
    items = [
        DisclosureItem(
            subject_id=PersonId(first_subject + i // len(FIELDS)),
            field=FIELDS[i % len(FIELDS)],
            rule_id=f"{api_version}/friend-field",
        )
        for i in range(n)
    ]
    return DisclosureBatch(
        request_id=request_id,
        at=at or ManualClock().now(),
        app_id=AppId(app_id),
        api_version=api_version,
        owner_id=PersonId(owner_id),
        items=items,
    )


def make_ledger(
    engine: Engine, clock: ManualClock | None = None, **kwargs: float
) -> SqlDisclosureLedger:
    return SqlDisclosureLedger(engine, SIGNER, clock or ManualClock(), **kwargs)  # type: ignore[arg-type]


def append_many(
    ledger_engine: Engine, worker: int, rounds: int, errors: list[BaseException]
) -> None:
    try:
        ledger = make_ledger(ledger_engine)
        for i in range(rounds):
            ledger.append(make_batch(50, request_id=f"w{worker}-{i}", owner_id=worker + 1))
    except BaseException as exc:  # reported to the test thread
        errors.append(exc)


def process_worker(url: str, worker: int) -> None:
    engine = create_store_engine(url)
    errors: list[BaseException] = []
    append_many(engine, worker, 10, errors)
    engine.dispose()
    if errors:
        raise SystemExit(f"worker {worker}: {errors[0]!r}")
