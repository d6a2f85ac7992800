"""The regulator's export of an incident: who was affected, as CSV and JSON, signed with the
ledger's key and carrying the signed tree head it was computed at.

Layout of an export directory::

    affected.csv      person_id, country, consenting, fields, first_at, last_at, via, records
    affected.json     the same rows as a JSON array
    manifest.json     incident, app, the signed tree head, row count, SHA-256 of both files
    manifest.sig      hex Ed25519 signature (ledger key, domain ``graphwarden-export-v1``)
                      over the SHA-256 of manifest.json's bytes

:func:`verify_export` checks the signature, both files' digests and the tree head's own
signature with the ledger's public key; with the log at hand (``recompute``) it also computes
the affected list again from the records ``seq < tree_size`` and requires the same rows, and
the tree head to be one the log signed.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from graphwarden.analytics.blast import AffectedPerson
from graphwarden.core.errors import InvalidInput, NotFound, VerificationError
from graphwarden.ledger.signing import (
    LedgerSigner,
    SignedTreeHead,
    key_id,
    verify_head,
)
from graphwarden.ledger.signing import (
    verify_export as verify_signature,
)

FILES = ("affected.csv", "affected.json", "manifest.json", "manifest.sig")
COLUMNS = ("person_id", "country", "consenting", "fields", "first_at", "last_at", "via", "records")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _iso(micros: int) -> str:
    return (_EPOCH + timedelta(microseconds=int(micros))).isoformat()


def rows_of(affected: Sequence[AffectedPerson]) -> list[dict[str, Any]]:
    """The export's rows (the JSON file's objects; the CSV joins lists with ``;``)."""
    return [
        {
            "person_id": p.person_id,
            "country": p.country,
            "consenting": p.consenting,
            "fields": list(p.fields),
            "first_at": _iso(p.first_at_us),
            "last_at": _iso(p.last_at_us),
            "via": list(p.via),
            "records": p.records,
        }
        for p in affected
    ]


def _csv_bytes(rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow(
            [
                r["person_id"], r["country"], "yes" if r["consenting"] else "no",
                ";".join(r["fields"]), r["first_at"], r["last_at"],
                ";".join(str(v) for v in r["via"]), r["records"],
            ]
        )  # fmt: skip
    return buffer.getvalue().encode("utf-8")


def _json_bytes(rows: list[dict[str, Any]]) -> bytes:
    return (json.dumps(rows, sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8")


def write_export(
    out: Path,
    *,
    incident_id: int,
    app_id: int,
    app_name: str,
    head: SignedTreeHead,
    affected: Sequence[AffectedPerson],
    signer: LedgerSigner,
    created_at: datetime,
) -> Path:
    """Write the signed export of ``affected`` to ``out`` (a new or empty directory); files
    are written under temporary names and renamed at the end."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise InvalidInput(f"{out} exists and is not empty")
    out.mkdir(parents=True, exist_ok=True)
    rows = rows_of(affected)
    csv_bytes, json_bytes = _csv_bytes(rows), _json_bytes(rows)
    manifest = {
        "format": "graphwarden-incident-export-v1",
        "incident_id": incident_id,
        "app_id": app_id,
        "app_name": app_name,
        "tree_head": head.to_json(),
        "key_id": signer.key_id,
        "rows": len(rows),
        "non_consenting": sum(1 for r in rows if not r["consenting"]),
        "files": {
            "affected.csv": sha256(csv_bytes).hexdigest(),
            "affected.json": sha256(json_bytes).hexdigest(),
        },
        "created_at": created_at.isoformat(),
    }
    manifest_bytes = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8")
    signature = signer.sign_export(sha256(manifest_bytes).digest())
    contents = {
        "affected.csv": csv_bytes,
        "affected.json": json_bytes,
        "manifest.json": manifest_bytes,
        "manifest.sig": (signature.hex() + "\n").encode("ascii"),
    }
    for name, data in contents.items():
        (out / f".{name}.tmp").write_bytes(data)
    for name in contents:
        (out / f".{name}.tmp").replace(out / name)
    return out


def verify_export(
    folder: Path,
    public_key: Ed25519PublicKey,
    *,
    recompute: Callable[[int, int], Sequence[AffectedPerson]] | None = None,
    signed_head: Callable[[int], SignedTreeHead] | None = None,
) -> dict[str, Any]:
    """Check an export; returns its manifest, or raises ``VerificationError`` naming what
    does not hold.

    ``recompute(app_id, tree_size)``: the affected people from the log itself;
    ``signed_head(tree_size)``: the log's own signed head of that size.
    """
    folder = Path(folder)
    missing = [n for n in FILES if not (folder / n).is_file()]
    if missing:
        raise VerificationError(f"the export lacks {', '.join(missing)}")
    manifest_bytes = (folder / "manifest.json").read_bytes()
    try:
        signature = bytes.fromhex((folder / "manifest.sig").read_text().strip())
        manifest = json.loads(manifest_bytes)
        head = SignedTreeHead.from_json(manifest["tree_head"])
    except (ValueError, KeyError, TypeError) as exc:
        raise VerificationError(f"the export's manifest is malformed: {exc}") from None
    if manifest.get("key_id") != key_id(public_key):
        raise VerificationError("the export names another key than the ledger's")
    verify_signature(sha256(manifest_bytes).digest(), signature, public_key)
    for name, digest in manifest.get("files", {}).items():
        if sha256((folder / name).read_bytes()).hexdigest() != digest:
            raise VerificationError(f"{name} does not match the signed manifest")
    verify_head(head, public_key)
    rows = json.loads((folder / "affected.json").read_bytes())
    if (
        len(rows) != manifest.get("rows")
        or _csv_bytes(rows) != (folder / "affected.csv").read_bytes()
    ):
        raise VerificationError("affected.csv and affected.json do not hold the same rows")
    if signed_head is not None:
        try:
            logged = signed_head(head.tree_size)
        except NotFound:
            raise VerificationError(
                f"the log holds no signed head of size {head.tree_size}"
            ) from None
        if logged.root_hash != head.root_hash:
            raise VerificationError(
                f"the log's signed head of size {head.tree_size} has another root"
            )
    if recompute is not None:
        again = rows_of(recompute(int(manifest["app_id"]), head.tree_size))
        if _json_bytes(again) != (folder / "affected.json").read_bytes():
            raise VerificationError(
                f"the log's records below {head.tree_size} give another list of the affected"
            )
    return dict(manifest)


__all__ = ["COLUMNS", "FILES", "rows_of", "verify_export", "write_export"]
