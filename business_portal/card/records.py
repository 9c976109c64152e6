"""The business's own records about one customer, as the card lists them: deals and tasks.

Titles are opened with the business's key; amounts, stages and dates are read as stored.
Both lists are read only for a customer the caller has already found connected.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import or_, select

from business_portal.records.keys import business_cipher
from business_portal.records.models import Deal, PipelineStage, Task
from vault.unit_of_work import UnitOfWork

__all__ = ["DealFacts", "TaskFacts", "customer_deals", "customer_tasks"]


@dataclass(frozen=True)
class DealFacts:
    """One of the customer's deals, its title opened."""

    id: uuid.UUID
    title: str
    stage_code: str | None
    stage_name: str | None
    outcome: str
    amount: Decimal | None
    currency: str | None
    created_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class TaskFacts:
    """One task about the customer or one of their deals, its title opened."""

    id: uuid.UUID
    title: str
    due_on: date
    created_at: datetime
    done_at: datetime | None


def customer_deals(uow: UnitOfWork, business_id: uuid.UUID, subject: str) -> list[DealFacts]:
    """Return the business's deals with a customer, newest first."""
    rows = uow.session.execute(
        select(Deal, PipelineStage)
        .join(PipelineStage, PipelineStage.id == Deal.stage_id)
        .where(Deal.business_id == business_id, Deal.subject == subject)
        .order_by(Deal.created_at.desc(), Deal.id)
    ).all()
    if not rows:
        return []
    cipher = business_cipher(uow, business_id)
    return [
        DealFacts(
            id=deal.id,
            title=str(cipher.open("deals", deal.id, deal.sealed).get("title", "")),
            stage_code=stage.code,
            stage_name=stage.name,
            outcome=stage.outcome,
            amount=deal.amount,
            currency=deal.currency,
            created_at=deal.created_at,
            closed_at=deal.closed_at,
        )
        for deal, stage in rows
    ]


def customer_tasks(uow: UnitOfWork, business_id: uuid.UUID, subject: str) -> list[TaskFacts]:
    """Return the tasks about a customer or one of their deals, soonest due first."""
    deal_ids = select(Deal.id).where(Deal.business_id == business_id, Deal.subject == subject)
    tasks = list(
        uow.session.scalars(
            select(Task)
            .where(
                Task.business_id == business_id,
                or_(Task.subject == subject, Task.deal_id.in_(deal_ids)),
            )
            .order_by(Task.due_on, Task.created_at, Task.id)
        )
    )
    if not tasks:
        return []
    cipher = business_cipher(uow, business_id)
    return [
        TaskFacts(
            id=task.id,
            title=str(cipher.open("tasks", task.id, task.sealed).get("title", "")),
            due_on=task.due_on,
            created_at=task.created_at,
            done_at=task.done_at,
        )
        for task in tasks
    ]
