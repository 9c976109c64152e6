"""Verify the access log: rebuild the Merkle tree from the events and check every checkpoint.

One pass over the sealed events by leaf index, a page at a time, keeping only the tree's right
edge in memory: each event must match its leaf hash, no leaf may be missing, each kept subtree
hash must match the leaves, each checkpoint must carry a valid signature and the root of the
rebuilt tree at its size, and consecutive checkpoints must be joined by a consistency proof
built from the stored hashes. The first problem found is named.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from vault.access_log.checkpoints import (
    CheckpointView,
    b64,
    checkpoints_in_order,
    public_keys,
    signature_problem,
)
from vault.access_log.leaves import RAW_SEALED_SELECT, event_leaf_hash
from vault.access_log.merkle import Frontier, consistency_path, verify_consistency
from vault.access_log.models import AccessEvent, AccessTreeNode, TreeHead
from vault.access_log.sealer import HEAD_ID, UNSEALED
from vault.access_log.store import KEEP_EVERY, MissingNodeError, SubtreeStore
from vault.unit_of_work import Vault

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class VerifyReport:
    """What verification found: the first problem, if any, and how much it covered.

    `first_bad_leaf` is a leaf index (from 0); `first_bad_checkpoint` is the tree size of
    the first checkpoint that failed. `unsigned` sealed leaves are not yet under a checkpoint.
    """

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    first_bad_leaf: int | None = None
    first_bad_checkpoint: int | None = None
    problem: str | None = None
    unsealed: int = 0
    checkpoints: int = 0
    latest_checkpoint: int | None = None
    unsigned: int = 0
    tree_size: int = 0
    root_hash: str | None = None


class _Found(Exception):
    """The first problem: stops the pass."""

    def __init__(
        self, problem: str, seq: int | None, leaf: int | None, checkpoint: int | None = None
    ) -> None:
        super().__init__(problem)
        self.problem, self.seq, self.leaf, self.checkpoint = problem, seq, leaf, checkpoint


def verify_log(
    vault: Vault, *, batch_size: int = 5000, progress: Progress | None = None
) -> VerifyReport:
    """Rebuild the tree from every sealed event and check it against the signed checkpoints."""
    keys = public_keys(vault.provider.public_jwks())
    with vault.unit_of_work(write=False) as uow:
        session = uow.session
        if session.get_bind().dialect.name == "postgresql":
            # One snapshot for every page: a sealer committing midway must not look like
            # tampering. A SQLite read transaction is one snapshot already.
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return _Verifier(session, keys, batch_size, progress).run()


verify_chain = verify_log  # the name of the hash-chain era


class _Verifier:
    def __init__(
        self,
        session: Session,
        keys: Mapping[str, Ed25519PublicKey],
        batch_size: int,
        progress: Progress | None,
    ) -> None:
        self.session, self.keys, self.batch_size, self.progress = (
            session,
            keys,
            batch_size,
            progress,
        )
        self.store = SubtreeStore(session)
        self.frontier = Frontier(keep_every=KEEP_EVERY)
        self.kept: list[tuple[int, int, bytes]] = []
        self.last: Row[Any] | None = None
        self.checkpoints: Iterator[CheckpointView] = checkpoints_in_order(session)
        self.upcoming: CheckpointView | None = next(self.checkpoints, None)
        self.previous: CheckpointView | None = None
        self.verified = 0

    def run(self) -> VerifyReport:
        session = self.session
        head = session.execute(
            select(TreeHead.size, TreeHead.root_hash, TreeHead.frontier).where(
                TreeHead.id == HEAD_ID
            )
        ).first()
        unsealed = session.scalar(select(func.count()).where(*UNSEALED)) or 0
        total = session.scalar(select(func.count()).where(AccessEvent.chain_position.is_not(None)))
        try:
            for page in self._pages():
                for row in page:
                    self._checkpoints_up_to(self.frontier.size)
                    self._leaf(row, head is not None)
                self._check_kept()
                if self.progress is not None:
                    self.progress(self.frontier.size, total or 0)
            self._checkpoints_up_to(self.frontier.size)
            self._nothing_beyond()
            self._head(head)
            self._no_orphans()
        except _Found as found:
            return self._report(False, unsealed, head, found)
        return self._report(True, unsealed, head, None)

    def _report(
        self, ok: bool, unsealed: int, head: Row[Any] | None, found: _Found | None
    ) -> VerifyReport:
        latest = self.previous.tree_size if self.previous is not None else None
        return VerifyReport(
            ok=ok,
            checked=self.frontier.size,
            first_bad_seq=found.seq if found else None,
            first_bad_leaf=found.leaf if found else None,
            first_bad_checkpoint=found.checkpoint if found else None,
            problem=found.problem if found else None,
            unsealed=unsealed,
            checkpoints=self.verified,
            latest_checkpoint=latest,
            unsigned=self.frontier.size - (latest or 0),
            tree_size=head.size if head is not None else 0,
            root_hash=b64(self.frontier.root()) if ok else None,
        )

    def _pages(self) -> Iterator[list[Row[Any]]]:
        """Yield sealed events by leaf index, one keyset page at a time."""
        after: int | None = None
        while True:
            query = select(*RAW_SEALED_SELECT).where(AccessEvent.chain_position.is_not(None))
            if after is not None:
                query = query.where(AccessEvent.chain_position > after)
            page = self.session.execute(
                query.order_by(AccessEvent.chain_position).limit(self.batch_size)
            ).all()
            yield list(page)
            if len(page) < self.batch_size:
                return
            after = page[-1].chain_position

    def _leaf(self, row: Row[Any], has_head: bool) -> None:
        expected, index = self.frontier.size, row.chain_position
        where = f"event {row.seq} (leaf {index})"
        if not has_head:
            raise _Found(f"the tree head is missing but {where} is sealed", row.seq, index)
        if index < expected:
            raise _Found(f"{where} lies outside the tree", row.seq, index)
        if index > expected:
            before = (
                f"event {self.last.seq} (leaf {expected - 1})"
                if self.last is not None
                else "the start"
            )
            raise _Found(
                f"leaf {expected} is missing: the log jumps from {before} to {where}; "
                "an event was removed",
                None,
                expected,
            )
        if row.entry_hash is None:
            raise _Found(f"{where} has a leaf index but no leaf hash", row.seq, index)
        try:
            digest: bytes | None = event_leaf_hash(row, index)
        except (TypeError, ValueError):
            digest = None  # contents no event can hold: altered, like a hash mismatch
        if digest != row.entry_hash:
            raise _Found(
                f"{where} does not match its leaf hash: it was altered, or moved from another "
                "place in the log",
                row.seq,
                index,
            )
        self.kept += self.frontier.append(row.entry_hash)
        self.last = row

    def _check_kept(self) -> None:
        """Compare the subtree hashes the pass completed with the ones stored for proofs."""
        by_level: dict[int, dict[int, bytes]] = {}
        for level, index, digest in self.kept:
            by_level.setdefault(level, {})[index] = digest
        self.kept = []
        for level, computed in sorted(by_level.items()):
            rows = self.session.execute(
                select(AccessTreeNode.node_index, AccessTreeNode.hash).where(
                    AccessTreeNode.level == level,
                    AccessTreeNode.node_index.between(min(computed), max(computed)),
                )
            )
            stored = {index: digest for index, digest in rows}
            for index, digest in sorted(computed.items()):
                if stored.get(index) != digest:
                    first, last = index << level, ((index + 1) << level) - 1
                    state = "is missing" if index not in stored else "does not match them"
                    raise _Found(
                        f"the kept hash of leaves {first} to {last} (level {level}) {state}",
                        None,
                        None,
                    )

    def _checkpoints_up_to(self, size: int) -> None:
        """Check every checkpoint of a tree no larger than the one rebuilt so far."""
        while self.upcoming is not None and self.upcoming.tree_size <= size:
            checkpoint, self.upcoming = self.upcoming, next(self.checkpoints, None)
            self._signed(checkpoint)
            if checkpoint.tree_size < size or checkpoint.root_hash != self.frontier.root():
                since = self.previous.tree_size if self.previous is not None else 0
                raise _Found(
                    f"checkpoint {checkpoint.tree_size} does not match the tree rebuilt from the "
                    f"events: one of leaves {since} to {checkpoint.tree_size - 1} was altered "
                    "and its leaf hash rewritten, or events were reordered",
                    None,
                    None,
                    checkpoint.tree_size,
                )
            self._consistent(checkpoint)
            self.previous = checkpoint
            self.verified += 1

    def _signed(self, checkpoint: CheckpointView) -> None:
        problem = signature_problem(checkpoint, self.keys)
        if problem is not None:
            raise _Found(
                f"checkpoint {checkpoint.tree_size} is forged: {problem}",
                None,
                None,
                checkpoint.tree_size,
            )

    def _consistent(self, checkpoint: CheckpointView) -> None:
        """Prove the previous checkpoint's tree a prefix of this one from the stored hashes."""
        previous = self.previous
        if previous is None or previous.tree_size == 0:
            return
        self._check_kept()
        first, second = previous.tree_size, checkpoint.tree_size
        try:
            proof = consistency_path(first, second, self.store.perfect)
        except MissingNodeError as exc:
            raise _Found(
                f"no consistency proof from checkpoint {first} to checkpoint {second}: {exc}",
                None,
                None,
                second,
            ) from None
        if not verify_consistency(first, second, previous.root_hash, checkpoint.root_hash, proof):
            raise _Found(
                f"the consistency proof from checkpoint {first} to checkpoint {second} does "
                "not verify",
                None,
                None,
                second,
            )

    def _nothing_beyond(self) -> None:
        """A checkpoint of a larger tree than the events make means leaves were removed."""
        checkpoint, end = self.upcoming, self.frontier.size
        if checkpoint is None:
            return
        self._signed(checkpoint)
        raise _Found(
            f"checkpoint {checkpoint.tree_size} covers leaves 0 to {checkpoint.tree_size - 1} "
            f"but the log ends at leaf {end - 1}: leaves {end} to {checkpoint.tree_size - 1} "
            "were removed",
            None,
            end,
            checkpoint.tree_size,
        )

    def _head(self, head: Row[Any] | None) -> None:
        size = self.frontier.size
        if head is None:
            return  # no leaf is sealed, or the first leaf already said the head is missing
        if head.size > size:
            raise _Found(
                f"the tree head counts {head.size} leaves but the log ends at leaf {size - 1}: "
                f"leaves {size} to {head.size - 1} were removed",
                None,
                size,
            )
        if head.size < size:
            seq = self.session.scalar(
                select(AccessEvent.seq).where(AccessEvent.chain_position == head.size)
            )
            raise _Found(
                f"the tree head counts {head.size} leaves but the log runs on to leaf {size - 1} "
                f"from event {seq} (leaf {head.size}): the head was rolled back",
                seq,
                head.size,
            )
        if head.root_hash != self.frontier.root() or head.frontier != self.frontier.to_bytes():
            raise _Found(
                "the tree head's root does not match the tree rebuilt from the events",
                None,
                None,
            )

    def _no_orphans(self) -> None:
        orphan = self.session.scalar(
            select(func.min(AccessEvent.seq)).where(
                AccessEvent.entry_hash.is_not(None), AccessEvent.chain_position.is_(None)
            )
        )
        if orphan is not None:
            raise _Found(f"event {orphan} has a leaf hash but no leaf index", orphan, None)
