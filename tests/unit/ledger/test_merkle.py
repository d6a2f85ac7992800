"""RFC 9162 Merkle hashing and proofs against the published Certificate Transparency vectors
(the RFC 6962 reference tree of certificate-transparency-go / transparency-dev merkle
testdata), plus property tests over arbitrary tree sizes."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphwarden.core.errors import VerificationError
from graphwarden.ledger.merkle import (
    EMPTY_ROOT,
    MerkleFrontier,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    list_range_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

LEAF_INPUTS = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
LEAVES = [leaf_hash(d) for d in LEAF_INPUTS]
RANGE = list_range_hash(LEAVES)

ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}

# (0-based leaf index, tree size, audit path)
INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

# (first size, second size, proof)
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root([]) == EMPTY_ROOT
    assert MerkleFrontier().root() == EMPTY_ROOT


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert (
        node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    )


@pytest.mark.parametrize(("size", "expected"), sorted(ROOTS.items()))
def test_reference_tree_roots(size: int, expected: str) -> None:
    assert root(LEAVES[:size]).hex() == expected
    frontier = MerkleFrontier()
    frontier.extend(LEAVES[:size])
    assert frontier.root().hex() == expected


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_reference_inclusion_proofs(index: int, size: int, path: list[str]) -> None:
    proof = inclusion_proof(index, size, RANGE)
    assert [p.hex() for p in proof] == path
    verify_inclusion(index, size, LEAVES[index], proof, bytes.fromhex(ROOTS[size]))


@pytest.mark.parametrize(("first", "second", "path"), CONSISTENCY)
def test_reference_consistency_proofs(first: int, second: int, path: list[str]) -> None:
    proof = consistency_proof(first, second, RANGE)
    assert [p.hex() for p in proof] == path
    verify_consistency(
        first, second, bytes.fromhex(ROOTS[first]), bytes.fromhex(ROOTS[second]), proof
    )


def test_inclusion_rejects_wrong_leaf_index_size_or_root() -> None:
    index, size, path = INCLUSION[2]
    proof = [bytes.fromhex(p) for p in path]
    good_root = bytes.fromhex(ROOTS[size])
    verify_inclusion(index, size, LEAVES[index], proof, good_root)
    with pytest.raises(VerificationError):
        verify_inclusion(index, size, LEAVES[index - 1], proof, good_root)
    with pytest.raises(VerificationError):
        verify_inclusion(index - 1, size, LEAVES[index], proof, good_root)
    with pytest.raises(VerificationError):
        verify_inclusion(index, size - 1, LEAVES[index], proof, bytes.fromhex(ROOTS[size - 1]))
    with pytest.raises(VerificationError):
        verify_inclusion(index, size, LEAVES[index], proof[:-1], good_root)
    with pytest.raises(VerificationError):
        verify_inclusion(index, size, LEAVES[index], [*proof, proof[0]], good_root)
    with pytest.raises(VerificationError):
        verify_inclusion(size, size, LEAVES[index], proof, good_root)


def test_consistency_rejects_tampering() -> None:
    first, second, path = CONSISTENCY[2]
    proof = [bytes.fromhex(p) for p in path]
    r1, r2 = bytes.fromhex(ROOTS[first]), bytes.fromhex(ROOTS[second])
    verify_consistency(first, second, r1, r2, proof)
    with pytest.raises(VerificationError):
        verify_consistency(first, second, r2, r2, proof)
    with pytest.raises(VerificationError):
        verify_consistency(first, second, r1, r1, proof)
    with pytest.raises(VerificationError):
        verify_consistency(first, second, r1, r2, proof[1:])
    with pytest.raises(VerificationError):
        verify_consistency(first, second, r1, r2, [])
    with pytest.raises(VerificationError):
        verify_consistency(first, first, r1, r2, [])


def _leaves(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_inclusion_round_trip_over_sizes(case: tuple[int, int]) -> None:
    size, index = case
    leaves = _leaves(size)
    r = root(leaves)
    proof = inclusion_proof(index, size, list_range_hash(leaves))
    verify_inclusion(index, size, leaves[index], proof, r)
    other = leaf_hash(b"not a leaf")
    with pytest.raises(VerificationError):
        verify_inclusion(index, size, other, proof, r)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_consistency_round_trip_over_sizes(case: tuple[int, int]) -> None:
    first, second = case
    leaves = _leaves(second)
    r1, r2 = root(leaves[:first]), root(leaves)
    proof = consistency_proof(first, second, list_range_hash(leaves))
    verify_consistency(first, second, r1, r2, proof)
    if 0 < first < second:
        forked = root([*leaves[: first - 1], leaf_hash(b"fork")])
        with pytest.raises(VerificationError):
            verify_consistency(first, second, forked, r2, proof)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 70), min_size=1, max_size=8))
def test_frontier_equals_root_at_every_size_and_survives_storage(chunks: list[int]) -> None:
    leaves = _leaves(sum(chunks))
    frontier = MerkleFrontier()
    done = 0
    for n in chunks:
        frontier.extend(leaves[done : done + n])
        done += n
        assert frontier.root() == root(leaves[:done])
        frontier = MerkleFrontier.from_bytes(frontier.size, frontier.to_bytes())


def test_frontier_captures_every_aligned_block() -> None:
    leaves = _leaves(70)
    frontier = MerkleFrontier()
    blocks = frontier.extend(leaves[:30], 3) + frontier.extend(leaves[30:], 3)
    assert blocks == [root(leaves[i : i + 8]) for i in range(0, 64, 8)]


@settings(max_examples=80, deadline=None)
@given(
    st.integers(0, 300),
    st.lists(st.integers(0, 600), min_size=1, max_size=6),
    st.integers(1, 6),
)
def test_batch_extend_equals_leaf_at_a_time_push(
    start: int, chunks: list[int], capture_level: int
) -> None:
    leaves = _leaves(start + sum(chunks))
    batch, reference = MerkleFrontier(), MerkleFrontier()
    batch.extend(leaves[:start])
    for leaf in leaves[:start]:
        reference.push(leaf)
    done = start
    for n in chunks:
        got = batch.extend(leaves[done : done + n], capture_level)
        want = [
            b
            for b in (reference.push(leaf, capture_level) for leaf in leaves[done : done + n])
            if b is not None
        ]
        done += n
        assert got == want
        assert batch.size == reference.size == done
        assert batch.to_bytes() == reference.to_bytes()
        assert batch.root() == root(leaves[:done])
