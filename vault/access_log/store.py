"""Perfect subtree hashes read back from the database, for proofs and verification.

Level 0 is the leaf hashes on the events; levels 4, 8, 12, ... are kept in
`access_tree_nodes`; any other level is folded from at most 8 hashes of the kept level
below it. A proof therefore reads O(log n) small ranges, never the whole log.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.access_log.merkle import node_hash
from vault.access_log.models import AccessEvent, AccessTreeNode

# Keep a node every KEEP_EVERY levels: about one stored node per 15 leaves.
KEEP_EVERY = 4


class MissingNodeError(LookupError):
    """A hash the tree needs is not stored: leaves or kept nodes were removed."""


class SubtreeStore:
    """Read perfect subtree hashes through one session, remembering the ones it read."""

    def __init__(self, session: Session, cache_size: int = 4096) -> None:
        self.session = session
        self._cache: dict[tuple[int, int], bytes] = {}
        self._cache_size = cache_size

    def perfect(self, level: int, index: int) -> bytes:
        """Return the hash of the 2**level leaves from leaf index * 2**level."""
        key = (level, index)
        found = self._cache.get(key)
        if found is not None:
            return found
        base = level - level % KEEP_EVERY
        width = 1 << (level - base)
        first = index * width
        row = self._stored(base, first, first + width - 1)
        if len(row) != width:
            raise MissingNodeError(self._missing(base, first, width, row))
        while len(row) > 1:
            row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row), 2)]
        if len(self._cache) >= self._cache_size:
            self._cache.clear()  # proofs of one tree share their large subtrees; start afresh
        self._cache[key] = row[0]
        return row[0]

    def _stored(self, level: int, first: int, last: int) -> list[bytes]:
        if level == 0:
            query = (
                select(AccessEvent.entry_hash)
                .where(AccessEvent.chain_position.between(first, last))
                .order_by(AccessEvent.chain_position)
            )
        else:
            query = (
                select(AccessTreeNode.hash)
                .where(
                    AccessTreeNode.level == level, AccessTreeNode.node_index.between(first, last)
                )
                .order_by(AccessTreeNode.node_index)
            )
        return [value for value in self.session.scalars(query) if value is not None]

    @staticmethod
    def _missing(level: int, first: int, width: int, found: list[bytes]) -> str:
        lost = width - len(found)
        are = "is" if lost == 1 else "are"
        if level == 0:
            return (
                f"leaves {first} to {first + width - 1} should all be sealed, "
                f"but {lost} of them {are} missing or without a leaf hash"
            )
        return (
            f"the kept subtree hashes {first} to {first + width - 1} at level {level} "
            f"should all be stored, but {lost} of them {are} missing"
        )
