"""The fast leaf encoder agrees with the canonical encoding byte for byte."""

from __future__ import annotations

import struct
from hashlib import sha256

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphwarden.ledger.records import LeafEncoder, batch_part, encode_record, leaf_hashes

I64 = st.integers(-(2**63), 2**63 - 1)
TEXT = st.text(max_size=20)


@settings(max_examples=150, deadline=None)
@given(
    first_seq=st.integers(0, 2**63),
    at_us=I64,
    request_id=TEXT,
    app_id=I64,
    api_version=st.sampled_from(["v1.0", "v2.0", "v3.0"]),
    owner_id=I64,
    items=st.lists(st.tuples(I64, TEXT, TEXT), max_size=12),
)
def test_leaf_hashes_equal_the_canonical_encoding(
    first_seq: int,
    at_us: int,
    request_id: str,
    app_id: int,
    api_version: str,
    owner_id: int,
    items: list[tuple[int, str, str]],
) -> None:
    shared = batch_part(at_us, request_id, app_id, api_version, owner_id)
    encoder = LeafEncoder()
    got = leaf_hashes(
        first_seq, shared, [s for s, _, _ in items], [encoder.item(f, r) for _, f, r in items]
    )
    want = [
        sha256(
            b"\x00"
            + encode_record(
                first_seq + i, at_us, request_id, app_id, api_version, owner_id, s, f, r
            )
        ).digest()
        for i, (s, f, r) in enumerate(items)
    ]
    assert got == want


@pytest.mark.parametrize("subject", [2**63, -(2**63) - 1, "7", 1.5])
def test_a_subject_that_is_not_a_64_bit_integer_is_refused(subject: object) -> None:
    with pytest.raises(struct.error):
        leaf_hashes(0, b"", [subject], [b""])  # type: ignore[list-item]
