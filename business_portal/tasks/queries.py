"""Reads shaped for the task pages and the dashboard: task lists, due lists, one task, choices.

Every read keeps to one business and leaves out tasks about customers who are not connected
now, so a customer whose agreement ended is gone from these lists at the next page load.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select

from broker.businesses.models import PairwiseSubject, StaffUser
from business_portal.records.connections import connected_subjects
from business_portal.records.keys import business_cipher
from business_portal.records.models import Deal, Task
from vault.unit_of_work import UnitOfWork

TABLE = "tasks"
# What the list can show: open tasks, those due today, those overdue, those done.
SHOWS = ("open", "today", "overdue", "done")
# How many deals and customers a task form offers to link to.
CHOICE_LIMIT = 500


class TaskNotFoundError(LookupError):
    """No such task in this business, or it is about a customer no longer connected."""


def visible_task_condition(business_id: uuid.UUID, now: datetime) -> ColumnElement[bool]:
    """Return the SQL condition of this business's tasks that may be shown at `now`."""
    return and_(
        Task.business_id == business_id,
        or_(Task.subject.is_(None), Task.subject.in_(connected_subjects(business_id, now))),
    )


@dataclass(frozen=True)
class TaskView:
    """One task, opened and ready to show."""

    id: uuid.UUID
    title: str
    details: str | None
    due_on: date
    # "done", "overdue", "today" or "upcoming", as of the day the page was asked for.
    state: str
    assignee_id: uuid.UUID | None
    assignee_name: str | None
    subject: str | None
    deal_id: uuid.UUID | None
    deal_title: str | None
    done_at: datetime | None

    @property
    def done(self) -> bool:
        """Whether the task is done."""
        return self.done_at is not None


@dataclass(frozen=True)
class TaskPage:
    """One page of a task list, and how many open, today's and overdue tasks the filter has."""

    tasks: list[TaskView]
    has_more: bool
    counts: dict[str, int]


def _state(row: Task, today: date) -> str:
    if row.done_at is not None:
        return "done"
    if row.due_on < today:
        return "overdue"
    return "today" if row.due_on == today else "upcoming"


def staff_names(uow: UnitOfWork, business_id: uuid.UUID) -> dict[uuid.UUID, str]:
    """Return the display name of every staff member of the business."""
    rows = uow.session.execute(
        select(StaffUser.id, StaffUser.display_name).where(StaffUser.business_id == business_id)
    )
    return {staff_id: name for staff_id, name in rows}


def _deal_titles(
    uow: UnitOfWork, business_id: uuid.UUID, deal_ids: set[uuid.UUID]
) -> dict[uuid.UUID, str]:
    if not deal_ids:
        return {}
    cipher = business_cipher(uow, business_id)
    rows = uow.session.execute(
        select(Deal.id, Deal.sealed).where(
            Deal.business_id == business_id, Deal.id.in_(sorted(deal_ids))
        )
    )
    return {i: str(cipher.open("deals", i, sealed).get("title") or "") for i, sealed in rows}


def task_views(
    uow: UnitOfWork, business_id: uuid.UUID, rows: Sequence[Task], today: date
) -> list[TaskView]:
    """Open the tasks' text and name their assignees and deals."""
    if not rows:
        return []
    cipher = business_cipher(uow, business_id)
    names = staff_names(uow, business_id)
    deals = _deal_titles(uow, business_id, {r.deal_id for r in rows if r.deal_id is not None})
    views = []
    for row in rows:
        text = cipher.open(TABLE, row.id, row.sealed)
        views.append(
            TaskView(
                id=row.id,
                title=str(text.get("title") or ""),
                details=text.get("details"),
                due_on=row.due_on,
                state=_state(row, today),
                assignee_id=row.assignee_id,
                assignee_name=names.get(row.assignee_id) if row.assignee_id else None,
                subject=row.subject,
                deal_id=row.deal_id,
                deal_title=deals.get(row.deal_id) if row.deal_id else None,
                done_at=row.done_at,
            )
        )
    return views


def _shown(show: str, today: date) -> ColumnElement[bool]:
    is_open = Task.done_at.is_(None)
    if show == "today":
        return and_(is_open, Task.due_on == today)
    if show == "overdue":
        return and_(is_open, Task.due_on < today)
    if show == "done":
        return Task.done_at.is_not(None)
    return is_open


def _tasks(
    business_id: uuid.UUID, now: datetime, assignee_id: uuid.UUID | None
) -> Select[tuple[Task]]:
    query = select(Task).where(visible_task_condition(business_id, now))
    if assignee_id is not None:
        query = query.where(Task.assignee_id == assignee_id)
    return query


def task_counts(
    uow: UnitOfWork, business_id: uuid.UUID, today: date, assignee_id: uuid.UUID | None
) -> dict[str, int]:
    """Return how many open, today's, overdue and done tasks (of one assignee, or all) show."""
    sums = [func.coalesce(func.sum(case((_shown(s, today), 1), else_=0)), 0) for s in SHOWS]
    query = _tasks(business_id, uow.now(), assignee_id).with_only_columns(*sums)
    row = uow.session.execute(query).one()
    return {show: int(count) for show, count in zip(SHOWS, row, strict=True)}


def list_tasks(
    uow: UnitOfWork,
    business_id: uuid.UUID,
    today: date,
    *,
    assignee_id: uuid.UUID | None,
    show: str = "open",
    page: int = 1,
    per_page: int = 50,
) -> TaskPage:
    """Return one page of tasks (of one assignee, or everyone's): open ones by day, done ones
    newest first."""
    query = _tasks(business_id, uow.now(), assignee_id).where(_shown(show, today))
    if show == "done":
        query = query.order_by(Task.done_at.desc(), Task.id)
    else:
        query = query.order_by(Task.due_on, Task.created_at, Task.id)
    offset = (max(page, 1) - 1) * per_page
    rows = list(uow.session.scalars(query.offset(offset).limit(per_page + 1)))
    counts = task_counts(uow, business_id, today, assignee_id)
    return TaskPage(
        task_views(uow, business_id, rows[:per_page], today), len(rows) > per_page, counts
    )


def tasks_due(
    uow: UnitOfWork, business_id: uuid.UUID, staff_id: uuid.UUID, today: date, limit: int = 50
) -> list[TaskView]:
    """Return the staff member's open tasks due today or earlier, the oldest first."""
    query = (
        _tasks(business_id, uow.now(), staff_id)
        .where(Task.done_at.is_(None), Task.due_on <= today)
        .order_by(Task.due_on, Task.created_at, Task.id)
        .limit(limit)
    )
    return task_views(uow, business_id, list(uow.session.scalars(query)), today)


def task_detail(
    uow: UnitOfWork, business_id: uuid.UUID, task_id: uuid.UUID, today: date
) -> TaskView:
    """Return one task of the business, or raise TaskNotFoundError."""
    row = uow.session.scalar(_tasks(business_id, uow.now(), None).where(Task.id == task_id))
    if row is None:
        raise TaskNotFoundError(str(task_id))
    return task_views(uow, business_id, [row], today)[0]


def assignee_choices(uow: UnitOfWork, business_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    """Return the staff members a task can be given to, by name."""
    rows = uow.session.execute(
        select(StaffUser.id, StaffUser.display_name)
        .where(StaffUser.business_id == business_id, StaffUser.disabled_at.is_(None))
        .order_by(StaffUser.display_name, StaffUser.id)
    )
    return [(staff_id, name) for staff_id, name in rows]


def deal_choices(uow: UnitOfWork, business_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    """Return the deals a task can be linked to (about connected customers), newest first."""
    rows = uow.session.execute(
        select(Deal.id, Deal.sealed)
        .where(
            Deal.business_id == business_id,
            Deal.subject.in_(connected_subjects(business_id, uow.now())),
        )
        .order_by(Deal.updated_at.desc(), Deal.id)
        .limit(CHOICE_LIMIT)
    ).all()
    if not rows:
        return []
    cipher = business_cipher(uow, business_id)
    return [(i, str(cipher.open("deals", i, sealed).get("title") or "")) for i, sealed in rows]


def customer_choices(uow: UnitOfWork, business_id: uuid.UUID) -> list[str]:
    """Return pairwise ids of connected customers a task can be about (a first few hundred)."""
    query = (
        connected_subjects(business_id, uow.now())
        .order_by(PairwiseSubject.subject)
        .limit(CHOICE_LIMIT)
    )
    return list(uow.session.scalars(query))
