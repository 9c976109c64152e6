"""The access log table and the RFC 9162 Merkle tree the sealer builds over it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from vault.orm import Base, UTCDateTime

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit sequence.
Sequence = BigInteger().with_variant(Integer(), "sqlite")


class AccessEvent(Base):
    """One logged event. Readers append it in their own transaction and never wait for the
    tree: the sealer later gives it its leaf index (`chain_position`, from 0) and stores its
    RFC 9162 leaf hash (`entry_hash`)."""

    __tablename__ = "access_events"
    __table_args__ = (
        Index("ix_access_events_customer_seq", "customer_id", "seq"),
        Index("ix_access_events_agreement_seq", "agreement_id", "seq"),
        # The sealer looks for what it has not sealed yet; keep that lookup small.
        Index(
            "ix_access_events_unsealed",
            "seq",
            postgresql_where=text("entry_hash IS NULL"),
            sqlite_where=text("entry_hash IS NULL"),
        ),
    )

    seq: Mapped[int] = mapped_column(Sequence, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(40), default="allowed")
    actor: Mapped[str] = mapped_column(String(120))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    business_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    agreement_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    purpose: Mapped[str | None] = mapped_column(String(40))
    fields: Mapped[list[str] | None] = mapped_column(JSON)
    detail: Mapped[str | None] = mapped_column(String(400))
    # The column names predate the Merkle tree; they hold the leaf index and the leaf hash.
    chain_position: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    entry_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))


class TreeHead(Base):
    """Where the sealer stopped: the tree size, its root and its right edge.

    The frontier holds the roots of the perfect subtrees the tree is made of, largest first
    (one per bit set in `size`), so the next leaf is appended without reading old ones.
    """

    __tablename__ = "access_tree_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    frontier: Mapped[bytes] = mapped_column(LargeBinary(64 * 32))
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime())


# The name emanet.schema still imports.
ChainHead = TreeHead


class AccessTreeNode(Base):
    """The hash of a perfect subtree of 16**k leaves (k >= 1), kept so that a proof needs a
    few dozen rows, not the whole log. Node `node_index` at `level` covers the leaves
    [node_index * 2**level, (node_index + 1) * 2**level)."""

    __tablename__ = "access_tree_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    node_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AccessCheckpoint(Base):
    """A signed statement of the tree's size and root at a time (Ed25519, see checkpoints)."""

    __tablename__ = "access_checkpoints"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kid: Mapped[str] = mapped_column(String(64))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
