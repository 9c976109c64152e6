"""RFC 9162 §2.1 Merkle tree arithmetic, checked against the RFC's own recursive definitions
and against the Certificate Transparency reference vectors (no database)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest

from vault.access_log.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_path,
    inclusion_path,
    leaf_hash,
    node_hash,
    perfect_from_leaves,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

# The leaves and roots every RFC 6962 implementation is tested with (certificate-transparency).
CT_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = {
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}


# The RFC's definitions, written as literally as Python allows.
def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def mth(d: Sequence[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return sha256(b"\x00" + d[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return sha256(b"\x01" + mth(d[:k]) + mth(d[k:]))


def path(m: int, d: Sequence[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*path(m, d[:k]), mth(d[k:])]
    return [*path(m - k, d[k:]), mth(d[:k])]


def subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*subproof(m, d[:k], b), mth(d[k:])]
    return [*subproof(m - k, d[k:], False), mth(d[:k])]


DATA = [f"leaf {i}".encode() for i in range(70)]
HASHES = [leaf_hash(x) for x in DATA]


def test_hashing_uses_the_rfc_prefixes() -> None:
    assert leaf_hash(b"abc") == sha256(b"\x00abc")
    assert node_hash(b"L" * 32, b"R" * 32) == sha256(b"\x01" + b"L" * 32 + b"R" * 32)
    assert sha256(b"") == EMPTY_ROOT


@pytest.mark.parametrize("size", range(len(CT_LEAVES) + 1))
def test_roots_match_the_certificate_transparency_vectors(size: int) -> None:
    hashes = [leaf_hash(x) for x in CT_LEAVES[:size]]
    frontier = Frontier()
    for h in hashes:
        frontier.append(h)
    assert frontier.root().hex() == CT_ROOTS[size]
    assert root_hash(size, perfect_from_leaves(hashes)).hex() == CT_ROOTS[size]
    assert mth(CT_LEAVES[:size]).hex() == CT_ROOTS[size]


@pytest.mark.parametrize(("index", "size"), sorted(CT_INCLUSION))
def test_inclusion_paths_match_the_certificate_transparency_vectors(index: int, size: int) -> None:
    hashes = [leaf_hash(x) for x in CT_LEAVES]
    proof = inclusion_path(index, size, perfect_from_leaves(hashes))
    assert [p.hex() for p in proof] == CT_INCLUSION[(index, size)]
    assert verify_inclusion(index, size, hashes[index], proof, bytes.fromhex(CT_ROOTS[size]))


def test_the_frontier_root_is_the_rfc_root_at_every_size() -> None:
    frontier = Frontier(keep_every=2)
    kept = []
    for n, h in enumerate(HASHES, start=1):
        kept += frontier.append(h)
        assert frontier.root() == mth(DATA[:n])
        again = Frontier.from_bytes(n, frontier.to_bytes())
        assert again.root() == frontier.root() and len(again.nodes) == n.bit_count()
    perfect = perfect_from_leaves(HASHES)
    # Every node whose level is a multiple of 2 was handed back, once, with its right hash.
    expected = {(lv, ix) for lv in (2, 4, 6) for ix in range(len(HASHES) >> lv)}
    assert {(lv, ix) for lv, ix, _ in kept} == expected and len(kept) == len(expected)
    assert all(perfect(lv, ix) == h for lv, ix, h in kept)


def test_inclusion_paths_are_the_rfc_paths_and_verify() -> None:
    perfect = perfect_from_leaves(HASHES)
    for size in range(1, 40):
        root = mth(DATA[:size])
        for index in range(size):
            proof = inclusion_path(index, size, perfect)
            assert proof == path(index, DATA[:size])
            assert verify_inclusion(index, size, HASHES[index], proof, root)


def test_inclusion_verification_refuses_anything_changed() -> None:
    perfect = perfect_from_leaves(HASHES)
    size, index = 37, 21
    root, proof = mth(DATA[:size]), inclusion_path(index, size, perfect)
    leaf = HASHES[index]
    assert verify_inclusion(index, size, leaf, proof, root)
    assert not verify_inclusion(index, size, HASHES[index + 1], proof, root)
    assert not verify_inclusion(index + 1, size, leaf, proof, root)
    # A path fits every size whose right edge runs the same way; the checkpoint signs the size.
    assert not verify_inclusion(index, size * 2, leaf, proof, root)
    assert not verify_inclusion(index, size, leaf, proof[:-1], root)
    assert not verify_inclusion(index, size, leaf, [*proof, proof[0]], root)
    assert not verify_inclusion(size, size, leaf, proof, root)
    for i in range(len(proof)):
        bent = list(proof)
        bent[i] = bytes([bent[i][0] ^ 1]) + bent[i][1:]
        assert not verify_inclusion(index, size, leaf, bent, root)


def test_consistency_proofs_are_the_rfc_proofs_and_verify() -> None:
    perfect = perfect_from_leaves(HASHES)
    for second in range(1, 40):
        for first in range(1, second + 1):
            proof = consistency_path(first, second, perfect)
            assert proof == subproof(first, DATA[:second], True)
            assert verify_consistency(
                first, second, mth(DATA[:first]), mth(DATA[:second]), proof
            ), (first, second)


def test_consistency_verification_refuses_anything_changed() -> None:
    perfect = perfect_from_leaves(HASHES)
    first, second = 13, 38
    old, new = mth(DATA[:first]), mth(DATA[:second])
    proof = consistency_path(first, second, perfect)
    assert verify_consistency(first, second, old, new, proof)
    assert not verify_consistency(first, second, mth(DATA[1 : first + 1]), new, proof)
    assert not verify_consistency(first, second, old, mth(DATA[: second - 1]), proof)
    assert not verify_consistency(first + 1, second, old, new, proof)
    assert not verify_consistency(first, second * 2, old, new, proof)
    assert not verify_consistency(first, second, old, new, proof[:-1])
    assert not verify_consistency(first, second, old, new, [])
    assert not verify_consistency(0, second, old, new, proof)
    assert verify_consistency(second, second, new, new, [])
    assert not verify_consistency(second, second, old, new, [])
    for i in range(len(proof)):
        bent = list(proof)
        bent[i] = bytes([bent[i][0] ^ 1]) + bent[i][1:]
        assert not verify_consistency(first, second, old, new, bent)


def test_proofs_for_leaves_outside_the_tree_are_refused() -> None:
    perfect = perfect_from_leaves(HASHES)
    with pytest.raises(ValueError):
        inclusion_path(5, 5, perfect)
    with pytest.raises(ValueError):
        consistency_path(0, 5, perfect)
    with pytest.raises(ValueError):
        consistency_path(6, 5, perfect)
    with pytest.raises(ValueError):
        Frontier.from_bytes(3, b"\x00" * 32)
