"""Tables of the business's own records: pipeline stages, deals, tasks, notes, saved views
and request templates.

A customer appears here only by the business's pairwise identifier (`subject`, DESIGN
invariant 7). Free text (titles, details, note bodies) is sealed under the business's key
(`records.keys`); amounts, dates and stages stay clear so stage totals and due lists are
plain SQL, and they are the business's commercial figures, not the customer's data.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from vault.orm import Base, UTCDateTime


class PipelineStage(Base):
    """One column of a business's deal board; `code` names a default stage, `name` a custom one."""

    __tablename__ = "pipeline_stages"
    __table_args__ = (
        Index("ix_pipeline_stages_business_position", "business_id", "position"),
        # Two first visits at once must not make the default pipeline twice.
        UniqueConstraint("business_id", "code"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    business_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str | None] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(60))
    # "open", "won" or "lost": what a deal in this stage counts as.
    outcome: Mapped[str] = mapped_column(String(8), default="open")


class Deal(Base):
    """A sale the business is working on with one customer."""

    __tablename__ = "deals"
    __table_args__ = (
        Index("ix_deals_business_subject", "business_id", "subject"),
        Index("ix_deals_business_stage", "business_id", "stage_id", "position"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    business_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(40))
    stage_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pipeline_stages.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # {"title": ..., "details": ...} sealed under the business key.
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    expected_close: Mapped[date | None] = mapped_column(Date)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Task(Base):
    """Something a staff member must do, about a customer or a deal, by a day."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_business_assignee_due", "business_id", "assignee_id", "due_on"),
        Index("ix_tasks_business_subject", "business_id", "subject"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    business_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    subject: Mapped[str | None] = mapped_column(String(40))
    deal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"))
    # {"title": ..., "details": ...} sealed under the business key.
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    due_on: Mapped[date] = mapped_column(Date)
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_users.id"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Note(Base):
    """A note a staff member wrote about a customer."""

    __tablename__ = "notes"
    __table_args__ = (Index("ix_notes_business_subject", "business_id", "subject"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    business_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(40))
    # {"body": ...} sealed under the business key.
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SavedView(Base):
    """A staff member's named search, filters and sort of the customer list."""

    __tablename__ = "saved_views"
    __table_args__ = (Index("ix_saved_views_staff", "staff_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    business_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    # The list's query string parameters, as they were when saved.
    query: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RequestTemplate(Base):
    """A business's reusable request: purpose, fields, term and retention."""

    __tablename__ = "request_templates"
    __table_args__ = (Index("ix_request_templates_business", "business_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    business_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    # schemas.agreements.AgreementTerms as JSON.
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CustomerTag(Base):
    """A label the business puts on a customer ("collector", "wholesale") to filter by.

    Tags are the business's own short vocabulary, kept clear so the list can filter on them.
    """

    __tablename__ = "customer_tags"
    __table_args__ = (Index("ix_customer_tags_business_tag", "business_id", "tag"),)

    business_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), primary_key=True
    )
    subject: Mapped[str] = mapped_column(String(40), primary_key=True)
    tag: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
