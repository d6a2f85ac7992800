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


# --- crafted proofs: every malformed shape is refused -------------------------------------

ROOT2, ROOT4 = bytes.fromhex(ROOTS[2]), bytes.fromhex(ROOTS[4])
N01, N23 = node_hash(LEAVES[0], LEAVES[1]), node_hash(LEAVES[2], LEAVES[3])


def test_inclusion_of_a_leaf_at_or_past_the_size_is_refused() -> None:
    # [h1] is a well-formed path for leaf 0 of the tree of 2: offered for a third leaf it must
    # not reach the root (there is no leaf 2 in a tree of 2)
    verify_inclusion(0, 2, LEAVES[0], [LEAVES[1]], ROOT2)
    for index in (2, 3, 4, -1, -2):
        with pytest.raises(VerificationError, match="outside a tree"):
            verify_inclusion(index, 2, LEAVES[0], [LEAVES[1]], ROOT2)
    with pytest.raises(VerificationError, match="outside a tree"):
        verify_inclusion(1, 1, LEAVES[0], [], bytes.fromhex(ROOTS[1]))
    with pytest.raises(VerificationError, match="outside a tree"):
        verify_inclusion(0, 0, EMPTY_ROOT, [], EMPTY_ROOT)


def test_an_interior_node_is_not_a_leaf() -> None:
    # N01 || N23 hashes to the root of 4: a proof one level short would put the interior node
    # N01 at "leaf" 0 (or N23 at "leaf" 2 or 3) if the depth were not checked
    assert node_hash(N01, N23) == ROOT4
    for index, node, sibling in ((0, N01, N23), (1, N01, N23), (2, N23, N01), (3, N23, N01)):
        with pytest.raises(VerificationError, match="shorter than the tree is deep"):
            verify_inclusion(index, 4, node, [sibling], ROOT4)
    # the root itself, with no proof at all, is not leaf 0 of a tree of 2 or more
    for size in (2, 3, 4):
        with pytest.raises(VerificationError, match="shorter"):
            verify_inclusion(0, size, bytes.fromhex(ROOTS[size]), [], bytes.fromhex(ROOTS[size]))


def test_inclusion_proofs_too_long_or_too_short_are_refused() -> None:
    for index, size, path in INCLUSION:
        proof = [bytes.fromhex(p) for p in path]
        r = bytes.fromhex(ROOTS[size])
        with pytest.raises(VerificationError, match="longer than the tree is deep"):
            verify_inclusion(index, size, LEAVES[index], [*proof, LEAVES[0]], r)
        if proof:
            with pytest.raises(VerificationError, match="shorter than the tree is deep"):
                verify_inclusion(index, size, LEAVES[index], proof[:-1], r)


def test_inclusion_with_swapped_siblings_is_refused() -> None:
    index, size, path = INCLUSION[1]  # leaf 0 of 8: three siblings
    proof = [bytes.fromhex(p) for p in path]
    r = bytes.fromhex(ROOTS[size])
    for i in range(len(proof)):
        for j in range(i + 1, len(proof)):
            swapped = list(proof)
            swapped[i], swapped[j] = swapped[j], swapped[i]
            with pytest.raises(VerificationError, match="does not reach the root"):
                verify_inclusion(index, size, LEAVES[index], swapped, r)
    # left and right exchanged: the leaf's neighbour as the leaf, the leaf as the neighbour
    with pytest.raises(VerificationError, match="does not reach the root"):
        verify_inclusion(0, 2, LEAVES[1], [LEAVES[0]], ROOT2)
    with pytest.raises(VerificationError, match="does not reach the root"):
        verify_inclusion(1, 2, LEAVES[0], [LEAVES[1]], ROOT2)


def test_the_last_leaf_of_an_odd_tree_is_checked_on_its_own_path() -> None:
    # leaf 4 of 5 has a one-element path (the root of the first 4): the path of leaf 2 of 3
    # has the same length but another shape
    verify_inclusion(4, 5, LEAVES[4], [ROOT4], bytes.fromhex(ROOTS[5]))
    verify_inclusion(6, 7, LEAVES[6], inclusion_proof(6, 7, RANGE), bytes.fromhex(ROOTS[7]))
    with pytest.raises(VerificationError):
        verify_inclusion(4, 6, LEAVES[4], [ROOT4], bytes.fromhex(ROOTS[6]))
    with pytest.raises(VerificationError):
        verify_inclusion(3, 5, LEAVES[4], [ROOT4], bytes.fromhex(ROOTS[5]))


def test_consistency_between_equal_sizes_needs_an_empty_proof_and_one_root() -> None:
    r = bytes.fromhex(ROOTS[4])
    verify_consistency(4, 4, r, r, [])
    with pytest.raises(VerificationError, match="equal sizes must be empty"):
        verify_consistency(4, 4, r, r, [r])
    with pytest.raises(VerificationError, match="two different roots"):
        verify_consistency(4, 4, r, ROOT2, [])
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    with pytest.raises(VerificationError, match="two different roots"):
        verify_consistency(0, 0, EMPTY_ROOT, r, [])


def test_consistency_from_the_empty_tree_needs_an_empty_proof() -> None:
    verify_consistency(0, 4, EMPTY_ROOT, ROOT4, [])
    with pytest.raises(VerificationError, match="from the empty tree must be empty"):
        verify_consistency(0, 4, EMPTY_ROOT, ROOT4, [ROOT4])


def test_consistency_backwards_or_from_a_negative_size_is_refused() -> None:
    with pytest.raises(VerificationError, match="no consistency"):
        verify_consistency(5, 4, bytes.fromhex(ROOTS[5]), ROOT4, [])
    with pytest.raises(VerificationError, match="no consistency"):
        verify_consistency(-1, 4, EMPTY_ROOT, ROOT4, [])
    with pytest.raises(VerificationError, match="no consistency"):
        verify_consistency(3, 2, bytes.fromhex(ROOTS[3]), ROOT2, consistency_proof(2, 3, RANGE))


def test_consistency_proofs_too_long_too_short_or_reordered_are_refused() -> None:
    for first, second, path in CONSISTENCY:
        if first == second:
            continue
        proof = [bytes.fromhex(p) for p in path]
        r1, r2 = bytes.fromhex(ROOTS[first]), bytes.fromhex(ROOTS[second])
        with pytest.raises(VerificationError, match="longer than the tree is deep"):
            verify_consistency(first, second, r1, r2, [*proof, proof[0]])
        with pytest.raises(VerificationError):
            verify_consistency(first, second, r1, r2, proof[:-1])
        if len(proof) > 1:
            with pytest.raises(VerificationError):
                verify_consistency(first, second, r1, r2, proof[::-1])
    with pytest.raises(VerificationError, match="empty consistency proof"):
        verify_consistency(2, 5, ROOT2, bytes.fromhex(ROOTS[5]), [])


def test_a_consistency_proof_one_level_short_is_refused() -> None:
    # from 2 to 4 the proof is [N23]; the old root and N23 alone give the new root, but from
    # 2 to 8 the same one-element proof stops a level below the root
    verify_consistency(2, 4, ROOT2, ROOT4, [N23])
    with pytest.raises(VerificationError, match="shorter than the tree is deep"):
        verify_consistency(2, 8, ROOT2, ROOT4, [N23])
    with pytest.raises(VerificationError, match="shorter than the tree is deep"):
        verify_consistency(3, 8, bytes.fromhex(ROOTS[3]), ROOT4, consistency_proof(3, 4, RANGE))


def test_a_stored_frontier_of_the_wrong_length_is_refused() -> None:
    frontier = MerkleFrontier()
    frontier.extend(LEAVES[:7])
    data = frontier.to_bytes()
    assert MerkleFrontier.from_bytes(7, data).root() == bytes.fromhex(ROOTS[7])
    for bad in (data[:-1], data + b"\x00", data[:-32], data + data[:32], b""):
        with pytest.raises(ValueError, match="stored frontier"):
            MerkleFrontier.from_bytes(7, bad)
    with pytest.raises(ValueError, match="has 3 hashes"):
        MerkleFrontier(7, [data[:32]])


# --- properties: honest proofs verify, any change to one does not --------------------------


def _mutations(proof: list[bytes], data: st.DataObject) -> list[bytes]:
    """One change to ``proof``: a flipped byte, two items exchanged, one dropped or added."""
    kinds = ["add"]
    if proof:
        kinds += ["flip", "drop"]
    if len(set(proof)) > 1:
        kinds.append("swap")
    kind = data.draw(st.sampled_from(kinds))
    changed = list(proof)
    if kind == "flip":
        i = data.draw(st.integers(0, len(proof) - 1))
        at = data.draw(st.integers(0, 31))
        bit = data.draw(st.integers(0, 7))
        item = bytearray(changed[i])
        item[at] ^= 1 << bit
        changed[i] = bytes(item)
    elif kind == "swap":
        i, j = data.draw(
            st.tuples(st.integers(0, len(proof) - 1), st.integers(0, len(proof) - 1)).filter(
                lambda ij: proof[ij[0]] != proof[ij[1]]
            )
        )
        changed[i], changed[j] = changed[j], changed[i]
    elif kind == "drop":
        del changed[data.draw(st.integers(0, len(proof) - 1))]
    else:
        at = data.draw(st.integers(0, len(proof)))
        changed.insert(at, data.draw(st.sampled_from([*proof, LEAVES[0], EMPTY_ROOT])))
    return changed


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 70).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))), st.data()
)
def test_any_change_to_an_honest_inclusion_proof_fails(
    case: tuple[int, int], data: st.DataObject
) -> None:
    size, index = case
    leaves = _leaves(size)
    r = root(leaves)
    proof = inclusion_proof(index, size, list_range_hash(leaves))
    verify_inclusion(index, size, leaves[index], proof, r)
    with pytest.raises(VerificationError):
        verify_inclusion(index, size, leaves[index], _mutations(proof, data), r)
    with pytest.raises(VerificationError):
        verify_inclusion(index, size + 1, leaves[index], proof, root(_leaves(size + 1)))
    other = data.draw(st.integers(0, size).filter(lambda i: i != index))
    with pytest.raises(VerificationError):
        verify_inclusion(other, size, leaves[index], proof, r)


@settings(max_examples=100, deadline=None)
@given(
    st.integers(2, 70).flatmap(lambda n: st.tuples(st.integers(1, n - 1), st.just(n))), st.data()
)
def test_any_change_to_an_honest_consistency_proof_fails(
    case: tuple[int, int], data: st.DataObject
) -> None:
    first, second = case
    leaves = _leaves(second)
    r1, r2 = root(leaves[:first]), root(leaves)
    proof = consistency_proof(first, second, list_range_hash(leaves))
    verify_consistency(first, second, r1, r2, proof)
    with pytest.raises(VerificationError):
        verify_consistency(first, second, r1, r2, _mutations(proof, data))
    other = data.draw(st.integers(1, second).filter(lambda n: n != first))
    with pytest.raises(VerificationError):
        verify_consistency(other, second, r1, r2, proof)
