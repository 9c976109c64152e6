"""The dashboard's figures: agreements, requests, endings, deals per stage, my due tasks.

Counts come from the agreements' state, never from customers' data; a customer who ended an
agreement is named only by the business's pairwise id. Deals about customers no longer
connected are left out of the stage totals, as they are from the board.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, func, or_, select

from broker.businesses.models import PairwiseSubject
from business_portal.records.connections import agreement_is_active, connected_subjects
from business_portal.records.models import Deal, PipelineStage
from business_portal.records.stages import DEFAULT_STAGES
from business_portal.tasks.queries import TaskPage, list_tasks
from schemas.agreements import AgreementStatus
from vault.agreements.models import Agreement
from vault.unit_of_work import UnitOfWork

# How far back the dashboard counts revocations and expiries.
RECENT = timedelta(days=30)
# How many recent endings and due tasks the dashboard lists.
LIST_LIMIT = 10
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Ending:
    """An agreement that ended lately: revoked or expired, when, and with whom if known."""

    kind: str
    at: datetime
    subject: str | None


@dataclass(frozen=True)
class StageTotal:
    """One stage of the pipeline: how many deals, and their amounts per currency."""

    stage: PipelineStage
    count: int
    sums: list[tuple[str, Decimal]]


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard shows."""

    active_agreements: int
    connected_customers: int
    pending_requests: int
    revoked: int
    expired: int
    endings: list[Ending]
    stages: list[StageTotal]
    overdue: TaskPage
    due_today: TaskPage


def _count(uow: UnitOfWork, *conditions: ColumnElement[bool]) -> int:
    return int(uow.session.scalar(select(func.count()).select_from(Agreement).where(*conditions)))


def _revoked_since(business_id: uuid.UUID, since: datetime, now: datetime) -> ColumnElement[bool]:
    return and_(
        Agreement.business_id == business_id,
        Agreement.status == AgreementStatus.REVOKED.value,
        Agreement.ended_at > since,
        Agreement.ended_at <= now,
    )


def _expired_since(business_id: uuid.UUID, since: datetime, now: datetime) -> ColumnElement[bool]:
    # An expiry is written down only when someone next reads under the agreement, so an
    # active agreement whose term ran out counts as expired too.
    return and_(
        Agreement.business_id == business_id,
        Agreement.status.in_([AgreementStatus.ACTIVE.value, AgreementStatus.EXPIRED.value]),
        Agreement.valid_until > since,
        Agreement.valid_until <= now,
    )


def recent_endings(
    uow: UnitOfWork, business_id: uuid.UUID, now: datetime, limit: int = LIST_LIMIT
) -> list[Ending]:
    """Return the agreements revoked or expired in the last 30 days, the newest first."""
    since = now - RECENT
    ended_at = func.coalesce(Agreement.ended_at, Agreement.valid_until)
    revoked = _revoked_since(business_id, since, now)
    rows = uow.session.execute(
        select(Agreement.status, Agreement.ended_at, Agreement.valid_until, PairwiseSubject.subject)
        .outerjoin(
            PairwiseSubject,
            and_(
                PairwiseSubject.business_id == Agreement.business_id,
                PairwiseSubject.customer_id == Agreement.customer_id,
            ),
        )
        .where(or_(revoked, _expired_since(business_id, since, now)))
        .order_by(ended_at.desc(), Agreement.id)
        .limit(limit)
    ).all()
    endings = []
    for status, ended, valid_until, subject in rows:
        if status == AgreementStatus.REVOKED.value:
            endings.append(Ending("revoked", ended, subject))
        else:
            endings.append(Ending("expired", valid_until, subject))
    return endings


def _stages(uow: UnitOfWork, business_id: uuid.UUID) -> list[PipelineStage]:
    """Return the business's stages; before its first deal, the default ones (not stored)."""
    stages = list(
        uow.session.scalars(
            select(PipelineStage)
            .where(PipelineStage.business_id == business_id)
            .order_by(PipelineStage.position)
        )
    )
    # The board stores the default pipeline on first use; the dashboard only reads.
    return stages or [
        PipelineStage(position=i, code=code, name=None, outcome=outcome)
        for i, (code, outcome) in enumerate(DEFAULT_STAGES)
    ]


def stage_totals(uow: UnitOfWork, business_id: uuid.UUID, now: datetime) -> list[StageTotal]:
    """Return every stage with its number of deals and their sum per currency."""
    rows = uow.session.execute(
        select(Deal.stage_id, Deal.currency, func.count(), func.sum(Deal.amount))
        .where(
            Deal.business_id == business_id,
            Deal.subject.in_(connected_subjects(business_id, now)),
        )
        .group_by(Deal.stage_id, Deal.currency)
    ).all()
    counts: dict[uuid.UUID, int] = {}
    sums: dict[uuid.UUID, list[tuple[str, Decimal]]] = {}
    for stage_id, currency, count, total in rows:
        counts[stage_id] = counts.get(stage_id, 0) + int(count)
        if currency and total is not None:
            # SQLite sums decimals as floats: back to cents.
            amount = Decimal(str(total)).quantize(CENT)
            sums.setdefault(stage_id, []).append((currency, amount))
    return [
        StageTotal(stage, counts.get(stage.id, 0), sorted(sums.get(stage.id, [])))
        for stage in _stages(uow, business_id)
    ]


def dashboard_figures(
    uow: UnitOfWork, business_id: uuid.UUID, staff_id: uuid.UUID, today: date
) -> Dashboard:
    """Return the dashboard of one staff member of a business, as of now and `today`."""
    now = uow.now()
    since = now - RECENT
    active = agreement_is_active(business_id, now)
    customers = select(func.count()).select_from(connected_subjects(business_id, now).subquery())
    return Dashboard(
        active_agreements=_count(uow, active),
        connected_customers=int(uow.session.scalar(customers) or 0),
        pending_requests=_count(
            uow,
            Agreement.business_id == business_id,
            Agreement.status == AgreementStatus.REQUESTED.value,
        ),
        revoked=_count(uow, _revoked_since(business_id, since, now)),
        expired=_count(uow, _expired_since(business_id, since, now)),
        endings=recent_endings(uow, business_id, now),
        stages=stage_totals(uow, business_id, now),
        overdue=list_tasks(
            uow, business_id, today, assignee_id=staff_id, show="overdue", per_page=LIST_LIMIT
        ),
        due_today=list_tasks(
            uow, business_id, today, assignee_id=staff_id, show="today", per_page=LIST_LIMIT
        ),
    )
