"""The consent receipt table: the signed copy of each decision, as it was issued."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from vault.orm import Base, UTCDateTime


class ReceiptKind(StrEnum):
    """Which decision a receipt records."""

    GRANTED = "granted"
    PARTIALLY_GRANTED = "partially_granted"
    DECLINED = "declined"
    AMENDED = "amended"
    REVOKED = "revoked"
    NARROWED = "narrowed"


class ConsentReceipt(Base):
    """A consent receipt: a JWS (compact serialization) signed with the keyring's Ed25519 key.

    The JWS is kept exactly as issued, so the customer, the business and a compliance
    officer can all check the same bytes against the published JWKS. One receipt per
    agreement event at most (`event_id` is unique).
    """

    __tablename__ = "consent_receipts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    agreement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agreements.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("agreement_events.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(24))
    kid: Mapped[str] = mapped_column(String(64))
    jws: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
