"""The latest RFM scores of a business's customers (derived from its own purchases)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, Numeric, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from vault.orm import Base, UTCDateTime


class RfmScore(Base):
    """One customer's recency, frequency and monetary scores (1-5) and segment name."""

    __tablename__ = "rfm_scores"
    __table_args__ = (Index("ix_rfm_scores_business_segment", "business_id", "segment"),)

    business_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), primary_key=True
    )
    subject: Mapped[str] = mapped_column(String(40), primary_key=True)
    agreement_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    recency: Mapped[int] = mapped_column(Integer)
    frequency: Mapped[int] = mapped_column(Integer)
    monetary: Mapped[int] = mapped_column(Integer)
    segment: Mapped[str] = mapped_column(String(24))
    last_purchase_at: Mapped[datetime] = mapped_column(UTCDateTime())
    purchases: Mapped[int] = mapped_column(Integer)
    # In `currency`, the business's reporting currency (segments.rfm.reporting_currency).
    spent: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    currency: Mapped[str] = mapped_column(String(3))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
