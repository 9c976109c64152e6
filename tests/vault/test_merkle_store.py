"""Proofs built from the stored tree (leaf hashes plus kept subtree hashes) are the very
proofs RFC 9162 defines over the leaves, for every leaf and many tree sizes."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from vault.access_log.merkle import (
    consistency_path,
    inclusion_path,
    perfect_from_leaves,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from vault.access_log.models import AccessCheckpoint, AccessEvent, AccessTreeNode, TreeHead
from vault.access_log.proofs import consistency_proof, inclusion_proof
from vault.access_log.sealer import seal_pending
from vault.access_log.services import LogEntry, append_event
from vault.access_log.store import MissingNodeError, SubtreeStore
from vault.unit_of_work import Vault

COUNT = 300  # beyond 256, so kept hashes of levels 4 and 8 both exist


@pytest.fixture
def leaves(vault: Vault) -> list[bytes]:
    """Seal COUNT events in uneven batches; return their leaf hashes by leaf index."""
    with vault.unit_of_work() as uow:
        for n in range(COUNT):
            append_event(uow, LogEntry(kind="gate.read", actor=f"client:{n}", detail=str(n)))
        uow.commit()
    assert seal_pending(vault, settle_seconds=0, batch_size=37, checkpoint_every=100) == COUNT
    with vault.unit_of_work(write=False) as uow:
        hashes = list(
            uow.session.scalars(select(AccessEvent.entry_hash).order_by(AccessEvent.chain_position))
        )
    return [h for h in hashes if h is not None]


def test_kept_subtrees_are_every_16_and_256_leaves(vault: Vault, leaves: list[bytes]) -> None:
    reference = perfect_from_leaves(leaves)
    with vault.unit_of_work(write=False) as uow:
        kept = uow.session.execute(
            select(AccessTreeNode.level, AccessTreeNode.node_index, AccessTreeNode.hash)
        ).all()
        head = uow.session.get(TreeHead, 1)
        assert head is not None and head.root_hash == root_hash(COUNT, reference)
    assert sorted((lv, ix) for lv, ix, _ in kept) == sorted(
        [(4, i) for i in range(COUNT // 16)] + [(8, 0)]
    )
    assert all(h == reference(lv, ix) for lv, ix, h in kept)


def test_inclusion_proofs_from_the_store_are_the_rfc_proofs(
    vault: Vault, leaves: list[bytes]
) -> None:
    reference = perfect_from_leaves(leaves)
    with vault.unit_of_work(write=False) as uow:
        for size in (1, 2, 17, 256, 257, COUNT):
            root = root_hash(size, reference)
            for index in range(size):
                proof = inclusion_proof(uow.session, index, size)
                assert proof == inclusion_path(index, size, reference), (index, size)
                assert verify_inclusion(index, size, leaves[index], proof, root)


def test_consistency_proofs_from_the_store_are_the_rfc_proofs(
    vault: Vault, leaves: list[bytes]
) -> None:
    reference = perfect_from_leaves(leaves)
    sizes = [1, 3, 16, 31, 32, 100, 200, 256, 257, 299, COUNT]
    with vault.unit_of_work(write=False) as uow:
        for second in sizes:
            for first in (s for s in sizes if s <= second):
                proof = consistency_proof(uow.session, first, second)
                assert proof == consistency_path(first, second, reference)
                assert verify_consistency(
                    first, second, root_hash(first, reference), root_hash(second, reference), proof
                )


def test_checkpoints_sign_the_roots_of_their_sizes(vault: Vault, leaves: list[bytes]) -> None:
    reference = perfect_from_leaves(leaves)
    with vault.unit_of_work(write=False) as uow:
        checkpoints = uow.session.execute(
            select(AccessCheckpoint.tree_size, AccessCheckpoint.root_hash).order_by(
                AccessCheckpoint.tree_size
            )
        ).all()
    # The first seal signs at once; then one every hundred leaves; the last 63 wait for T.
    assert [size for size, _ in checkpoints] == [37, 137, 237]
    assert all(root == root_hash(size, reference) for size, root in checkpoints)


def test_a_proof_needing_a_removed_leaf_says_so(vault: Vault, leaves: list[bytes]) -> None:
    with vault.unit_of_work() as uow:
        uow.session.execute(delete(AccessEvent).where(AccessEvent.chain_position == 290))
        uow.commit()
    with vault.unit_of_work(write=False) as uow:
        with pytest.raises(
            MissingNodeError,
            match="leaves 288 to 295 should all be sealed, but 1 of them is missing",
        ):
            inclusion_proof(uow.session, 0, COUNT)
        assert SubtreeStore(uow.session).perfect(8, 0) == perfect_from_leaves(leaves)(8, 0)


def test_the_store_reads_a_few_rows_per_subtree(vault: Vault, leaves: list[bytes]) -> None:
    # A subtree of 128 leaves is folded from 8 kept hashes of 16, not from 128 leaves.
    with vault.unit_of_work() as uow:
        uow.session.execute(
            delete(AccessEvent).where(AccessEvent.chain_position.between(1, 127)),
        )
        uow.commit()
    with vault.unit_of_work(write=False) as uow:
        assert SubtreeStore(uow.session).perfect(7, 0) == perfect_from_leaves(leaves)(7, 0)
