"""Seal the access log into an RFC 9162 Merkle tree and sign checkpoints (invariant 8).

Readers append events with a sequence number and never touch the tree ("The audit log on
the hot path"). The sealer, run by the worker, gives settled events their leaf indexes in
sequence order, extends the tree from its stored right edge, keeps a hash of every perfect
subtree of 16**k leaves for proofs, and signs a checkpoint every N leaves or T seconds.
Only the tree head row is locked, so two sealers take turns and never fork the tree.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from vault.access_log.checkpoints import latest_checkpoint, sign_checkpoint
from vault.access_log.leaves import RAW_SELECT, event_leaf_hash
from vault.access_log.merkle import EMPTY_ROOT, Frontier
from vault.access_log.models import AccessEvent, AccessTreeNode, TreeHead
from vault.access_log.store import KEEP_EVERY
from vault.unit_of_work import UnitOfWork, Vault

HEAD_ID = 1
CHECKPOINT_EVERY = 1000  # leaves
CHECKPOINT_SECONDS = 60.0
UNSEALED = (AccessEvent.entry_hash.is_(None), AccessEvent.chain_position.is_(None))
# Core executemany: the ORM's bulk update by primary key costs more than the hashing.
_SET_LEAVES = (
    update(AccessEvent.__table__)
    .where(AccessEvent.__table__.c.seq == bindparam("event_seq"))
    .values(chain_position=bindparam("leaf_index"), entry_hash=bindparam("leaf_hash"))
)


class TreeHeadMissingError(RuntimeError):
    """Sealed events exist but the tree head does not, so the tree cannot be extended."""


ChainHeadMissingError = TreeHeadMissingError  # the name callers of the hash chain used


def lock_head(uow: UnitOfWork) -> TreeHead:
    """Lock the tree head for this transaction, creating it on the very first seal."""
    session = uow.session
    query = select(TreeHead).where(TreeHead.id == HEAD_ID).with_for_update()
    head = session.scalar(query)
    if head is not None:
        return head
    sealed = session.scalar(select(func.count()).where(AccessEvent.chain_position.is_not(None)))
    if sealed:
        # Starting again from zero would hide whatever removed the head.
        raise TreeHeadMissingError(
            f"The tree head is missing but {sealed} events are sealed; "
            "run `emanet audit verify` and restore the head from a backup."
        )
    try:
        with session.begin_nested():
            session.add(
                TreeHead(
                    id=HEAD_ID, size=0, root_hash=EMPTY_ROOT, frontier=b"", sealed_at=uow.now()
                )
            )
    except IntegrityError:
        pass  # another sealer created it first; the locking read below waits for it
    head = session.scalar(query)
    if head is None:
        raise TreeHeadMissingError("The tree head could not be created.")
    return head


def seal_batch(
    uow: UnitOfWork,
    *,
    settle_seconds: float,
    batch_size: int,
    checkpoint_every: int = CHECKPOINT_EVERY,
    checkpoint_seconds: float = CHECKPOINT_SECONDS,
) -> int:
    """Append up to `batch_size` settled events to the tree, then sign a checkpoint if one is
    due, in this unit of work (no commit); return how many events were sealed."""
    session = uow.session
    head = lock_head(uow)
    latest = latest_checkpoint(session)
    signed_size = latest.tree_size if latest is not None else 0
    # Stop at the next multiple of N so that, under load, checkpoints fall every N leaves.
    limit = min(batch_size, max(1, checkpoint_every - (head.size - signed_size)))
    # Events younger than the settle time may still have lower-numbered neighbours in flight;
    # waiting a little keeps the tree close to sequence order. A later commit simply gets a
    # later leaf.
    cutoff = uow.now() - timedelta(seconds=settle_seconds)
    rows = session.execute(
        select(*RAW_SELECT)
        .where(*UNSEALED, AccessEvent.at <= cutoff)
        .order_by(AccessEvent.seq)
        .limit(limit)
    ).all()
    if rows:
        frontier = Frontier.from_bytes(head.size, head.frontier, keep_every=KEEP_EVERY)
        leaves: list[dict[str, object]] = []
        kept: list[tuple[int, int, bytes]] = []
        for row in rows:
            index = frontier.size
            digest = event_leaf_hash(row, index)
            kept += frontier.append(digest)
            leaves.append({"event_seq": row.seq, "leaf_index": index, "leaf_hash": digest})
        session.execute(_SET_LEAVES, leaves)
        if kept:
            session.execute(
                insert(AccessTreeNode.__table__),
                [{"level": lv, "node_index": ix, "hash": digest} for lv, ix, digest in kept],
            )
        head.size, head.frontier = frontier.size, frontier.to_bytes()
        head.root_hash, head.sealed_at = frontier.root(), uow.now()
    grown = head.size - signed_size
    if grown > 0 and (
        latest is None
        or grown >= checkpoint_every
        or uow.now() - latest.signed_at >= timedelta(seconds=checkpoint_seconds)
    ):
        sign_checkpoint(uow, head.size, head.root_hash)
    session.flush()
    return len(rows)


def seal_pending(
    vault: Vault,
    *,
    settle_seconds: float = 2.0,
    batch_size: int = 1000,
    checkpoint_every: int = CHECKPOINT_EVERY,
    checkpoint_seconds: float = CHECKPOINT_SECONDS,
) -> int:
    """Seal every settled event, one transaction per batch, signing checkpoints as they fall
    due; return how many events were sealed."""
    total = 0
    while True:
        # Only the head row is locked (plus the rows being sealed): appends never wait for it.
        with vault.unit_of_work() as uow:
            sealed = seal_batch(
                uow,
                settle_seconds=settle_seconds,
                batch_size=batch_size,
                checkpoint_every=checkpoint_every,
                checkpoint_seconds=checkpoint_seconds,
            )
            uow.commit()
        total += sealed
        if sealed == 0:
            return total
