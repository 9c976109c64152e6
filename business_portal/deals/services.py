"""Deals: open, change, move and delete them (each a use case that commits).

A deal names its customer by pairwise id only. While that customer is not connected (their
agreement ended) the deal is refused to every change here, as if it did not exist; retention
deletes it later. Titles and details are sealed under the business's key; amounts, dates and
stages stay clear so totals are plain arithmetic. The reads live in `read_model` and are
re-exported here for the other portal areas (card, dashboard).
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from broker.businesses.models import StaffUser
from business_portal.deals.inputs import DealFields, DealIn
from business_portal.deals.read_model import (
    CENTS,
    Column,
    DealNotFound,
    DealView,
    StageTotal,
    Totals,
    add_up,
    board_columns,
    connected_subject_list,
    deal_detail,
    deals_for_subject,
    read_stages,
    staff_choices,
    stage_totals,
    total_of,
    visible_deal_row,
    visible_deals,
)
from business_portal.records.connections import visible_subjects
from business_portal.records.keys import BusinessCipher, business_cipher
from business_portal.records.models import Deal, PipelineStage
from business_portal.records.stages import pipeline
from vault.unit_of_work import UnitOfWork

__all__ = [
    "Column",
    "DealNotFound",
    "DealProblem",
    "DealView",
    "StageTotal",
    "Totals",
    "add_up",
    "board_columns",
    "connected_subject_list",
    "create_deal",
    "deal_detail",
    "deals_for_subject",
    "delete_deal",
    "ensure_pipeline",
    "move_deal",
    "read_stages",
    "staff_choices",
    "stage_totals",
    "total_of",
    "update_deal",
    "visible_deals",
]

OPEN = "open"


class DealProblem(Exception):
    """The input names something this business does not have; `field` is where to fix it."""

    def __init__(self, field: str, code: str) -> None:
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code


def ensure_pipeline(uow: UnitOfWork, business_id: uuid.UUID) -> list[PipelineStage]:
    """Return the business's stages, making and committing the default ones on first use."""
    stages = read_stages(uow, business_id)
    if not stages:
        stages = pipeline(uow, business_id)
        uow.commit()
    return stages


def _stage(uow: UnitOfWork, business_id: uuid.UUID, stage_id: uuid.UUID) -> PipelineStage:
    stage = uow.session.scalar(
        select(PipelineStage).where(
            PipelineStage.id == stage_id, PipelineStage.business_id == business_id
        )
    )
    if stage is None:
        raise DealProblem("stage_id", "stage_unknown")
    return stage


def _check_owner(uow: UnitOfWork, business_id: uuid.UUID, owner_id: uuid.UUID) -> None:
    found = uow.session.scalar(
        select(StaffUser.id).where(
            StaffUser.id == owner_id,
            StaffUser.business_id == business_id,
            StaffUser.disabled_at.is_(None),
        )
    )
    if found is None:
        raise DealProblem("owner_id", "owner_unknown")


def _place(uow: UnitOfWork, row: Deal, stage: PipelineStage, position: int | None) -> None:
    """Put the deal into the stage before its `position`-th visible deal (or last)."""
    column = list(
        uow.session.scalars(
            select(Deal)
            .where(
                Deal.business_id == row.business_id, Deal.stage_id == stage.id, Deal.id != row.id
            )
            .order_by(Deal.position, Deal.created_at, Deal.id)
        )
    )
    # The page counts only the cards it shows; hidden deals keep their places around them.
    shown_subjects = visible_subjects(uow, row.business_id, {d.subject for d in column})
    shown = [d for d in column if d.subject in shown_subjects]
    if position is not None and 0 <= position < len(shown):
        column.insert(column.index(shown[position]), row)
    else:
        column.append(row)
    for index, deal in enumerate(column):
        deal.position = index
    previous = uow.session.get(PipelineStage, row.stage_id) if row.stage_id else None
    if stage.outcome == OPEN:
        row.closed_at = None
    elif row.closed_at is None or previous is None or previous.outcome != stage.outcome:
        row.closed_at = uow.now()
    row.stage_id = stage.id


def _seal(cipher: BusinessCipher, row: Deal, deal: DealFields) -> None:
    row.sealed = cipher.seal("deals", row.id, {"title": deal.title, "details": deal.details})
    row.amount = deal.amount.quantize(CENTS) if deal.amount is not None else None
    row.currency = deal.currency
    row.expected_close = deal.expected_close


def create_deal(
    uow: UnitOfWork, business_id: uuid.UUID, staff_id: uuid.UUID, deal: DealIn
) -> uuid.UUID:
    """Open a deal with a connected customer, owned by `deal.owner_id` or by `staff_id`."""
    if not visible_subjects(uow, business_id, {deal.subject}):
        raise DealProblem("subject", "not_connected")
    stages = pipeline(uow, business_id)
    if deal.stage_id is not None:
        stage = _stage(uow, business_id, deal.stage_id)
    else:
        stage = next((s for s in stages if s.outcome == OPEN), stages[0])
    owner_id = deal.owner_id or staff_id
    _check_owner(uow, business_id, owner_id)
    now = uow.now()
    row = Deal(
        id=uuid.uuid4(),
        business_id=business_id,
        subject=deal.subject,
        owner_id=owner_id,
        created_at=now,
        updated_at=now,
    )
    _seal(business_cipher(uow, business_id), row, deal)
    _place(uow, row, stage, None)
    uow.session.add(row)
    uow.commit()
    return row.id


def update_deal(
    uow: UnitOfWork, business_id: uuid.UUID, deal_id: uuid.UUID, changes: DealFields
) -> None:
    """Change a deal's title, details, amount, date, owner and stage."""
    row = visible_deal_row(uow, business_id, deal_id)
    if changes.owner_id is not None and changes.owner_id != row.owner_id:
        _check_owner(uow, business_id, changes.owner_id)
        row.owner_id = changes.owner_id
    if changes.stage_id is not None and changes.stage_id != row.stage_id:
        _place(uow, row, _stage(uow, business_id, changes.stage_id), None)
    _seal(business_cipher(uow, business_id), row, changes)
    row.updated_at = uow.now()
    uow.commit()


def move_deal(
    uow: UnitOfWork,
    business_id: uuid.UUID,
    deal_id: uuid.UUID,
    stage_id: uuid.UUID,
    position: int | None = None,
) -> PipelineStage:
    """Move a deal to a stage, before its `position`-th card (last if None); return the stage."""
    row = visible_deal_row(uow, business_id, deal_id)
    stage = _stage(uow, business_id, stage_id)
    _place(uow, row, stage, position)
    row.updated_at = uow.now()
    uow.commit()
    return stage


def delete_deal(uow: UnitOfWork, business_id: uuid.UUID, deal_id: uuid.UUID) -> None:
    """Delete a deal (its tasks go with it)."""
    uow.session.delete(visible_deal_row(uow, business_id, deal_id))
    uow.commit()
