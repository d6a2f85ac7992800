"""Signed tree heads: Ed25519 signatures over (tree size, time, root).

The signed message is, byte for byte::

    b"graphwarden-sth-v1\\x00"     19 bytes, a domain separator
    u64   tree_size               big-endian
    i64   timestamp_us            big-endian, microseconds since the Unix epoch
    32    root_hash               RFC 9162 MTH of the first ``tree_size`` records

The key id is the lowercase hex SHA-256 of the raw 32-byte public key. The private key is a
PKCS#8 PEM file created on first use with mode 0600; verification needs the public key only.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from graphwarden.core.errors import ConfigError, VerificationError

KEY_FILE_NAME = "ledger-signing-key.pem"
STH_DOMAIN = b"graphwarden-sth-v1\x00"
#: domain of an export's signature (a regulator's list): never mistaken for a tree head
EXPORT_DOMAIN = b"graphwarden-export-v1\x00"


@dataclass(frozen=True, slots=True)
class SignedTreeHead:
    """The ledger's signed statement that its first ``tree_size`` records hash to ``root_hash``."""

    tree_size: int
    root_hash: bytes
    timestamp_us: int
    signature: bytes
    key_id: str

    def message(self) -> bytes:
        return sth_message(self.tree_size, self.timestamp_us, self.root_hash)

    def to_json(self) -> dict[str, object]:
        return {
            "tree_size": self.tree_size,
            "root_hash": self.root_hash.hex(),
            "timestamp_us": self.timestamp_us,
            "signature": self.signature.hex(),
            "key_id": self.key_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> SignedTreeHead:
        """Parse :meth:`to_json` output; ``ValueError`` on anything malformed."""
        try:
            return cls(
                tree_size=_int(data["tree_size"]),
                root_hash=bytes.fromhex(str(data["root_hash"])),
                timestamp_us=_int(data["timestamp_us"]),
                signature=bytes.fromhex(str(data["signature"])),
                key_id=str(data["key_id"]),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed signed tree head: {exc}") from exc


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected an integer, got {value!r}")
    return value


def sth_message(tree_size: int, timestamp_us: int, root_hash: bytes) -> bytes:
    """The bytes a tree head signature covers (see the module docstring)."""
    return (
        STH_DOMAIN
        + tree_size.to_bytes(8, "big")
        + timestamp_us.to_bytes(8, "big", signed=True)
        + root_hash
    )


def key_id(public_key: Ed25519PublicKey) -> str:
    """Lowercase hex SHA-256 of the raw public key."""
    return sha256(raw_public_key(public_key)).hexdigest()


def raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_public_key(data: bytes | str) -> Ed25519PublicKey:
    """A public key from PEM or from 64 hex digits of the raw key; ``ValueError`` otherwise."""
    text = data.decode("ascii", "replace") if isinstance(data, bytes) else data
    text = text.strip()
    if "BEGIN PUBLIC KEY" in text:
        key = serialization.load_pem_public_key(text.encode("ascii"))
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the public key is not an Ed25519 key")
        return key
    raw = bytes.fromhex(text)
    if len(raw) != 32:
        raise ValueError("a raw Ed25519 public key is 32 bytes (64 hex digits)")
    return Ed25519PublicKey.from_public_bytes(raw)


def verify_head(head: SignedTreeHead, public_key: Ed25519PublicKey) -> None:
    """Raise ``VerificationError`` unless ``head`` is signed by ``public_key``."""
    if head.key_id != key_id(public_key):
        raise VerificationError(
            f"tree head of size {head.tree_size} names key {head.key_id[:16]}…, "
            "not the ledger's key",
            head=head.tree_size,
        )
    if len(head.root_hash) != 32:
        raise VerificationError(
            f"tree head of size {head.tree_size} has a malformed root", head=head.tree_size
        )
    try:
        public_key.verify(head.signature, head.message())
    except InvalidSignature:
        raise VerificationError(
            f"tree head of size {head.tree_size} has a bad signature", head=head.tree_size
        ) from None


def verify_export(digest: bytes, signature: bytes, public_key: Ed25519PublicKey) -> None:
    """Raise ``VerificationError`` unless ``signature`` signs the export manifest ``digest``."""
    try:
        public_key.verify(signature, EXPORT_DOMAIN + digest)
    except InvalidSignature:
        raise VerificationError("the export's signature does not verify") from None


class LedgerSigner:
    """Holds the ledger's Ed25519 key and signs tree heads with it."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key = private_key.public_key()
        self.key_id = key_id(self.public_key)

    @classmethod
    def generate(cls) -> LedgerSigner:
        """A signer with a fresh key held only in memory (tests, simulations)."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load_or_create(cls, data_dir: Path) -> LedgerSigner:
        """The key at ``data_dir/ledger-signing-key.pem``, created (mode 0600) if absent.

        Refuses a key file that group or others may read, as ssh does: a readable signing
        key lets anyone forge tree heads.
        """
        path = Path(data_dir) / KEY_FILE_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        if path.exists():
            return cls(_load_private_key(path))
        # write a complete file under a private name, then link it into place: link fails if
        # another process got there first, and no reader ever sees a half-written key
        tmp = path.with_name(f".{KEY_FILE_NAME}.{os.getpid()}.{os.urandom(4).hex()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                return cls(_load_private_key(path))
        finally:
            tmp.unlink(missing_ok=True)
        return cls(key)

    def sign(self, tree_size: int, root_hash: bytes, timestamp_us: int) -> SignedTreeHead:
        signature = self._key.sign(sth_message(tree_size, timestamp_us, root_hash))
        return SignedTreeHead(tree_size, root_hash, timestamp_us, signature, self.key_id)

    def sign_export(self, digest: bytes) -> bytes:
        """Sign the SHA-256 ``digest`` of an export's manifest (see :data:`EXPORT_DOMAIN`)."""
        return self._key.sign(EXPORT_DOMAIN + digest)

    def public_key_pem(self) -> str:
        return public_key_pem(self.public_key)

    def public_key_hex(self) -> str:
        return raw_public_key(self.public_key).hex()


def _load_private_key(path: Path) -> Ed25519PrivateKey:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"ledger signing key {path} is accessible to others (mode {mode & 0o777:o}); "
            "run `chmod 600` on it"
        )
    data = path.read_bytes()
    if not data:
        raise ConfigError(f"ledger signing key {path} is empty (a start-up was interrupted?)")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except ValueError as exc:
        raise ConfigError(f"ledger signing key {path} is not a PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"ledger signing key {path} is not an Ed25519 key")
    return key


__all__ = [
    "EXPORT_DOMAIN",
    "KEY_FILE_NAME",
    "LedgerSigner",
    "SignedTreeHead",
    "key_id",
    "load_public_key",
    "public_key_pem",
    "raw_public_key",
    "sth_message",
    "verify_export",
    "verify_head",
]
