"""RFC 9162 §2.1 Merkle tree hashing, proofs and their verification, with no storage.

Leaf hash: SHA-256(0x00 || leaf). Node hash: SHA-256(0x01 || left || right). The tree of n
leaves splits at k, the largest power of two smaller than n. A tree is described here by a
function `perfect(level, index)` that returns the hash of the perfect subtree of 2**level
leaves starting at leaf index * 2**level; anything else is computed from those.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
PerfectHash = Callable[[int, int], bytes]

_sha256 = hashlib.sha256


def leaf_hash(leaf: bytes) -> bytes:
    """Return SHA-256(0x00 || leaf)."""
    return _sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """Return k, the largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class Frontier:
    """The right edge of a tree: the roots of its perfect subtrees, largest first.

    Appending a leaf merges equal-sized subtrees, as binary addition carries; `keep_every`
    asks `append` to hand back each merged node whose level is a multiple of it.
    """

    __slots__ = ("keep_every", "nodes", "size")

    def __init__(self, size: int = 0, nodes: Sequence[bytes] = (), keep_every: int = 0) -> None:
        if len(nodes) != size.bit_count():
            raise ValueError(f"a tree of {size} leaves has {size.bit_count()} frontier nodes")
        self.size = size
        self.nodes = list(nodes)
        self.keep_every = keep_every

    @classmethod
    def from_bytes(cls, size: int, packed: bytes, keep_every: int = 0) -> Frontier:
        """Rebuild a frontier stored as its hashes concatenated."""
        if len(packed) != HASH_SIZE * size.bit_count():
            raise ValueError(f"a frontier of a tree of {size} leaves is not {len(packed)} bytes")
        nodes = [packed[i : i + HASH_SIZE] for i in range(0, len(packed), HASH_SIZE)]
        return cls(size, nodes, keep_every)

    def to_bytes(self) -> bytes:
        """Return the hashes concatenated, largest subtree first."""
        return b"".join(self.nodes)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf hash; return (level, index, hash) of the kept nodes it completed."""
        kept: list[tuple[int, int, bytes]] = []
        node, carry, level, nodes = leaf, self.size, 0, self.nodes
        every = self.keep_every
        while carry & 1:
            node = _sha256(b"\x01" + nodes.pop() + node).digest()
            carry >>= 1
            level += 1
            if every and level % every == 0:
                kept.append((level, ((self.size + 1) >> level) - 1, node))
        nodes.append(node)
        self.size += 1
        return kept

    def root(self) -> bytes:
        """Return the Merkle tree hash of the leaves appended so far."""
        if not self.nodes:
            return EMPTY_ROOT
        root = self.nodes[-1]
        for left in reversed(self.nodes[:-1]):
            root = node_hash(left, root)
        return root


def range_hash(start: int, end: int, perfect: PerfectHash) -> bytes:
    """Return MTH(D[start:end]) for a range the RFC's recursion produces."""
    size = end - start
    if size <= 0:
        return EMPTY_ROOT
    if size & (size - 1) == 0:
        level = size.bit_length() - 1
        return perfect(level, start >> level)
    k = split_point(size)
    return node_hash(perfect(k.bit_length() - 1, start // k), range_hash(start + k, end, perfect))


def root_hash(size: int, perfect: PerfectHash) -> bytes:
    """Return the root of the first `size` leaves."""
    return range_hash(0, size, perfect)


def inclusion_path(index: int, size: int, perfect: PerfectHash) -> list[bytes]:
    """Return PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, nearest the leaf first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            path.append(range_hash(start + k, end, perfect))
            end = start + k
        else:
            path.append(range_hash(start, start + k, perfect))
            start += k
    path.reverse()
    return path


def consistency_path(first: int, second: int, perfect: PerfectHash) -> list[bytes]:
    """Return PROOF(first, D[0:second]) of RFC 9162 §2.1.4.1 (0 < first <= second)."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from a tree of {first} to one of {second}")
    proof: list[bytes] = []
    start, end, m, whole = 0, second, first, True
    while m != end - start:
        k = split_point(end - start)
        if m <= k:
            proof.append(range_hash(start + k, end, perfect))
            end = start + k
        else:
            proof.append(range_hash(start, start + k, perfect))
            start, m, whole = start + k, m - k, False
    if not whole:
        proof.append(range_hash(start, end, perfect))
    proof.reverse()
    return proof


def root_from_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes | None:
    """Return the root an inclusion path leads to (RFC 9162 §2.1.3.2), or None if it cannot."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
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
    return r if sn == 0 else None


def verify_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes
) -> bool:
    """Check that `leaf` (a leaf hash) is leaf `index` of the tree of `size` with `root`."""
    return root_from_inclusion(index, size, leaf, path) == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Check that the tree of `second` leaves extends the one of `first` (RFC 9162 §2.1.4.2)."""
    if not 0 < first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
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
    return sn == 0 and fr == first_root and sr == second_root


def perfect_from_leaves(leaves: Sequence[bytes]) -> PerfectHash:
    """Describe a tree held in memory by its leaf hashes (for tests and small trees)."""

    def perfect(level: int, index: int) -> bytes:
        width = 1 << level
        if (index + 1) * width > len(leaves):
            raise ValueError(f"no perfect subtree {level}/{index} in {len(leaves)} leaves")
        row = list(leaves[index * width : (index + 1) * width])
        while len(row) > 1:
            row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row), 2)]
        return row[0]

    return perfect
