"""The search index of the customer list: keyed hashes of granted values, never the values."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from vault.orm import Base, UTCDateTime


class SearchTerm(Base):
    """One term of one granted field of one agreement, as the business key's HMAC."""

    __tablename__ = "portal_search_terms"
    __table_args__ = (Index("ix_portal_search_terms_lookup", "business_id", "term_hash"),)

    agreement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True
    )
    field_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    term_hash: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)
    business_id: Mapped[uuid.UUID] = mapped_column(Uuid)


class IndexedAgreement(Base):
    """When an agreement's granted values were last indexed, and which fields had a value."""

    __tablename__ = "portal_indexed_agreements"
    __table_args__ = (Index("ix_portal_indexed_agreements_business", "business_id"),)

    agreement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True
    )
    business_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    # Space-separated keys of the granted fields that hold a value (for "field present").
    present_fields: Mapped[str] = mapped_column(String(1000), default="")
    indexed_at: Mapped[datetime] = mapped_column(UTCDateTime())
