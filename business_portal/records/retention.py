"""Deleting the business's own records once an agreement has ended and its retention has run.

GDPR Art. 5(1)(e), storage limitation: a business may keep what it holds about a customer for
the retention its agreement named, counted from the agreement's end. Deals, tasks, notes,
tags and RFM scores about a pairwise id go when no agreement with that customer is active and
the last retention period has run out; each deletion is written to the access log.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, union

from broker.businesses.models import PairwiseSubject
from business_portal.records.models import CustomerTag, Deal, Note, Task
from business_portal.segments.models import RfmScore
from schemas.agreements import AgreementStatus
from schemas.durations import CalendarDuration
from vault.access_log.services import LogEntry, append_event
from vault.agreements.models import Agreement
from vault.agreements.services import current_status
from vault.unit_of_work import UnitOfWork, Vault

# Agreements that once let the business hold data; a declined or unanswered one never did.
_ONCE_GRANTED = (
    AgreementStatus.ACTIVE.value,
    AgreementStatus.REVOKED.value,
    AgreementStatus.EXPIRED.value,
    AgreementStatus.SUPERSEDED.value,
)
_RECORD_TABLES = (("deals", Deal), ("tasks", Task), ("notes", Note), ("tags", CustomerTag))


@dataclass(frozen=True)
class RetentionDeletion:
    """What was deleted about one customer of one business, and why it was due."""

    business_id: uuid.UUID
    subject: str
    due_at: datetime
    counts: dict[str, int]


def _subjects_with_records(uow: UnitOfWork) -> list[tuple[uuid.UUID, str]]:
    query = union(
        *(select(table.business_id, table.subject) for _name, table in _RECORD_TABLES),
        select(RfmScore.business_id, RfmScore.subject),
    )
    rows = uow.session.execute(query).all()
    return sorted((business_id, subject) for business_id, subject in rows if subject is not None)


def deletion_due(agreements: Iterable[Agreement], now: datetime) -> tuple[bool, datetime | None]:
    """Return (whether the records may go now, when they became due) for one customer."""
    due: datetime | None = None
    for agreement in agreements:
        status = current_status(agreement, now)
        if status is AgreementStatus.ACTIVE:
            return False, None
        ended = agreement.ended_at or agreement.valid_until or agreement.updated_at
        retention = CalendarDuration.parse(str(agreement.terms.get("retention", "P0D") or "P0D"))
        until = retention.after(ended)
        due = until if due is None else max(due, until)
    if due is None:  # records about someone who never granted anything: nothing allows them
        return True, now
    return due <= now, due


def _delete_records(uow: UnitOfWork, business_id: uuid.UUID, subject: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    deal_ids = select(Deal.id).where(Deal.business_id == business_id, Deal.subject == subject)
    # Tasks on those deals go with them, whoever they name.
    counts["tasks"] = uow.session.execute(
        delete(Task).where(
            Task.business_id == business_id, (Task.subject == subject) | Task.deal_id.in_(deal_ids)
        )
    ).rowcount
    for name, table in _RECORD_TABLES:
        if name != "tasks":
            counts[name] = uow.session.execute(
                delete(table).where(table.business_id == business_id, table.subject == subject)
            ).rowcount
    counts["scores"] = uow.session.execute(
        delete(RfmScore).where(RfmScore.business_id == business_id, RfmScore.subject == subject)
    ).rowcount
    return counts


def delete_expired_records(
    uow: UnitOfWork, business_id: uuid.UUID, subject: str
) -> RetentionDeletion | None:
    """Delete one customer's records if their retention has run out; log it; commit."""
    customer_id = uow.session.scalar(
        select(PairwiseSubject.customer_id).where(
            PairwiseSubject.business_id == business_id, PairwiseSubject.subject == subject
        )
    )
    agreements = []
    if customer_id is not None:
        agreements = list(
            uow.session.scalars(
                select(Agreement).where(
                    Agreement.business_id == business_id,
                    Agreement.customer_id == customer_id,
                    Agreement.status.in_(_ONCE_GRANTED),
                )
            )
        )
    now = uow.now()
    due, due_at = deletion_due(agreements, now)
    if not due or due_at is None:
        uow.rollback()
        return None
    counts = _delete_records(uow, business_id, subject)
    detail = " ".join(f"{name}={count}" for name, count in sorted(counts.items()))
    append_event(
        uow,
        LogEntry(
            kind="records.deleted",
            actor="retention",
            customer_id=customer_id,
            business_id=business_id,
            detail=f"{subject} retention ended {due_at.isoformat()}: {detail}",
        ),
    )
    uow.commit()
    return RetentionDeletion(business_id, subject, due_at, counts)


def run_retention(vault: Vault) -> list[RetentionDeletion]:
    """Delete every business's records whose retention has run out, one customer at a time."""
    with vault.unit_of_work(write=False) as uow:
        candidates = _subjects_with_records(uow)
    deletions = []
    for business_id, subject in candidates:
        with vault.unit_of_work() as uow:
            deletion = delete_expired_records(uow, business_id, subject)
        if deletion is not None:
            deletions.append(deletion)
    return deletions
