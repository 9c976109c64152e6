"""Which customers a business may see now: those with an active agreement (DESIGN invariant 6).

Every portal page asks here, at every load, so a customer whose agreement ended is gone from
lists, cards, boards and segments at the next page load. Only the agreement's state is read
here; the customer's data itself comes through the gate.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, or_, select

from broker.businesses.models import PairwiseSubject
from business_portal.records.planner_hints import unindexed
from schemas.agreements import AgreementStatus
from vault.agreements.models import Agreement
from vault.unit_of_work import UnitOfWork


def agreement_is_active(business_id: uuid.UUID, now: datetime) -> ColumnElement[bool]:
    """Return the SQL condition of this business's agreements in force at `now`."""
    return and_(
        Agreement.business_id == business_id,
        Agreement.status == AgreementStatus.ACTIVE.value,
        Agreement.customer_id.is_not(None),
        or_(Agreement.valid_until.is_(None), Agreement.valid_until > now),
    )


def active_by_key(business_id: uuid.UUID, now: datetime) -> ColumnElement[bool]:
    """Return `agreement_is_active` for agreements looked up by id or by customer id.

    The business's (business_id, status) index is kept out of the planner's choice: it holds
    every active agreement of the business, where these lookups want one or a few.
    """
    return and_(
        unindexed(Agreement.business_id) == business_id,
        unindexed(Agreement.status) == AgreementStatus.ACTIVE.value,
        Agreement.customer_id.is_not(None),
        or_(Agreement.valid_until.is_(None), Agreement.valid_until > now),
    )


def connected_subjects(business_id: uuid.UUID, now: datetime) -> Select[tuple[str]]:
    """Return a query of the pairwise ids of customers with an active agreement at `now`."""
    return (
        select(PairwiseSubject.subject)
        .join(
            Agreement,
            and_(
                Agreement.customer_id == PairwiseSubject.customer_id,
                Agreement.business_id == PairwiseSubject.business_id,
            ),
        )
        .where(PairwiseSubject.business_id == business_id, agreement_is_active(business_id, now))
        .distinct()
    )


@dataclass(frozen=True)
class Connection:
    """A connected customer as the business knows them: pairwise id and active agreements."""

    subject: str
    customer_id: uuid.UUID
    agreements: list[Agreement]


def connection_for(uow: UnitOfWork, business_id: uuid.UUID, subject: str) -> Connection | None:
    """Return the customer behind `subject` if this business has an active agreement with them."""
    customer_id = uow.session.scalar(
        select(PairwiseSubject.customer_id).where(
            PairwiseSubject.business_id == business_id, PairwiseSubject.subject == subject
        )
    )
    if customer_id is None:
        return None
    agreements = list(
        uow.session.scalars(
            select(Agreement)
            .where(
                Agreement.customer_id == customer_id, agreement_is_active(business_id, uow.now())
            )
            .order_by(Agreement.decided_at.desc(), Agreement.id)
        )
    )
    if not agreements:
        return None
    return Connection(subject, customer_id, agreements)


def visible_subjects(uow: UnitOfWork, business_id: uuid.UUID, subjects: set[str]) -> set[str]:
    """Return which of these pairwise ids belong to customers connected now."""
    if not subjects:
        return set()
    query = connected_subjects(business_id, uow.now()).where(
        PairwiseSubject.subject.in_(sorted(subjects))
    )
    return set(uow.session.scalars(query))
