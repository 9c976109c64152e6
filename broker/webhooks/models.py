"""Tables of webhook endpoints and of each event's delivery to each endpoint."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from vault.orm import Base, UTCDateTime

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"


class WebhookEndpoint(Base):
    """A URL of a business that hears about its events, signed with the endpoint's secret."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    business_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("businesses.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    # The signing secret must be usable to sign, so it cannot be hashed like a client secret;
    # it is AES-GCM sealed under a key derived from the keyring (see services.seal_secret).
    sealed_secret: Mapped[bytes] = mapped_column(LargeBinary)
    event_types: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Highest outbox seq already fanned out to this endpoint.
    last_outbox_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class WebhookDelivery(Base):
    """One outbox event on its way to one endpoint: its attempts and their outcome."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # An event is delivered once per endpoint, whichever worker fans it out.
        UniqueConstraint("endpoint_id", "outbox_event_id"),
        Index("ix_webhook_deliveries_status_due", "status", "next_attempt_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    endpoint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_endpoints.id"))
    outbox_event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("outbox_events.id"))
    event_type: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(200))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
