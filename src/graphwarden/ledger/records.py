"""The disclosure record and its canonical byte encoding (format 1).

A record's leaf input is the concatenation, in this order, of::

    u8    format            always 0x01
    u64   seq               big-endian, the record's 0-based position (= Merkle leaf index)
    i64   at_us             big-endian two's complement, microseconds since 1970-01-01T00:00Z
    str   request_id
    i64   app_id
    str   api_version       "v1.0", "v2.0" or "v3.0"
    i64   owner_id          the person whose consent (token) was used
    i64   subject_id        the person whose field left
    str   field
    str   rule_id           the policy rule that allowed it

where ``str`` is a big-endian u16 byte length followed by that many bytes of UTF-8. Every
element has a fixed width or a length prefix, so two different records never share an
encoding. The leaf hash is ``SHA-256(0x00 || encoding)`` (RFC 9162 §2.1.1).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from itertools import repeat
from operator import add

from graphwarden.core.errors import LedgerWriteError

FORMAT = 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1
#: column widths in ``ledger.models``; a longer value cannot be stored and so is refused
MAX_LENGTHS = {"request_id": 128, "api_version": 8, "field": 64, "rule_id": 128}


@dataclass(frozen=True, slots=True)
class Disclosure:
    """One field value of one subject that left the platform, as the ledger records it."""

    seq: int
    at_us: int
    request_id: str
    app_id: int
    api_version: str
    owner_id: int
    subject_id: int
    field: str
    rule_id: str

    @property
    def at(self) -> datetime:
        return from_micros(self.at_us)

    def encode(self) -> bytes:
        """The canonical encoding (format 1)."""
        return encode_record(
            self.seq,
            self.at_us,
            self.request_id,
            self.app_id,
            self.api_version,
            self.owner_id,
            self.subject_id,
            self.field,
            self.rule_id,
        )

    def leaf_hash(self) -> bytes:
        return sha256(b"\x00" + self.encode()).digest()


def to_micros(when: datetime) -> int:
    """Microseconds since the Unix epoch; a naive datetime is taken as UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - _EPOCH) // _US


def from_micros(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def encode_str(value: str) -> bytes:
    """A big-endian u16 length and the UTF-8 bytes."""
    data = value.encode("utf-8")
    return len(data).to_bytes(2, "big") + data


def _i64(value: int) -> bytes:
    return value.to_bytes(8, "big", signed=True)


def batch_part(at_us: int, request_id: str, app_id: int, api_version: str, owner_id: int) -> bytes:
    """The bytes every record of one batch shares, between ``seq`` and ``subject_id``."""
    return (
        _i64(at_us)
        + encode_str(request_id)
        + _i64(app_id)
        + encode_str(api_version)
        + _i64(owner_id)
    )


def item_part(field: str, rule_id: str) -> bytes:
    """The bytes after ``subject_id``."""
    return encode_str(field) + encode_str(rule_id)


def encode_record(
    seq: int,
    at_us: int,
    request_id: str,
    app_id: int,
    api_version: str,
    owner_id: int,
    subject_id: int,
    field: str,
    rule_id: str,
) -> bytes:
    """The canonical encoding of one record (see the module docstring)."""
    return (
        bytes((FORMAT,))
        + seq.to_bytes(8, "big")
        + batch_part(at_us, request_id, app_id, api_version, owner_id)
        + _i64(subject_id)
        + item_part(field, rule_id)
    )


class LeafEncoder:
    """Leaf hashes for many records at speed: shared bytes are encoded once per batch and
    once per distinct (field, rule) pair. ``verify`` and ``append`` both use it, and a test
    checks it against :func:`encode_record` byte for byte."""

    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: dict[tuple[str, str], bytes] = {}

    def item(self, field: str, rule_id: str) -> bytes:
        key = (field, rule_id)
        part = self._items.get(key)
        if part is None:
            part = item_part(field, rule_id)
            if len(self._items) < 100_000:  # bounded: (field, rule) pairs are few in practice
                self._items[key] = part
        return part

    @staticmethod
    def prefix(seq: int) -> bytes:
        """``0x00`` (the RFC 9162 leaf tag), the format byte and ``seq``."""
        return b"\x00\x01" + seq.to_bytes(8, "big")


_digest = type(sha256()).digest


def leaf_hashes(
    first_seq: int, shared: bytes, subjects: Sequence[int], item_parts: Iterable[bytes]
) -> list[bytes]:
    """The leaf hashes of consecutive records ``first_seq, first_seq + 1, …`` of one batch.

    ``shared`` is the batch's :func:`batch_part`, ``subjects`` the records' subject ids and
    ``item_parts`` their :func:`item_part` bytes. Every step is a C-level ``map`` (no
    per-record bytecode): this is what keeps append and verify at a few hundred thousand
    records a second. Raises ``struct.error`` for a subject id that is not a 64-bit integer.
    A test checks it against :func:`encode_record` byte for byte.
    """
    # 0x00 (the RFC 9162 leaf tag) and 0x01 (the format) read together as the u16 1; the tag,
    # seq, the batch's shared bytes and the subject are packed in one call per record
    head = struct.Struct(f">HQ{len(shared)}sq").pack
    n = len(subjects)
    seqs = range(first_seq, first_seq + n)
    prefixes = map(head, repeat(1, n), seqs, repeat(shared, n), subjects)
    return list(map(_digest, map(sha256, map(add, prefixes, item_parts))))


def check_value(name: str, value: object) -> None:
    """Refuse a value the store or the encoding cannot hold exactly (``LedgerWriteError``)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise LedgerWriteError(f"disclosure {name} must be an int or str, got {value!r}")
    if isinstance(value, int):
        if not _I64_MIN <= value <= _I64_MAX:
            raise LedgerWriteError(f"disclosure {name} {value} does not fit in 64 bits")
        return
    if "\x00" in value:  # PostgreSQL text cannot hold NUL; refuse it on every store alike
        raise LedgerWriteError(f"disclosure {name} contains a NUL character")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise LedgerWriteError(f"disclosure {name} is not valid Unicode text") from exc
    limit = MAX_LENGTHS.get(name, 0xFFFF)
    if len(value) > limit or size > 0xFFFF:
        raise LedgerWriteError(f"disclosure {name} is longer than {limit} characters")
    if name in ("field", "api_version") and not value:
        raise LedgerWriteError(f"disclosure {name} is empty")


__all__ = [
    "FORMAT",
    "MAX_LENGTHS",
    "Disclosure",
    "LeafEncoder",
    "batch_part",
    "check_value",
    "encode_record",
    "encode_str",
    "from_micros",
    "item_part",
    "leaf_hashes",
    "to_micros",
]
