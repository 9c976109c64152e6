"""The customer list's read model: keyed hashes of granted values (never the values), the
customers to list with their sort keys, and how far each business's outbox has been read.

Everything here is derived from the agreements and, through the gate, the granted values;
it can be dropped and rebuilt from the outbox (`search_index.refresh_search_index`).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from vault.orm import Base, UTCDateTime


class SearchTerm(Base):
    """One term of one granted field of one agreement, as the business key's HMAC."""

    __tablename__ = "portal_search_terms"
    # Covering: a search word is answered from the index alone, then joined to its agreement.
    __table_args__ = (
        Index("ix_portal_search_terms_lookup", "business_id", "term_hash", "agreement_id"),
    )

    agreement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True
    )
    field_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    term_hash: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)
    business_id: Mapped[uuid.UUID] = mapped_column(Uuid)


class IndexedAgreement(Base):
    """When an agreement's granted values were last indexed, and which fields had a value."""

    __tablename__ = "portal_indexed_agreements"
    __table_args__ = (Index("ix_portal_indexed_agreements_subject", "business_id", "subject"),)

    agreement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True
    )
    business_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    subject: Mapped[str] = mapped_column(String(40))
    # Keys of the granted fields that hold a value, each with a space on both sides
    # (" contact.email identity.given_name "), so "field present" is one LIKE.
    present_fields: Mapped[str] = mapped_column(String(1000), default="")
    indexed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ListedCustomer(Base):
    """A customer the list shows, with the sort keys of their active agreements.

    Only a row to start from: every page still checks that an active agreement exists, so a
    revoked customer is gone at the next load even before the index hears of it.
    """

    __tablename__ = "portal_listed_customers"
    __table_args__ = (
        Index("ix_portal_listed_customers_since", "business_id", "connected_since", "subject"),
        Index("ix_portal_listed_customers_ends", "business_id", "ends_at", "subject"),
    )

    business_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), primary_key=True
    )
    subject: Mapped[str] = mapped_column(String(40), primary_key=True)
    # The start of the earliest active agreement, and the end of the one that ends last
    # (a far-off date when one has no end, so both backends sort it the same way).
    connected_since: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SearchCursor(Base):
    """How far the index has read one business's outbox, and which fields it has seen granted."""

    __tablename__ = "portal_search_cursors"

    business_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), primary_key=True
    )
    # Every event up to `last_seq` was read once; those above `floor_seq` may still be
    # joined by a late commit, so they are looked at again (see SearchSeenEvent).
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    floor_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    late_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # One refresh at a time per business: who holds it, and until when.
    lease_token: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Space-separated keys of every readable field any indexed agreement granted: the
    # list's columns, kept here so no page has to look at every agreement.
    field_keys: Mapped[str] = mapped_column(String(2000), default="")


class SearchSeenEvent(Base):
    """An outbox event the index has handled, kept while a late commit could still precede it."""

    __tablename__ = "portal_search_seen_events"

    business_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
