"""The access log table and the head of its hash chain."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, Integer, LargeBinary, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from vault.orm import Base, UTCDateTime

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit sequence.
Sequence = BigInteger().with_variant(Integer(), "sqlite")


class AccessEvent(Base):
    """One logged event. Readers append it in their own transaction and never wait for the
    chain: `chain_position` and `entry_hash` are filled in later by the sealer."""

    __tablename__ = "access_events"
    __table_args__ = (
        Index("ix_access_events_customer_seq", "customer_id", "seq"),
        Index("ix_access_events_agreement_seq", "agreement_id", "seq"),
        # The sealer looks for what it has not chained yet; keep that lookup small.
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
    chain_position: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    entry_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))


class ChainHead(Base):
    """Where the sealer stopped: how many events are chained and the hash of the last one."""

    __tablename__ = "access_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    length: Mapped[int] = mapped_column(BigInteger, default=0)
    head_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime())
