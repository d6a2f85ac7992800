"""The disclosure ledger over HTTP: its public key, the newest signed tree head, and proofs.

``GET /.well-known/graphwarden-ledger-key``    the Ed25519 public key (PEM and raw hex)
``GET /ledger/tree-head``                      the newest signed tree head
``GET /ledger/proof/inclusion?seq=N[&tree_size=S]``   inclusion proof of record N
``GET /ledger/proof/consistency?first=A&second=B``    consistency proof between two heads

Everything here is public by design: a proof reveals one record to whoever already names it
by seq, and auditors need the key and heads without credentials. Errors are Graph API error
objects (bad numbers → 400, unknown record or head → 404).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request

from graphwarden.api.openapi import graph_errors
from graphwarden.core.errors import InvalidInput, NotFound
from graphwarden.ledger.publisher import HeadPublisher
from graphwarden.ledger.queries import latest_head, prove_consistency, prove_inclusion
from graphwarden.ledger.signing import LedgerSigner


@contextlib.asynccontextmanager
async def head_publisher(app: FastAPI) -> AsyncIterator[None]:
    """Sign a tree head each second of activity while the server runs, and a last one at
    shutdown, so the newest records never wait for the next request to be covered."""
    ledger = getattr(app.state, "ledger", None)
    if (
        ledger is None
        or not hasattr(ledger, "publish_head")
        or getattr(ledger, "integration", "inline") == "deferred"  # its integrator signs
    ):
        yield
        return
    publisher = HeadPublisher(ledger, interval_s=1.0)
    publisher.start()
    try:
        yield
    finally:
        publisher.stop()


router = APIRouter(tags=["ledger"], lifespan=head_publisher)


def _signer(request: Request) -> LedgerSigner:
    ledger = getattr(request.app.state, "ledger", None)
    signer = getattr(ledger, "signer", None)
    if isinstance(signer, LedgerSigner):
        return signer
    # a deferred ledger's workers do not sign: the key the integrator signs with, read once
    loaded = getattr(request.app.state, "ledger_key", None)
    if not isinstance(loaded, LedgerSigner):
        loaded = LedgerSigner.load_or_create(request.app.state.settings.data_dir)
        request.app.state.ledger_key = loaded
    return loaded


def _number(name: str, value: str | None, *, required: bool = True) -> int | None:
    if value is None or value == "":
        if required:
            raise InvalidInput(f"(#100) The parameter {name} is required")
        return None
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(f"(#100) {name} must be a non-negative integer") from None
    if number < 0:
        raise InvalidInput(f"(#100) {name} must be a non-negative integer")
    return number


@router.get("/.well-known/graphwarden-ledger-key", responses=graph_errors(503))
def ledger_key(request: Request) -> dict[str, Any]:
    """The key that signs tree heads: verify with this and nothing else."""
    signer = _signer(request)
    return {
        "algorithm": "Ed25519",
        "key_id": signer.key_id,
        "public_key_hex": signer.public_key_hex(),
        "public_key_pem": signer.public_key_pem(),
        "signed_message": "b'graphwarden-sth-v1\\x00' || u64 tree_size || i64 timestamp_us "
        "|| root_hash",
    }


@router.get("/ledger/tree-head", responses=graph_errors(404, 503))
def tree_head(request: Request) -> dict[str, Any]:
    """The newest signed tree head."""
    head = latest_head(request.app.state.engine)
    if head is None:
        raise NotFound("the ledger has no signed tree head yet")
    return head.to_json()


@router.get("/ledger/proof/inclusion", responses=graph_errors(400, 404, 503))
def inclusion(
    request: Request,
    seq: Annotated[str, Query(description="The record's sequence number")],
    tree_size: Annotated[str | None, Query(description="A signed head's size")] = None,
) -> dict[str, Any]:
    """The inclusion proof of record ``seq`` (as ``graphwarden ledger prove`` prints it)."""
    number = _number("seq", seq)
    size = _number("tree_size", tree_size, required=False)
    assert number is not None
    return prove_inclusion(request.app.state.engine, number, size).to_json()


@router.get("/ledger/proof/consistency", responses=graph_errors(400, 404, 503))
def consistency(
    request: Request,
    first: Annotated[str, Query(description="The older signed head's size")],
    second: Annotated[str, Query(description="The newer signed head's size")],
) -> dict[str, Any]:
    """The consistency proof between the signed heads of sizes ``first`` and ``second``."""
    a = _number("first", first)
    b = _number("second", second)
    assert a is not None
    assert b is not None
    return prove_consistency(request.app.state.engine, a, b).to_json()


__all__ = ["router"]
