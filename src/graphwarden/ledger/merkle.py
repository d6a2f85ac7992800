"""RFC 9162 (Certificate Transparency v2) Merkle tree hashing, proofs and their verification.

Pure functions over bytes. A tree over leaf inputs ``D[0:n]`` has the hash
``MTH({}) = SHA-256()``, ``MTH({d}) = SHA-256(0x00 || d)`` and, for ``n > 1`` with ``k`` the
largest power of two below ``n``, ``MTH(D[0:n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))``
(RFC 9162 §2.1.1). Proof generation follows §2.1.3.1 and §2.1.4.1 and is written against a
``RangeHash`` callable so a store can answer ``MTH(D[lo:hi])`` from a cache of subtree hashes
instead of holding every leaf in memory. Verification is §2.1.3.2 and §2.1.4.2 step by step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from hashlib import sha256
from hashlib import sha256 as _sha256
from itertools import repeat
from operator import add

from graphwarden.core.errors import VerificationError

HASH_SIZE = 32
EMPTY_ROOT = sha256(b"").digest()
#: ``HASH.digest`` unbound, so ``map(_digest, map(_sha256, inputs))`` hashes without bytecode
_digest = type(sha256()).digest

#: ``MTH(D[lo:hi])`` for ``0 <= lo < hi <= n``
RangeHash = Callable[[int, int], bytes]


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 || data)``: the hash of one leaf input."""
    return sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``: the hash of an interior node."""
    return sha256(b"\x01" + left + right).digest()


def _set_bits_desc(n: int) -> list[int]:
    """The positions of the set bits of ``n``, highest first."""
    return [b for b in range(n.bit_length() - 1, -1, -1) if n >> b & 1]


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (``n > 1``)."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_root(leaf_hashes: Sequence[bytes], lo: int = 0, hi: int | None = None) -> bytes:
    """``MTH(D[lo:hi])`` from the leaf hashes, iteratively (no deep recursion)."""
    hi = len(leaf_hashes) if hi is None else hi
    if hi <= lo:
        return EMPTY_ROOT
    frontier = MerkleFrontier()
    for index in range(lo, hi):
        frontier.push(leaf_hashes[index])
    return frontier.root()


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The root hash of the tree whose leaves hash to ``leaf_hashes``.

    >>> root([]).hex()[:8], root([leaf_hash(b"")]).hex()[:8]
    ('e3b0c442', '6e340b9c')
    """
    return subtree_root(leaf_hashes)


def list_range_hash(leaf_hashes: Sequence[bytes]) -> RangeHash:
    """A ``RangeHash`` over leaf hashes held in memory."""

    def range_hash(lo: int, hi: int) -> bytes:
        return subtree_root(leaf_hashes, lo, hi)

    return range_hash


def _path(index: int, lo: int, hi: int, range_hash: RangeHash) -> list[bytes]:
    # RFC 9162 §2.1.3.1 PATH(m, D[n]), with the sub-list given as [lo, hi)
    n = hi - lo
    if n <= 1:
        return []
    k = _split(n)
    if index < k:
        return [*_path(index, lo, lo + k, range_hash), range_hash(lo + k, hi)]
    return [*_path(index - k, lo + k, hi, range_hash), range_hash(lo, lo + k)]


def inclusion_proof(index: int, tree_size: int, range_hash: RangeHash) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of the first ``tree_size`` leaves."""
    if not 0 <= index < tree_size:
        raise ValueError(f"leaf index {index} is outside a tree of size {tree_size}")
    return _path(index, 0, tree_size, range_hash)


def _subproof(m: int, lo: int, hi: int, complete: bool, range_hash: RangeHash) -> list[bytes]:
    # RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b), with the sub-list given as [lo, hi)
    n = hi - lo
    if m == n:
        return [] if complete else [range_hash(lo, hi)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, lo, lo + k, complete, range_hash), range_hash(lo + k, hi)]
    return [*_subproof(m - k, lo + k, hi, False, range_hash), range_hash(lo, lo + k)]


def consistency_proof(first: int, second: int, range_hash: RangeHash) -> list[bytes]:
    """The proof that the tree of size ``first`` is a prefix of the tree of size ``second``.

    Empty when ``first`` is 0 or equals ``second`` (nothing to prove).
    """
    if not 0 <= first <= second:
        raise ValueError(f"no consistency proof from size {first} to size {second}")
    if first in (0, second):
        return []
    return _subproof(first, 0, second, True, range_hash)


def verify_inclusion(
    index: int, tree_size: int, leaf: bytes, proof: Sequence[bytes], root_hash: bytes
) -> None:
    """RFC 9162 §2.1.3.2: raise ``VerificationError`` unless ``proof`` puts ``leaf`` (a leaf
    hash) at ``index`` in the tree of ``tree_size`` leaves whose root is ``root_hash``."""
    if not 0 <= index < tree_size:
        raise VerificationError(f"leaf index {index} is outside a tree of size {tree_size}")
    fn, sn, r = index, tree_size - 1, leaf
    for p in proof:
        if sn == 0:
            raise VerificationError("inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("inclusion proof is shorter than the tree is deep")
    if r != root_hash:
        raise VerificationError(f"inclusion proof for leaf {index} does not reach the root")


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2: raise ``VerificationError`` unless ``proof`` shows the tree of size
    ``first`` with root ``first_root`` is a prefix of the tree of size ``second``."""
    if not 0 <= first <= second:
        raise VerificationError(f"no consistency from size {first} to size {second}")
    if first == second:
        if proof:
            raise VerificationError("a consistency proof between equal sizes must be empty")
        if first_root != second_root:
            raise VerificationError(f"two different roots for the same size {first}")
        return
    if first == 0:
        if proof:
            raise VerificationError("a consistency proof from the empty tree must be empty")
        return
    if not proof:
        raise VerificationError("empty consistency proof")
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two: the old root is a node of the new
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerificationError("consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("consistency proof is shorter than the tree is deep")
    if fr != first_root:
        raise VerificationError(f"consistency proof does not reproduce the root of size {first}")
    if sr != second_root:
        raise VerificationError(f"consistency proof does not reproduce the root of size {second}")


class MerkleFrontier:
    """The right edge of a growing tree: one perfect-subtree root per set bit of the size.

    Appending a leaf costs amortised one node hash and never reads old leaves; the root is
    ``O(log n)`` away at any size. This is how appends extend the stored tree and how
    verification streams ten million records in constant memory.

    >>> f = MerkleFrontier(); f.push(leaf_hash(b"")); f.root().hex()[:8]
    '6e340b9c'
    """

    __slots__ = ("_hashes", "size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if len(hashes) != size.bit_count():
            raise ValueError(f"a frontier of size {size} has {size.bit_count()} hashes")
        self.size = size
        #: subtree roots, largest (leftmost) first
        self._hashes = list(hashes)

    @classmethod
    def from_bytes(cls, size: int, data: bytes) -> MerkleFrontier:
        """The frontier stored as concatenated 32-byte hashes (see :meth:`to_bytes`)."""
        if len(data) != HASH_SIZE * size.bit_count():
            raise ValueError(f"stored frontier has {len(data)} bytes for size {size}")
        return cls(size, [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)])

    def to_bytes(self) -> bytes:
        return b"".join(self._hashes)

    def copy(self) -> MerkleFrontier:
        return MerkleFrontier(self.size, self._hashes)

    def push(self, leaf: bytes, capture_level: int = -1) -> bytes | None:
        """Append one leaf hash; return the subtree root completed at ``capture_level``
        (a subtree of ``2**capture_level`` leaves ending at the new size), if one was."""
        hashes = self._hashes
        size = self.size
        h = leaf
        level = 0
        captured = None
        while size & 1:
            h = node_hash(hashes.pop(), h)
            size >>= 1
            level += 1
            if level == capture_level:
                captured = h
        hashes.append(h)
        self.size += 1
        return captured

    def extend(self, leaves: Sequence[bytes], capture_level: int = -1) -> list[bytes]:
        """Append many leaf hashes; return, in order, the roots of the subtrees of
        ``2**capture_level`` leaves completed on the way.

        The hot loop of append and verify. The tree is built level by level: at each level
        the new nodes (plus the frontier's waiting left sibling, when there is one) are
        paired with C-level ``map`` calls, so a 500-leaf batch costs ~500 node hashes and
        no per-leaf Python bytecode. :meth:`push` is the leaf-at-a-time reference.
        """
        count = len(leaves)
        if not count:
            return []
        old_size = self.size
        new_size = old_size + count
        # the frontier's entries by level: entry i (largest first) sits at the i-th highest
        # set bit of the old size
        old = dict(zip(_set_bits_desc(old_size), self._hashes, strict=True))
        kept: dict[int, bytes] = {}
        captured: list[bytes] = []
        nodes: list[bytes] = list(leaves)
        level = 0
        while (new_size >> level) != (old_size >> level):
            # ``nodes`` are the new nodes of this level, positions [old >> level, new >> level)
            if (new_size >> level) & 1:
                kept[level] = nodes[-1]  # unpaired: waits on the new frontier
            if (old_size >> level) & 1:
                nodes.insert(0, old[level])  # the old frontier's node is their left sibling
            if len(nodes) & 1:
                nodes.pop()
            nodes = list(
                map(
                    _digest,
                    map(_sha256, map(add, map(add, repeat(b"\x01"), nodes[0::2]), nodes[1::2])),
                )
            )
            level += 1
            if level == capture_level:
                captured = nodes[:]  # the next level edits ``nodes`` in place
        # above the last level that changed, the old frontier's entries stand as they were
        for lvl, h in old.items():
            if lvl >= level:
                kept[lvl] = h
        self._hashes = [kept[lvl] for lvl in sorted(kept, reverse=True)]
        self.size = new_size
        return captured

    def root(self) -> bytes:
        """``MTH`` of the leaves pushed so far."""
        if not self._hashes:
            return EMPTY_ROOT
        r = self._hashes[-1]
        for h in reversed(self._hashes[:-1]):
            r = node_hash(h, r)
        return r


__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MerkleFrontier",
    "RangeHash",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "list_range_hash",
    "node_hash",
    "root",
    "subtree_root",
    "verify_consistency",
    "verify_inclusion",
]
