"""What the deal pages read: the board, the list, one deal, a customer's deals, the totals.

Only deals of customers connected now are read (DESIGN invariant 6): a deal whose customer's
agreement ended is hidden everywhere, as if it did not exist, until retention deletes it.
Titles and details are opened with the business's key.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, select

from broker.businesses.models import StaffUser
from business_portal.records.connections import connected_subjects, visible_subjects
from business_portal.records.keys import BusinessCipher, business_cipher
from business_portal.records.models import Deal, PipelineStage
from vault.unit_of_work import UnitOfWork

CENTS = Decimal("0.01")


class DealNotFound(LookupError):
    """No such deal at this business, or its customer is not connected now."""


@dataclass(frozen=True)
class DealView:
    """A deal as pages show it, its title and details opened."""

    id: uuid.UUID
    subject: str
    stage_id: uuid.UUID
    position: int
    title: str
    details: str | None
    amount: Decimal | None
    currency: str | None
    expected_close: date | None
    owner_id: uuid.UUID | None
    owner_name: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class Totals:
    """How many deals, and their sum in each currency."""

    count: int
    sums: dict[str, Decimal]


@dataclass(frozen=True)
class StageTotal:
    """One stage with how many visible deals it holds and their sum in each currency."""

    stage: PipelineStage
    count: int
    sums: dict[str, Decimal]


@dataclass(frozen=True)
class Column:
    """One column of the board: the stage, its totals and its deals in board order."""

    total: StageTotal
    deals: list[DealView]


def read_stages(uow: UnitOfWork, business_id: uuid.UUID) -> list[PipelineStage]:
    """Return the business's stages in board order without creating any (a pure read)."""
    return list(
        uow.session.scalars(
            select(PipelineStage)
            .where(PipelineStage.business_id == business_id)
            .order_by(PipelineStage.position, PipelineStage.id)
        )
    )


def _visible(uow: UnitOfWork, business_id: uuid.UUID) -> ColumnElement[bool]:
    return Deal.subject.in_(connected_subjects(business_id, uow.now()).scalar_subquery())


def _views(uow: UnitOfWork, business_id: uuid.UUID, rows: Iterable[Deal]) -> list[DealView]:
    rows = list(rows)
    if not rows:
        return []  # no deal yet: do not make the business key in a reading unit of work
    names: dict[uuid.UUID, str] = {
        staff_id: name
        for staff_id, name in uow.session.execute(
            select(StaffUser.id, StaffUser.display_name).where(StaffUser.business_id == business_id)
        )
    }
    cipher = business_cipher(uow, business_id)
    return [_view(cipher, row, names.get(row.owner_id) if row.owner_id else None) for row in rows]


def _view(cipher: BusinessCipher, row: Deal, owner_name: str | None) -> DealView:
    opened = cipher.open("deals", row.id, row.sealed)
    return DealView(
        id=row.id,
        subject=row.subject,
        stage_id=row.stage_id,
        position=row.position,
        title=str(opened.get("title", "")),
        details=opened.get("details"),
        amount=row.amount,
        currency=row.currency,
        expected_close=row.expected_close,
        owner_id=row.owner_id,
        owner_name=owner_name,
        created_at=row.created_at,
        updated_at=row.updated_at,
        closed_at=row.closed_at,
    )


def visible_deals(
    uow: UnitOfWork,
    business_id: uuid.UUID,
    *,
    stage_id: uuid.UUID | None = None,
    owner_id: uuid.UUID | None = None,
) -> list[DealView]:
    """Return the deals of connected customers in board order, optionally of one stage/owner."""
    query = (
        select(Deal)
        .join(PipelineStage, PipelineStage.id == Deal.stage_id)
        .where(Deal.business_id == business_id, _visible(uow, business_id))
        .order_by(PipelineStage.position, Deal.position, Deal.created_at, Deal.id)
    )
    if stage_id is not None:
        query = query.where(Deal.stage_id == stage_id)
    if owner_id is not None:
        query = query.where(Deal.owner_id == owner_id)
    return _views(uow, business_id, uow.session.scalars(query))


def add_up(deals: Iterable[DealView]) -> Totals:
    """Count the deals and add up their amounts per currency."""
    count = 0
    sums: dict[str, Decimal] = {}
    for deal in deals:
        count += 1
        if deal.amount is not None and deal.currency:
            sums[deal.currency] = sums.get(deal.currency, Decimal(0)) + deal.amount
    return Totals(count, {c: sums[c].quantize(CENTS) for c in sorted(sums)})


def total_of(stage: PipelineStage, deals: Iterable[DealView]) -> StageTotal:
    """Return a stage's count of these deals and their sums per currency."""
    totals = add_up(deals)
    return StageTotal(stage, totals.count, totals.sums)


def board_columns(stages: list[PipelineStage], deals: list[DealView]) -> list[Column]:
    """Sort the deals into one column per stage, in stage order."""
    by_stage: dict[uuid.UUID, list[DealView]] = {stage.id: [] for stage in stages}
    for deal in deals:
        by_stage.setdefault(deal.stage_id, []).append(deal)
    return [Column(total_of(stage, by_stage[stage.id]), by_stage[stage.id]) for stage in stages]


def stage_totals(uow: UnitOfWork, business_id: uuid.UUID) -> list[StageTotal]:
    """Return each stage's count and sums of the connected customers' deals (a pure read)."""
    stages = read_stages(uow, business_id)
    rows = uow.session.execute(
        select(Deal.stage_id, Deal.amount, Deal.currency).where(
            Deal.business_id == business_id, _visible(uow, business_id)
        )
    )
    counts: dict[uuid.UUID, int] = {}
    sums: dict[uuid.UUID, dict[str, Decimal]] = {}
    for stage_id, amount, currency in rows:
        counts[stage_id] = counts.get(stage_id, 0) + 1
        if amount is not None and currency:
            per = sums.setdefault(stage_id, {})
            per[currency] = per.get(currency, Decimal(0)) + amount
    return [
        StageTotal(
            stage,
            counts.get(stage.id, 0),
            {c: v.quantize(CENTS) for c, v in sorted(sums.get(stage.id, {}).items())},
        )
        for stage in stages
    ]


def deal_detail(uow: UnitOfWork, business_id: uuid.UUID, deal_id: uuid.UUID) -> DealView:
    """Return one deal of a connected customer, or raise DealNotFound."""
    return _views(uow, business_id, [visible_deal_row(uow, business_id, deal_id)])[0]


def deals_for_subject(uow: UnitOfWork, business_id: uuid.UUID, subject: str) -> list[DealView]:
    """Return a connected customer's deals, newest first (none while they are not connected)."""
    if not visible_subjects(uow, business_id, {subject}):
        return []
    rows = uow.session.scalars(
        select(Deal)
        .where(Deal.business_id == business_id, Deal.subject == subject)
        .order_by(Deal.created_at.desc(), Deal.id)
    )
    return _views(uow, business_id, rows)


def connected_subject_list(uow: UnitOfWork, business_id: uuid.UUID) -> list[str]:
    """Return the pairwise ids of the customers a deal may be opened with now, sorted."""
    return sorted(uow.session.scalars(connected_subjects(business_id, uow.now())))


def staff_choices(uow: UnitOfWork, business_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    """Return the business's active staff (id, name) who may own a deal, by name."""
    rows = uow.session.execute(
        select(StaffUser.id, StaffUser.display_name)
        .where(StaffUser.business_id == business_id, StaffUser.disabled_at.is_(None))
        .order_by(StaffUser.display_name, StaffUser.id)
    )
    return [(staff_id, name) for staff_id, name in rows]


def visible_deal_row(uow: UnitOfWork, business_id: uuid.UUID, deal_id: uuid.UUID) -> Deal:
    """Return the deal row if it is this business's and its customer is connected now."""
    row = uow.session.scalar(
        select(Deal).where(
            Deal.id == deal_id, Deal.business_id == business_id, _visible(uow, business_id)
        )
    )
    if row is None:
        raise DealNotFound(str(deal_id))
    return row
