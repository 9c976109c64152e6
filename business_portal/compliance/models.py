"""Tables of the compliance console: auditors, reviews, log verifications and report jobs.

None of them holds customer data. A review names an agreement, never a customer; a report job
keeps aggregate figures (counts per purpose, field and client) and the business's own terms.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from vault.orm import Base, UTCDateTime


class Auditor(Base):
    """An operator-level auditor: reads every business's agreements, by pseudonymous ids only."""

    __tablename__ = "compliance_auditors"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ReviewEvent(Base):
    """One step of an agreement's review: a comment, a change request or a sign-off.

    Rows are only ever added; the history of a review is these rows in `id` order.
    """

    __tablename__ = "compliance_review_events"
    __table_args__ = (
        Index("ix_compliance_review_events_agreement", "agreement_id", "id"),
        Index("ix_compliance_review_events_business", "business_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agreement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agreements.id"))
    # The agreement's business, kept here so every lookup can filter by tenant first.
    business_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    # "comment", "change_requested" or "signed_off".
    kind: Mapped[str] = mapped_column(String(24))
    # "staff:<id>" or "auditor:<id>", and the name shown at the time.
    actor: Mapped[str] = mapped_column(String(120))
    actor_name: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    comment: Mapped[str | None] = mapped_column(Text)
    # A change request may name the business's request template to change.
    template_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("request_templates.id", ondelete="SET NULL")
    )
    agreement_version: Mapped[int] = mapped_column(Integer)
    # The automatic flags that were raised when this step was taken (codes).
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)


class AgreementReview(Base):
    """Where an agreement's review stands now: the newest decisive step, for filtering."""

    __tablename__ = "compliance_agreement_reviews"
    __table_args__ = (Index("ix_compliance_agreement_reviews_business", "business_id", "state"),)

    agreement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agreements.id"), primary_key=True)
    business_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    # "in_review", "changes_requested" or "signed_off"; no row means not reviewed yet.
    state: Mapped[str] = mapped_column(String(24))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LogVerification(Base):
    """One run of the access log's verification, as an officer started it, and what it found."""

    __tablename__ = "compliance_log_verifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_by: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # "running", "done" or "failed" (the run itself broke, not the log).
    status: Mapped[str] = mapped_column(String(16))
    ok: Mapped[bool | None] = mapped_column(Boolean)
    checked: Mapped[int | None] = mapped_column(BigInteger)
    first_bad_seq: Mapped[int | None] = mapped_column(BigInteger)
    problem: Mapped[str | None] = mapped_column(Text)


class ReportJob(Base):
    """A report being generated in the background, its progress, and the finished file."""

    __tablename__ = "compliance_report_jobs"
    __table_args__ = (Index("ix_compliance_report_jobs_requester", "requested_by", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # The business reported on; empty for an auditor's report on every business.
    business_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    requested_by: Mapped[str] = mapped_column(String(120))
    # "processing" (GDPR Art. 30 records) or "access" (reads in a period).
    kind: Mapped[str] = mapped_column(String(16))
    # "csv" or "pdf".
    file_format: Mapped[str] = mapped_column(String(8))
    period_from: Mapped[date | None] = mapped_column(Date)
    period_to: Mapped[date | None] = mapped_column(Date)
    locale: Mapped[str] = mapped_column(String(8))
    # "queued", "running", "done" or "failed".
    status: Mapped[str] = mapped_column(String(16))
    steps_done: Mapped[int] = mapped_column(Integer, default=0)
    steps_total: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    error: Mapped[str | None] = mapped_column(String(400))
