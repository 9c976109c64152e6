"""Agreement tables: the agreement as it stands, and every event that brought it there."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from vault.orm import Base, UTCDateTime


class Agreement(Base):
    """A data-sharing agreement between one customer and one business.

    `customer_id` is empty while a request waits for a customer to sign in on the consent
    screen. The business is kept as it was shown at consent (`business`), since its current
    record lives in the broker.
    """

    __tablename__ = "agreements"
    __table_args__ = (Index("ix_agreements_business_status", "business_id", "status"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"), index=True)
    business_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    client_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    granted_fields: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    business: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agreements.id"))
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AgreementEvent(Base):
    """One state change of an agreement, with who made it, when, and from where.

    `state` is the agreement's state after the event, so the current state can be rebuilt
    from the events alone (DESIGN invariant 9) and consecutive versions can be compared.
    """

    __tablename__ = "agreement_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agreement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agreements.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(400))
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
