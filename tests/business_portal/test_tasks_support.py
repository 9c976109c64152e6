"""Building blocks of the task and dashboard tests: deals, tasks and a clock the app shares.

(No tests here; the name keeps it among the task tests' files.)
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from business_portal.records.keys import business_cipher
from business_portal.records.models import Deal, Task
from business_portal.records.stages import pipeline
from business_portal.tasks.services import TaskIn, create_task, set_done
from tests.business_portal.conftest import Clock, csrf_token
from vault.unit_of_work import Vault

FIELDS = {"identity.given_name": "read"}
PROFILE = {"identity.given_name": "Nigar"}


@pytest.fixture
def app_clock(app: Flask, clock: Clock) -> Clock:
    """Move the app's clock together with the test's."""
    app.extensions["emanet"].vault.clock = clock
    return clock


def add_deal(
    vault: Vault,
    business_id: uuid.UUID,
    subject: str,
    *,
    stage: str = "new",
    title: str = "Qajar-era carpet",
    amount: str | None = None,
    currency: str | None = None,
) -> uuid.UUID:
    """Put a deal on the business's board, in the stage with this code."""
    with vault.unit_of_work() as uow:
        cipher = business_cipher(uow, business_id)
        (stage_row,) = [s for s in pipeline(uow, business_id) if s.code == stage]
        now = uow.now()
        deal_id = uuid.uuid4()
        uow.session.add(
            Deal(
                id=deal_id,
                business_id=business_id,
                subject=subject,
                stage_id=stage_row.id,
                sealed=cipher.seal("deals", deal_id, {"title": title, "details": None}),
                amount=Decimal(amount) if amount is not None else None,
                currency=currency,
                created_at=now,
                updated_at=now,
            )
        )
        uow.commit()
    return deal_id


def add_task(
    vault: Vault,
    business_id: uuid.UUID,
    staff_id: uuid.UUID,
    title: str,
    due_on: date,
    *,
    done: bool = False,
    subject: str | None = None,
    deal_id: uuid.UUID | None = None,
    assignee_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Write a task through the service, and mark it done if asked."""
    task = TaskIn(
        title=title, due_on=due_on, subject=subject, deal_id=deal_id, assignee_id=assignee_id
    )
    with vault.unit_of_work() as uow:
        task_id = create_task(uow, business_id, staff_id, task)
    if done:
        with vault.unit_of_work() as uow:
            set_done(uow, business_id, task_id, True)
    return task_id


def task_rows(vault: Vault, business_id: uuid.UUID) -> list[Task]:
    """Return the business's task rows."""
    with vault.unit_of_work(write=False) as uow:
        return list(uow.session.scalars(select(Task).where(Task.business_id == business_id)))


def opened_title(vault: Vault, business_id: uuid.UUID, task_id: uuid.UUID) -> str:
    """Return a task's title as its business opens it."""
    with vault.unit_of_work(write=False) as uow:
        row = uow.session.get(Task, task_id)
        assert row is not None
        return str(business_cipher(uow, business_id).open("tasks", row.id, row.sealed)["title"])


def token(client: FlaskClient) -> str:
    """Return the session's CSRF token, read from a portal page."""
    page = client.get("/portal/tasks")
    assert page.status_code == 200, page.text
    return csrf_token(page.text)
