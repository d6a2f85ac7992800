"""Opaque, tamper-evident paging cursors.

A cursor names a position in one edge listing (the ``friends`` or ``likes`` of one subject,
as seen by one app). It must not reveal the platform ids behind app-scoped ids, and a client
must not be able to forge one, so it is sealed with a synthetic-IV construction built from
HMAC-SHA256 and AES-CTR under keys derived from one server secret:

    tag    = HMAC-SHA256(mac_key, payload)[:16]
    cipher = AES-256-CTR(enc_key, nonce=tag)(payload)
    cursor = base64url(tag || cipher)

Opening recomputes the tag over the decrypted payload and compares in constant time, so any
change to a cursor (or one made for another edge, subject or app) is an :class:`InvalidInput`
that the Graph API reports as error 100, never a server error. The same position always gives
the same cursor, which keeps cursors stable across requests.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from graphwarden.core.errors import InvalidInput

_FORMAT = 1
#: format, edge kind, app id, subject id, position
_LAYOUT = struct.Struct(">BBqqq")
_TAG_BYTES = 16
_EDGE_CODES = {"friends": 1, "likes": 2}
_SECRET_BYTES = 32
_MAX_CURSOR_CHARS = 200


class CursorError(InvalidInput):
    """A cursor that was not issued by this server for this listing."""


@dataclass(frozen=True, slots=True)
class Cursor:
    """A position in an edge listing: the id of the first or last item of a page."""

    edge: str
    app_id: int
    subject_id: int
    position: int


class CursorCodec:
    """Seals and opens cursors with one server secret.

    >>> codec = CursorCodec(b"k" * 32)
    >>> c = Cursor("friends", app_id=7, subject_id=1, position=42)
    >>> codec.open(codec.seal(c), edge="friends", app_id=7, subject_id=1) == c
    True
    """

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("a cursor secret needs at least 16 bytes")
        self._mac_key = hmac.new(secret, b"graphwarden cursor mac", hashlib.sha256).digest()
        self._enc_key = hmac.new(secret, b"graphwarden cursor enc", hashlib.sha256).digest()

    @classmethod
    def random(cls) -> CursorCodec:
        """A codec with a fresh secret (cursors die with the process)."""
        return cls(os.urandom(_SECRET_BYTES))

    @classmethod
    def from_key_file(cls, path: Path) -> CursorCodec:
        """The codec whose secret lives in ``path``, created (mode 0600) on first use.

        Several workers may race to create it: exclusive creation makes one win and the
        others read what it wrote.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(os.urandom(_SECRET_BYTES).hex())
        for _ in range(50):  # a racing creator may not have written yet
            text = path.read_text().strip()
            if text:
                return cls(bytes.fromhex(text))
            time.sleep(0.01)
        raise ValueError(f"the cursor key file {path} is empty")

    def _crypt(self, tag: bytes, data: bytes) -> bytes:
        cipher = Cipher(algorithms.AES(self._enc_key), modes.CTR(tag))
        ctx = cipher.encryptor()
        return ctx.update(data) + ctx.finalize()

    def _tag(self, payload: bytes) -> bytes:
        return hmac.new(self._mac_key, payload, hashlib.sha256).digest()[:_TAG_BYTES]

    def seal(self, cursor: Cursor) -> str:
        """The opaque text of ``cursor``."""
        payload = _LAYOUT.pack(
            _FORMAT, _EDGE_CODES[cursor.edge], cursor.app_id, cursor.subject_id, cursor.position
        )
        tag = self._tag(payload)
        return base64.urlsafe_b64encode(tag + self._crypt(tag, payload)).rstrip(b"=").decode()

    def open(self, text: str, *, edge: str, app_id: int, subject_id: int) -> Cursor:
        """The cursor sealed in ``text``, checked to belong to this listing.

        Raises :class:`CursorError` for anything else.
        """
        if not text or len(text) > _MAX_CURSOR_CHARS or not text.isascii():
            raise CursorError("(#100) Invalid cursor")
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError) as exc:
            raise CursorError("(#100) Invalid cursor") from exc
        if len(raw) != _TAG_BYTES + _LAYOUT.size:
            raise CursorError("(#100) Invalid cursor")
        tag, body = raw[:_TAG_BYTES], raw[_TAG_BYTES:]
        payload = self._crypt(tag, body)
        if not hmac.compare_digest(tag, self._tag(payload)):
            raise CursorError("(#100) Invalid cursor")
        fmt, code, c_app, c_subject, position = _LAYOUT.unpack(payload)
        if (
            fmt != _FORMAT
            or code != _EDGE_CODES.get(edge)
            or c_app != app_id
            or c_subject != subject_id
        ):
            raise CursorError("(#100) The cursor does not belong to this listing")
        return Cursor(edge=edge, app_id=c_app, subject_id=c_subject, position=position)


__all__ = ["Cursor", "CursorCodec", "CursorError"]
