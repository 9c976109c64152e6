"""Tasks: what a staff member must do by a day, about a customer or a deal.

Plain functions over a unit of work. A task's title and details are the business's own text,
sealed under its key; the due day, the assignee and the links stay clear so due lists are
plain SQL. A task about a customer whose agreement has ended is hidden (DESIGN invariant 6);
a task about no customer stays.
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from broker.businesses.models import StaffUser
from business_portal.records.connections import visible_subjects
from business_portal.records.keys import business_cipher
from business_portal.records.models import Deal, Task
from business_portal.tasks.queries import TaskNotFoundError, visible_task_condition
from schemas.text_types import MultilineText, ShortText
from vault.unit_of_work import UnitOfWork

TABLE = "tasks"
# What a pairwise id looks like (broker.pairwise): checked before it reaches a query.
SUBJECT_PATTERN = r"^[A-Za-z0-9_-]{1,40}$"
__all__ = [
    "TaskIn",
    "TaskInputError",
    "TaskNotFoundError",
    "create_task",
    "delete_task",
    "looks_like_subject",
    "set_done",
    "update_task",
]


class TaskIn(BaseModel):
    """A new or edited task as a staff member wrote it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: ShortText
    details: MultilineText | None = None
    due_on: date
    # None: the staff member who writes the task.
    assignee_id: uuid.UUID | None = None
    subject: Annotated[str, Field(pattern=SUBJECT_PATTERN)] | None = None
    deal_id: uuid.UUID | None = None


def looks_like_subject(text: str) -> bool:
    """Whether the text could be a pairwise id at all."""
    return re.fullmatch(SUBJECT_PATTERN, text) is not None


class TaskInputError(ValueError):
    """The task names something this business does not have; `problems` maps field → code."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(", ".join(f"{k}: {v}" for k, v in sorted(problems.items())))
        self.problems = problems


def _assignee(uow: UnitOfWork, business_id: uuid.UUID, assignee_id: uuid.UUID) -> uuid.UUID | None:
    return uow.session.scalar(
        select(StaffUser.id).where(
            StaffUser.id == assignee_id,
            StaffUser.business_id == business_id,
            StaffUser.disabled_at.is_(None),
        )
    )


def _linked_subject(
    uow: UnitOfWork, business_id: uuid.UUID, task: TaskIn, problems: dict[str, str]
) -> str | None:
    """Return the customer the task is about (a deal's task is about the deal's customer)."""
    if task.deal_id is None:
        if task.subject is not None and not visible_subjects(uow, business_id, {task.subject}):
            problems["subject"] = "customer_not_connected"
        return task.subject
    deal_subject = uow.session.scalar(
        select(Deal.subject).where(Deal.id == task.deal_id, Deal.business_id == business_id)
    )
    if deal_subject is None or not visible_subjects(uow, business_id, {deal_subject}):
        problems["deal_id"] = "deal_unknown"
    elif task.subject is not None and task.subject != deal_subject:
        problems["subject"] = "deal_of_another_customer"
    return deal_subject


def _check_links(
    uow: UnitOfWork, business_id: uuid.UUID, staff_id: uuid.UUID, task: TaskIn
) -> tuple[uuid.UUID, str | None]:
    """Return (assignee, customer) once every link is this business's, else raise."""
    problems: dict[str, str] = {}
    assignee_id = task.assignee_id or staff_id
    if _assignee(uow, business_id, assignee_id) is None:
        problems["assignee_id"] = "assignee_unknown"
    subject = _linked_subject(uow, business_id, task, problems)
    if problems:
        raise TaskInputError(problems)
    return assignee_id, subject


def _visible_task(uow: UnitOfWork, business_id: uuid.UUID, task_id: uuid.UUID) -> Task:
    task = uow.session.scalar(
        select(Task).where(
            Task.id == task_id,
            Task.business_id == business_id,
            visible_task_condition(business_id, uow.now()),
        )
    )
    if task is None:
        raise TaskNotFoundError(str(task_id))
    return task


def _seal(uow: UnitOfWork, business_id: uuid.UUID, row: Task, task: TaskIn) -> None:
    cipher = business_cipher(uow, business_id)
    row.sealed = cipher.seal(TABLE, row.id, {"title": task.title, "details": task.details})


def create_task(
    uow: UnitOfWork, business_id: uuid.UUID, staff_id: uuid.UUID, task: TaskIn
) -> uuid.UUID:
    """Write a new task of this business, written by `staff_id`; commit; return its id."""
    assignee_id, subject = _check_links(uow, business_id, staff_id, task)
    row = Task(
        id=uuid.uuid4(),
        business_id=business_id,
        subject=subject,
        deal_id=task.deal_id,
        due_on=task.due_on,
        assignee_id=assignee_id,
        created_by=staff_id,
        created_at=uow.now(),
        done_at=None,
    )
    _seal(uow, business_id, row, task)
    uow.session.add(row)
    uow.commit()
    return row.id


def update_task(
    uow: UnitOfWork, business_id: uuid.UUID, staff_id: uuid.UUID, task_id: uuid.UUID, task: TaskIn
) -> None:
    """Replace a task's title, details, day, assignee and links (done stays as it is); commit."""
    row = _visible_task(uow, business_id, task_id)
    assignee_id, subject = _check_links(uow, business_id, staff_id, task)
    row.subject = subject
    row.deal_id = task.deal_id
    row.due_on = task.due_on
    row.assignee_id = assignee_id
    _seal(uow, business_id, row, task)
    uow.commit()


def set_done(uow: UnitOfWork, business_id: uuid.UUID, task_id: uuid.UUID, done: bool) -> None:
    """Mark a task done (now) or not done again; commit."""
    row = _visible_task(uow, business_id, task_id)
    if done and row.done_at is None:
        row.done_at = uow.now()
    elif not done:
        row.done_at = None
    uow.commit()


def delete_task(uow: UnitOfWork, business_id: uuid.UUID, task_id: uuid.UUID) -> None:
    """Delete a task; commit."""
    row = _visible_task(uow, business_id, task_id)
    uow.session.delete(row)
    uow.commit()
