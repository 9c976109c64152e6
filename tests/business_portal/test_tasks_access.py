"""Who may see and change tasks: viewers read only, other businesses find nothing, and tasks
about a customer who ended the agreement are gone at the next page load."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.business_portal.conftest import Clock, PortalBusiness, connect_customer
from tests.business_portal.test_tasks_support import (
    FIELDS,
    PROFILE,
    add_deal,
    add_task,
    app_clock,
    opened_title,
    task_rows,
    token,
)
from vault.agreements.services import Context, revoke_agreement
from vault.unit_of_work import Vault

__all__ = ["app_clock"]  # a fixture these tests use

StaffClient = Callable[..., FlaskClient]
# Every change a task URL offers: (path after /portal/tasks/<id>, form data besides the token).
CHANGES = [
    ("/edit", {"title": "Taken over", "due_on": "2030-01-01"}),
    ("/done", {}),
    ("/undone", {}),
    ("/delete", {}),
]


@pytest.mark.parametrize("role", ["viewer", "compliance"])
def test_a_viewer_or_compliance_officer_gets_403_on_every_change(
    vault: Vault,
    business: PortalBusiness,
    staff_client: StaffClient,
    app_clock: Clock,
    role: str,
) -> None:
    today = app_clock.now.date()
    task_id = add_task(vault, business.id, business.staff_id("agent"), "Keep me", today)
    reader = staff_client(role)
    csrf = token(reader)

    page = reader.get(f"/portal/tasks/{task_id}")
    assert page.status_code == 200
    assert "Keep me" in page.text
    assert "Mark done" not in page.text and "Edit the task" not in page.text
    assert "Mark done" not in reader.get("/portal/tasks?who=all").text
    assert reader.get("/portal/tasks/new").status_code == 403
    new = reader.post("/portal/tasks/new", data={"csrf_token": csrf, "title": "x"})
    assert new.status_code == 403
    for path, data in CHANGES:
        answer = reader.post(f"/portal/tasks/{task_id}{path}", data={"csrf_token": csrf, **data})
        assert answer.status_code == 403, path
    (row,) = task_rows(vault, business.id)
    assert row.done_at is None
    assert opened_title(vault, business.id, task_id) == "Keep me"


def test_another_business_s_staff_get_404_on_every_task_url(
    vault: Vault,
    business: PortalBusiness,
    other_business: PortalBusiness,
    staff_client: StaffClient,
    app_clock: Clock,
) -> None:
    today = app_clock.now.date()
    task_id = add_task(vault, business.id, business.staff_id("agent"), "Ours only", today)
    stranger = staff_client("owner", of=other_business)
    csrf = token(stranger)

    assert stranger.get(f"/portal/tasks/{task_id}").status_code == 404
    for path, data in CHANGES:
        answer = stranger.post(f"/portal/tasks/{task_id}{path}", data={"csrf_token": csrf, **data})
        assert answer.status_code == 404, path
    for query in ("", "?who=all", "?who=all&show=today", "?show=done&who=all"):
        assert "Ours only" not in stranger.get(f"/portal/tasks{query}").text
    assert "Ours only" not in stranger.get("/portal/").text
    (row,) = task_rows(vault, business.id)
    assert row.done_at is None
    assert opened_title(vault, business.id, task_id) == "Ours only"


def test_unknown_or_malformed_task_ids_are_404(staff_client: StaffClient) -> None:
    owner = staff_client("owner")
    csrf = token(owner)
    assert owner.get(f"/portal/tasks/{uuid.uuid4()}").status_code == 404
    assert owner.get("/portal/tasks/not-a-uuid").status_code == 404
    for path, data in CHANGES:
        answer = owner.post(
            f"/portal/tasks/{uuid.uuid4()}{path}", data={"csrf_token": csrf, **data}
        )
        assert answer.status_code == 404, path


@pytest.mark.parametrize(
    "path", ["/portal/tasks", "/portal/tasks/new", f"/portal/tasks/{uuid.uuid4()}", "/portal/"]
)
def test_pages_send_strangers_to_sign_in(app: Flask, path: str) -> None:
    answer = app.test_client().get(path)
    assert answer.status_code == 303
    assert "/portal/login" in answer.headers["Location"]


def test_a_change_without_the_csrf_token_is_refused(
    vault: Vault, business: PortalBusiness, staff_client: StaffClient, app_clock: Clock
) -> None:
    today = app_clock.now.date()
    task_id = add_task(vault, business.id, business.staff_id("agent"), "Guarded", today)
    answer = staff_client("agent").post(f"/portal/tasks/{task_id}/done")
    assert answer.status_code == 400
    (row,) = task_rows(vault, business.id)
    assert row.done_at is None


def test_tasks_about_a_customer_who_revoked_are_gone_at_the_next_load(
    vault: Vault, business: PortalBusiness, staff_client: StaffClient, app_clock: Clock
) -> None:
    today = app_clock.now.date()
    me = business.staff_id("agent")
    customer = connect_customer(vault, business.id, PROFILE, FIELDS)
    deal_id = add_deal(vault, business.id, customer.subject, title="Brass lamp")
    about_customer = add_task(vault, business.id, me, "Ring Nigar", today, subject=customer.subject)
    about_deal = add_task(vault, business.id, me, "Quote the lamp", today, deal_id=deal_id)
    add_task(vault, business.id, me, "Dust the shelves", today)
    agent = staff_client("agent")
    before = agent.get("/portal/tasks").text
    assert "Ring Nigar" in before and "Quote the lamp" in before

    with vault.unit_of_work() as uow:
        revoke_agreement(uow, customer.agreement_id, customer.customer_id, Context("customer"))

    after = agent.get("/portal/tasks").text
    assert "Ring Nigar" not in after and "Quote the lamp" not in after
    assert "Dust the shelves" in after  # about nobody: it stays
    dashboard = agent.get("/portal/").text
    assert "Ring Nigar" not in dashboard and "Dust the shelves" in dashboard
    csrf = token(agent)
    for task_id in (about_customer, about_deal):
        assert agent.get(f"/portal/tasks/{task_id}").status_code == 404
        done = agent.post(f"/portal/tasks/{task_id}/done", data={"csrf_token": csrf})
        assert done.status_code == 404
    assert agent.get(f"/portal/tasks/new?subject={customer.subject}").status_code == 404
    assert agent.get(f"/portal/tasks/new?deal={deal_id}").status_code == 404
    assert len(task_rows(vault, business.id)) == 3  # hidden, not deleted: retention does that
