"""``graphwarden ledger``: verify, prove, check proofs offline, export, statistics, integrate.

Exit codes: 0 all is well; 1 the ledger or a proof does not verify (the message names the
first bad record or head); 2 bad input or an unusable store (one line on stderr).
"""

from __future__ import annotations

import json
import re
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from graphwarden.cli.context import fail, opened_store, print_json, print_table
from graphwarden.core.clock import SystemClock
from graphwarden.core.config import get_settings
from graphwarden.core.errors import ConfigError, VerificationError
from graphwarden.core.lifetime import die_with_parent
from graphwarden.ledger.export import export_parquet
from graphwarden.ledger.integrator import INTERVAL_S, Integrator
from graphwarden.ledger.merkle import verify_consistency, verify_inclusion
from graphwarden.ledger.queries import (
    latest_head,
    prove_consistency,
    prove_inclusion,
    stats,
    tree_size_of,
)
from graphwarden.ledger.records import Disclosure
from graphwarden.ledger.service import SqlDisclosureLedger
from graphwarden.ledger.signing import (
    KEY_FILE_NAME,
    LedgerSigner,
    SignedTreeHead,
    load_public_key,
    verify_head,
)
from graphwarden.ledger.verify import verify_ledger

app = typer.Typer(
    no_args_is_help=True,
    help="Verify, prove and export the disclosure ledger.",
    # errors print as one plain line (exit 2), not a rich panel, also when run on its own
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

#: exit code when the ledger or a proof does not verify
EXIT_INVALID = 1

PublicKeyOption = Annotated[
    str | None,
    typer.Option(
        "--public-key",
        help="The ledger's public key (PEM, or 64 hex digits), as served at "
        "/.well-known/graphwarden-ledger-key, given directly or as a file holding either; "
        "default: derived from the local signing key.",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _public_key(value: str | None) -> Ed25519PublicKey:
    """The key ``--public-key`` names: PEM text, 64 hex digits, or a file holding either;
    without the option, the local signing key's public half."""
    if value is not None:
        return _given_public_key(value)
    key_file = get_settings().data_dir / KEY_FILE_NAME
    if not key_file.exists():
        fail(f"no ledger key at {key_file}; pass --public-key")
    try:
        return LedgerSigner.load_or_create(get_settings().data_dir).public_key
    except ConfigError as exc:
        fail(str(exc))


def _given_public_key(value: str) -> Ed25519PublicKey:
    text = value.strip()
    if "-----BEGIN" in text or _HEX_KEY.fullmatch(text):
        source = "the --public-key value"
    else:
        path = Path(value).expanduser()
        try:
            text = path.read_text(encoding="ascii")
        except FileNotFoundError:
            fail(
                f"--public-key {value!r} is neither a PEM public key, 64 hex digits, "
                "nor a file that exists"
            )
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"cannot read the public key file {path}: {exc}")
        source = f"the public key file {path}"
    try:
        return load_public_key(text)
    except (ValueError, UnsupportedAlgorithm) as exc:
        reason = " ".join(str(exc).split())  # cryptography's messages span lines
        fail(f"{source} is not an Ed25519 public key (PEM or 64 hex digits): {reason}")


_HEX_KEY = re.compile(r"[0-9a-fA-F]{64}")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        fail(f"cannot read {path} as JSON: {exc}")
    if not isinstance(data, dict):
        fail(f"{path} does not hold a JSON object")
    return data


def _invalid(message: str) -> None:
    typer.echo(f"graphwarden: ledger does not verify: {message}", err=True)
    raise typer.Exit(EXIT_INVALID)


@app.command("verify")
def verify_command(
    as_json: JsonOption = False,
    public_key: PublicKeyOption = None,
    trusted_head: Annotated[
        list[Path] | None,
        typer.Option(
            "--trusted-head",
            help="A signed tree head saved earlier (JSON); the ledger must still contain it.",
        ),
    ] = None,
) -> None:
    """Recompute every record and every signed tree head with the public key alone."""
    key = _public_key(public_key)
    trusted: list[SignedTreeHead] = []
    for path in trusted_head or []:
        data = _read_json(path)
        try:
            trusted.append(SignedTreeHead.from_json(data.get("tree_head", data)))
        except ValueError as exc:
            fail(f"{path}: {exc}")
    with opened_store() as engine:
        report = verify_ledger(engine, key, trusted=trusted)
    if as_json:
        print_json(report.to_json())
    else:
        status = "OK" if report.ok else "FAILED"
        typer.echo(
            f"ledger {status}: {report.records} records in {report.batches} batches, "
            f"{report.heads} signed tree heads (newest of size {report.latest_head_size}), "
            f"root {report.root_hash.hex()}, {report.seconds:.2f} s"
        )
        for note in report.notes:
            typer.echo(f"note: {note}")
    if report.error is not None:
        _invalid(str(report.error))


@app.command("prove")
def prove_command(
    seq: Annotated[int, typer.Option("--seq", help="The record's sequence number.")],
    tree_size: Annotated[
        int | None,
        typer.Option("--tree-size", help="Prove against this signed head (default: newest)."),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the proof here.")] = None,
) -> None:
    """Print an inclusion proof (JSON) for record SEQ that `check-proof` checks offline."""
    if seq < 0:
        fail("--seq must be a non-negative integer")
    with opened_store() as engine:
        head = latest_head(engine)
        if tree_size is None and (head is None or head.tree_size <= seq):
            # the record is newer than the newest head: sign one now (we hold the key)
            try:
                signer = LedgerSigner.load_or_create(get_settings().data_dir)
            except ConfigError as exc:
                fail(str(exc))
            SqlDisclosureLedger(engine, signer, SystemClock()).publish_head()
        proof = prove_inclusion(engine, seq, tree_size)
    text = json.dumps(proof.to_json(), indent=2)
    if out is not None:
        out.write_text(text + "\n")
    typer.echo(text)


@app.command("consistency")
def consistency_command(
    first: Annotated[int, typer.Option("--first", help="The older signed head's size.")],
    second: Annotated[int, typer.Option("--second", help="The newer signed head's size.")],
) -> None:
    """Print a consistency proof (JSON) between two signed tree heads."""
    with opened_store() as engine:
        proof = prove_consistency(engine, first, second)
    print_json(proof.to_json())


@app.command("check-proof")
def check_proof_command(
    file: Annotated[Path, typer.Argument(help="A proof written by `ledger prove`.")],
    public_key: PublicKeyOption = None,
) -> None:
    """Check an inclusion or consistency proof offline, with the public key alone."""
    data = _read_json(file)
    key = _public_key(public_key)
    try:
        if data.get("format") == "graphwarden-inclusion-proof-v1":
            message = _check_inclusion(data, key)
        elif data.get("format") == "graphwarden-consistency-proof-v1":
            message = _check_consistency(data, key)
        else:
            fail(f"{file} is not a graphwarden proof (unknown format {data.get('format')!r})")
    except VerificationError as exc:
        _invalid(str(exc))
    except (KeyError, TypeError, ValueError) as exc:
        fail(f"{file} is malformed: {exc.__class__.__name__}: {exc}")
    typer.echo(message)


def _check_inclusion(data: dict[str, Any], key: Ed25519PublicKey) -> str:
    r = data["record"]
    record = Disclosure(
        seq=int(r["seq"]),
        at_us=int(r["at_us"]),
        request_id=str(r["request_id"]),
        app_id=int(r["app_id"]),
        api_version=str(r["api_version"]),
        owner_id=int(r["owner_id"]),
        subject_id=int(r["subject_id"]),
        field=str(r["field"]),
        rule_id=str(r["rule_id"]),
    )
    head = SignedTreeHead.from_json(data["tree_head"])
    verify_head(head, key)
    proof = [bytes.fromhex(h) for h in data["proof"]]
    verify_inclusion(record.seq, head.tree_size, record.leaf_hash(), proof, head.root_hash)
    return (
        f"OK: record {record.seq} (app {record.app_id}, subject {record.subject_id}, "
        f"{record.field}) is in the signed tree of size {head.tree_size}"
    )


def _check_consistency(data: dict[str, Any], key: Ed25519PublicKey) -> str:
    first = SignedTreeHead.from_json(data["first"])
    second = SignedTreeHead.from_json(data["second"])
    verify_head(first, key)
    verify_head(second, key)
    proof = [bytes.fromhex(h) for h in data["proof"]]
    verify_consistency(first.tree_size, second.tree_size, first.root_hash, second.root_hash, proof)
    return (
        f"OK: the tree of size {first.tree_size} is a prefix of the tree of size {second.tree_size}"
    )


@app.command("export")
def export_command(
    out: Annotated[Path, typer.Option("--out", help="Directory to write `disclosures/` into.")],
    as_json: JsonOption = False,
) -> None:
    """Write the ledger as Parquet partitioned by day, atomically."""
    with opened_store() as engine:
        try:
            result = export_parquet(engine, out)
        except OSError as exc:
            fail(f"cannot write the export to {out}: {exc}")
    if as_json:
        print_json(result.to_json())
        return
    print_table(
        [{"day": day, "rows": n} for day, n in result.rows_by_day.items()],
        ["day", "rows"],
        title=f"{result.rows} records exported to {result.path}",
    )


@app.command("integrate")
def integrate_command(
    follow: Annotated[
        bool,
        typer.Option(
            "--follow",
            help="Keep integrating every --interval seconds until SIGTERM or SIGINT (what "
            "`graphwarden serve` runs beside its workers).",
        ),
    ] = False,
    interval: Annotated[
        float, typer.Option("--interval", help="Seconds between passes with --follow.")
    ] = INTERVAL_S,
    parent_pid: Annotated[
        int | None,
        typer.Option("--parent-pid", hidden=True, help="Stop when this process is gone."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Hash the records written since the tree's size into the Merkle tree and sign a head:
    the integrator of a ledger whose appends only write (GRAPHWARDEN_LEDGER_INTEGRATION)."""
    if not 0.01 <= interval <= 60:
        fail(f"--interval must be between 0.01 and 60 seconds, got {interval}")
    with opened_store() as engine:
        try:
            signer = LedgerSigner.load_or_create(get_settings().data_dir)
        except ConfigError as exc:
            fail(str(exc))
        ledger = SqlDisclosureLedger(engine, signer, SystemClock(), integration="deferred")
        integrator = Integrator(ledger, interval_s=interval)
        if follow:
            # the loop runs on a thread: a signal handler must never set an Event the same
            # thread may be waiting on (Event.wait holds its lock for a moment: a deadlock)
            stop = threading.Event()
            worker = threading.Thread(
                target=integrator.run, args=(stop,), kwargs={"parent_pid": parent_pid}
            )
            for number in (signal.SIGTERM, signal.SIGINT):
                signal.signal(number, lambda *_: stop.set())
            if parent_pid is not None:  # the server that started it: stop when it dies
                die_with_parent(parent_pid, signal.SIGTERM)
            worker.start()
            while worker.is_alive():
                worker.join(0.5)
        else:
            integrator.run_once()
            ledger.publish_head()
        written, integrated = tree_size_of(engine)
        head = latest_head(engine)
    figures = {
        "integrated_now": integrator.stats.records,
        "records": written,
        "tree_size": integrated,
        "latest_head_size": 0 if head is None else head.tree_size,
        "failed_passes": integrator.stats.failures,
    }
    if as_json:
        print_json(figures)
        return
    print_table(
        [{"figure": k, "value": v} for k, v in figures.items()],
        ["figure", "value"],
        title="ledger integration",
    )


@app.command("stats")
def stats_command(as_json: JsonOption = False) -> None:
    """Counts of records, batches, signed heads, apps and subjects."""
    with opened_store() as engine:
        figures = stats(engine).to_json()
    if as_json:
        print_json(figures)
        return
    for name in ("latest_head_at_us", "first_at_us", "last_at_us"):
        value = figures.get(name)
        if isinstance(value, int):
            figures[name.removesuffix("_us")] = datetime.fromtimestamp(
                value / 1_000_000, UTC
            ).isoformat()
            del figures[name]
    print_table(
        [{"figure": k, "value": v} for k, v in figures.items()], ["figure", "value"], title="ledger"
    )


__all__ = ["app"]
