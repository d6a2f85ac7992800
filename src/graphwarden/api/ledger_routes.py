"""The disclosure ledger over HTTP: its public key, the newest signed tree head, and proofs.

``GET /.well-known/graphwarden-ledger-key``    the Ed25519 public key (PEM and raw hex)
``GET /ledger/tree-head``                      the newest signed tree head
``GET /ledger/proof/inclusion?seq=N[&tree_size=S]``   inclusion proof of record N
``GET /ledger/proof/consistency?first=A&second=B``    consistency proof between two heads

The key, tree heads and consistency proofs are public: auditors need them without
credentials, and they say how many records exist, never what one says. A record and its
inclusion proof are private (ARCHITECTURE invariant 9): they are served only to

* the person the record names as subject or token owner, signed in (the pages' session cookie);
* a platform admin, signed in on the same cookie;
* the app the record went to, by one of its valid access tokens (``access_token`` or
  ``Authorization: Bearer``), in its own id space: from v2.0 on the owner and subject are the
  app-scoped ids the app was given, and the leaf hash and audit path are withheld, since the
  leaf commits to platform ids and an app that knows the rest of its own record could recover
  them by hashing candidates.

To anyone else (no credential, another app, another person, a malformed, expired or revoked
credential) a record does not exist: the answer is byte for byte the one for a seq that was
never written (404, error 803), apart from the request id. Errors are Graph API error objects
(a malformed number → 400, for everyone alike).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header, Query, Request

from graphwarden.api.access import pick_token
from graphwarden.api.middleware import request_id_of
from graphwarden.api.openapi import graph_errors
from graphwarden.consent.interfaces import ConsentService
from graphwarden.consent.sessions import session_account
from graphwarden.core.errors import AuthError, InvalidInput, NotFound, PermissionDenied
from graphwarden.core.types import AppId, PersonId
from graphwarden.ledger.publisher import HeadPublisher
from graphwarden.ledger.queries import (
    get_disclosure,
    latest_head,
    prove_consistency,
    prove_inclusion,
)
from graphwarden.ledger.records import Disclosure
from graphwarden.ledger.signing import LedgerSigner

#: the one answer for a record that does not exist or that the caller may not see
_NO_RECORD = "no such disclosure record"


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


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who asks for a record: a signed-in person, a signed-in admin, an app by its token."""

    person: PersonId | None = None
    admin: bool = False
    app: AppId | None = None


def viewer_of(request: Request, access_token: str | None, authorization: str | None) -> Viewer:
    """The credentials of a request that count for the ledger; anything malformed, expired
    or revoked counts as no credential at all (it must not answer differently)."""
    engine = request.app.state.engine
    person: PersonId | None = None
    admin = False
    session = request.scope.get("session")  # present where the pages' sessions are installed
    if isinstance(session, Mapping):
        found = session_account(engine, session, "person")
        person = None if found is None else PersonId(found)
        admin = session_account(engine, session, "admin") is not None
    app: AppId | None = None
    reader = getattr(request.app.state, "reader", None)
    if reader is not None and (access_token or authorization):
        try:
            token = pick_token(access_token, authorization)
            caller = reader.authenticate(token, "v1.0", request_id_of(request.scope))
        except (AuthError, InvalidInput, NotFound, PermissionDenied):
            pass
        else:
            app = caller.token.app.id
    return Viewer(person=person, admin=admin, app=app)


def may_see(viewer: Viewer, record: Disclosure) -> bool:
    """Whether ``viewer`` is entitled to ``record``: an admin, the person it names as
    subject or owner, or the app it went to."""
    return (
        viewer.admin
        or _named(viewer, record)
        or (viewer.app is not None and int(viewer.app) == record.app_id)
    )


def _named(viewer: Viewer, record: Disclosure) -> bool:
    """The viewer is a person the record names (its subject or its token owner)."""
    return viewer.person is not None and int(viewer.person) in (
        record.owner_id,
        record.subject_id,
    )


def _as_app_sees_it(
    consent: ConsentService, proof: dict[str, Any], record: Disclosure
) -> dict[str, Any]:
    """The proof document in the app's id space: platform ids only under v1.0."""
    if record.api_version == "v1.0":
        return proof
    owner, subject = PersonId(record.owner_id), PersonId(record.subject_id)
    ids = consent.scoped_ids(AppId(record.app_id), [owner, subject])
    return {
        "format": "graphwarden-app-record-v1",
        "record": {**proof["record"], "owner_id": ids[owner], "subject_id": ids[subject]},
        "leaf_index": proof["leaf_index"],
        "tree_head": proof["tree_head"],
        "proof_withheld": "the leaf hash commits to platform ids; the person named in the "
        "record, or a platform admin, can obtain the inclusion proof",
    }


AccessTokenQuery = Annotated[
    str | None, Query(description="An access token of the app the record went to")
]
AuthorizationHeader = Annotated[
    str | None, Header(description="`Bearer <access token>` of the app the record went to")
]


@router.get(
    "/ledger/proof/inclusion",
    responses=graph_errors(400, 404, 503),
)
def inclusion(
    request: Request,
    seq: Annotated[str, Query(description="The record's sequence number")],
    tree_size: Annotated[str | None, Query(description="A signed head's size")] = None,
    access_token: AccessTokenQuery = None,
    authorization: AuthorizationHeader = None,
) -> dict[str, Any]:
    """Record ``seq`` and its inclusion proof (as ``graphwarden ledger prove`` prints it),
    for the people it names, the app it went to and platform admins only."""
    number = _number("seq", seq)
    size = _number("tree_size", tree_size, required=False)
    assert number is not None
    viewer = viewer_of(request, access_token, authorization)
    engine = request.app.state.engine
    try:
        with engine.connect() as conn:
            record = get_disclosure(conn, number)
    except NotFound:
        raise NotFound(_NO_RECORD) from None
    if not may_see(viewer, record):
        raise NotFound(_NO_RECORD)
    proof = prove_inclusion(engine, number, size).to_json()
    if viewer.admin or _named(viewer, record):
        return proof
    return _as_app_sees_it(request.app.state.consent, proof, record)


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
