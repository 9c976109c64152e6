"""Tasks: written, listed by tab, completed, reopened, edited and deleted; bad input writes
nothing; titles rest sealed; viewers cannot change them; other businesses cannot see them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from tests.backends import PostgresBackend, SqliteBackend
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
from vault.unit_of_work import Vault

__all__ = ["app_clock"]  # a fixture these tests use

StaffClient = Callable[..., FlaskClient]


def _new(client: FlaskClient, **fields: str) -> tuple[int, str]:
    data = {"title": "Call back about the samovar", "due_on": "2030-01-15", **fields}
    answer = client.post("/portal/tasks/new", data={"csrf_token": token(client), **data})
    return answer.status_code, answer.text


def test_a_new_task_is_mine_by_default_and_shows_in_my_tasks(
    vault: Vault, business: PortalBusiness, staff_client: StaffClient
) -> None:
    agent = staff_client("agent")
    form = agent.get("/portal/tasks/new")
    assert form.status_code == 200
    assert f'<option selected value="{business.staff_id("agent")}"' in form.text

    status, _ = _new(agent, assignee_id=str(business.staff_id("agent")))

    assert status == 303
    (row,) = task_rows(vault, business.id)
    assert (row.assignee_id, row.created_by) == (business.staff_id("agent"),) * 2
    assert (row.subject, row.deal_id, row.done_at) == (None, None, None)
    assert row.due_on.isoformat() == "2030-01-15"
    assert opened_title(vault, business.id, row.id) == "Call back about the samovar"
    mine = agent.get("/portal/tasks")
    assert "Call back about the samovar" in mine.text
    assert f"/portal/tasks/{row.id}" in mine.text
    assert "Call back about the samovar" not in staff_client("owner").get("/portal/tasks").text


def test_a_task_about_a_customer_links_to_their_card(
    vault: Vault, business: PortalBusiness, staff_client: StaffClient
) -> None:
    customer = connect_customer(vault, business.id, PROFILE, FIELDS)
    agent = staff_client("agent")
    form = agent.get(f"/portal/tasks/new?subject={customer.subject}")
    assert f'value="{customer.subject}"' in form.text

    status, _ = _new(agent, subject=customer.subject, assignee_id=str(business.staff_id("owner")))

    assert status == 303
    (row,) = task_rows(vault, business.id)
    assert (row.subject, row.assignee_id) == (customer.subject, business.staff_id("owner"))
    listing = agent.get("/portal/tasks?who=all").text
    assert f'href="/portal/customers/{customer.subject}"' in listing
    assert "Nigar" not in listing  # the pairwise id, never the customer's data


def test_a_task_about_a_deal_is_about_the_deal_s_customer_too(
    vault: Vault, business: PortalBusiness, staff_client: StaffClient
) -> None:
    customer = connect_customer(vault, business.id, PROFILE, FIELDS)
    deal_id = add_deal(vault, business.id, customer.subject, title="Silver samovar")
    agent = staff_client("agent")
    form = agent.get(f"/portal/tasks/new?deal={deal_id}")
    assert f'<option selected value="{deal_id}"' in form.text

    status, _ = _new(agent, deal_id=str(deal_id), assignee_id=str(business.staff_id("agent")))

    assert status == 303
    (row,) = task_rows(vault, business.id)
    assert (row.deal_id, row.subject) == (deal_id, customer.subject)
    listing = agent.get("/portal/tasks").text
    assert f'href="/portal/deals/{deal_id}"' in listing
    assert "Silver samovar" in listing


def test_a_new_task_goes_back_where_it_was_asked_for(
    vault: Vault, business: PortalBusiness, staff_client: StaffClient
) -> None:
    customer = connect_customer(vault, business.id, PROFILE, FIELDS)
    agent = staff_client("agent")
    back = f"/portal/customers/{customer.subject}"
    form = agent.get(f"/portal/tasks/new?subject={customer.subject}&next={back}")
    assert f'value="{back}"' in form.text
    answer = agent.post(
        "/portal/tasks/new",
        data={
            "csrf_token": token(agent),
            "title": "Send the catalogue",
            "due_on": "2030-02-01",
            "assignee_id": str(business.staff_id("agent")),
            "subject": customer.subject,
            "next": back,
        },
    )
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(back)


BAD_INPUT = [
    ({"title": ""}, "Write what is to be done."),
    ({"title": "   "}, "Write what is to be done."),
    ({"title": "x" * 201}, "Use at most 200 characters."),
    ({"title": "Two\nlines"}, "Must be a single line. Remove the line breaks."),
    ({"due_on": "2030-13-45"}, "Enter the day, for example 2025-05-01."),
    ({"due_on": "next Tuesday"}, "Enter the day, for example 2025-05-01."),
    ({"due_on": ""}, "Enter the day."),
    ({"assignee_id": str(uuid.uuid4())}, "Choose one of the options in the list."),
    ({"deal_id": "not-a-deal"}, "Choose one of the options in the list."),
    ({"subject": "c_" + "a" * 32}, "No customer connected to your business has this id."),
    ({"subject": "x" * 300}, "No customer connected to your business has this id."),
    ({"subject": "c_\x00abc"}, "No customer connected to your business has this id."),
    ({"subject": "c_abc'; --"}, "No customer connected to your business has this id."),
    ({"title": "Null\x00byte"}, "Contains an invisible control character."),
    ({"details": "Null\x00byte"}, "Contains an invisible control character."),
]


@pytest.mark.parametrize(("fields", "message"), BAD_INPUT)
def test_bad_input_writes_nothing_and_says_why_beside_the_field(
    vault: Vault,
    business: PortalBusiness,
    staff_client: StaffClient,
    fields: dict[str, str],
    message: str,
) -> None:
    agent = staff_client("agent")
    data = {"assignee_id": str(business.staff_id("agent")), "details": "Kept as typed", **fields}
    status, page = _new(agent, **data)
    assert status == 200
    assert message in page
    assert 'class="field has-error"' in page
    # The rest of the input is kept.
    assert ("Kept as typed" if "details" not in fields else "Call back about the samovar") in page
    assert task_rows(vault, business.id) == []


def test_another_business_s_customer_deal_or_staff_cannot_be_linked(
    vault: Vault,
    business: PortalBusiness,
    other_business: PortalBusiness,
    staff_client: StaffClient,
) -> None:
    theirs = connect_customer(vault, other_business.id, PROFILE, FIELDS)
    their_deal = add_deal(vault, other_business.id, theirs.subject)
    agent = staff_client("agent")
    assert agent.get(f"/portal/tasks/new?subject={theirs.subject}").status_code == 404
    assert agent.get(f"/portal/tasks/new?deal={their_deal}").status_code == 404
    assert agent.get("/portal/tasks/new?deal=nonsense").status_code == 404
    assert agent.get("/portal/tasks/new?subject=c_%00x").status_code == 404

    for fields, message in (
        ({"subject": theirs.subject}, "No customer connected to your business has this id."),
        ({"deal_id": str(their_deal)}, "Choose one of the options in the list."),
        (
            {"assignee_id": str(other_business.staff_id("agent"))},
            "Choose one of the options in the list.",
        ),
    ):
        status, page = _new(agent, **{"assignee_id": str(business.staff_id("agent")), **fields})
        assert (status, message in page) == (200, True)
    assert task_rows(vault, business.id) == []
    assert len(task_rows(vault, other_business.id)) == 0


def test_a_deal_of_one_customer_cannot_be_linked_with_another_customer(
    vault: Vault, business: PortalBusiness, staff_client: StaffClient
) -> None:
    first = connect_customer(vault, business.id, PROFILE, FIELDS)
    second = connect_customer(vault, business.id, PROFILE, FIELDS)
    deal_id = add_deal(vault, business.id, first.subject)
    status, page = _new(
        staff_client("agent"),
        assignee_id=str(business.staff_id("agent")),
        subject=second.subject,
        deal_id=str(deal_id),
    )
    assert status == 200
    assert "This deal is about another customer." in page
    assert task_rows(vault, business.id) == []


def test_the_title_and_details_rest_sealed(
    vault: Vault,
    business: PortalBusiness,
    staff_client: StaffClient,
    backend: SqliteBackend | PostgresBackend,
    database_url: str,
) -> None:
    title, details = "Zəng et: gümüş samovar qz81", "Ask about the Tiflis hallmark qz82"
    status, _ = _new(
        staff_client("agent"),
        title=title,
        details=details,
        assignee_id=str(business.staff_id("agent")),
    )
    assert status == 303
    (row,) = task_rows(vault, business.id)
    assert opened_title(vault, business.id, row.id) == title
    raw = backend.raw_bytes(database_url)
    for secret in (title, details, "qz81", "qz82"):
        assert secret.encode() not in raw


def test_tabs_show_mine_today_overdue_done_and_everyone_s(
    vault: Vault, business: PortalBusiness, staff_client: StaffClient, app_clock: Clock
) -> None:
    today = app_clock.now.date()
    me, owner = business.staff_id("agent"), business.staff_id("owner")
    add_task(vault, business.id, me, "Late one", today - timedelta(days=3))
    add_task(vault, business.id, me, "Today's one", today)
    add_task(vault, business.id, me, "Later one", today + timedelta(days=5))
    add_task(vault, business.id, me, "Finished one", today - timedelta(days=1), done=True)
    add_task(vault, business.id, owner, "Owner's one", today)
    agent = staff_client("agent")

    def titles(query: str) -> set[str]:
        page = agent.get(f"/portal/tasks{query}").text
        every = ("Late one", "Today's one", "Later one", "Finished one", "Owner's one")
        return {t for t in every if f">{t.replace(chr(39), '&#39;')}</a>" in page}

    assert titles("") == {"Late one", "Today's one", "Later one"}
    assert titles("?show=today") == {"Today's one"}
    assert titles("?show=overdue") == {"Late one"}
    assert titles("?show=done") == {"Finished one"}
    assert titles("?who=all") == {"Late one", "Today's one", "Later one", "Owner's one"}
    assert titles("?who=all&show=today") == {"Today's one", "Owner's one"}
    assert titles(f"?who={owner}") == {"Owner's one"}
    assert titles("?who=nobody&show=nonsense&page=-4") == titles("")
    assert titles("?page=99999999999999999999999") == set()
    overdue = agent.get("/portal/tasks?show=overdue").text
    assert 'class="task-flag task-overdue">Overdue</span>' in overdue  # said in words
    for lang in ("az", "tr"):
        assert agent.get(f"/portal/tasks?who=all&lang={lang}").status_code == 200


def test_complete_and_reopen_a_task(
    vault: Vault, business: PortalBusiness, staff_client: StaffClient, app_clock: Clock
) -> None:
    today = app_clock.now.date()
    task_id = add_task(vault, business.id, business.staff_id("agent"), "Wrap the carpet", today)
    agent = staff_client("agent")

    done = agent.post(
        f"/portal/tasks/{task_id}/done",
        data={"csrf_token": token(agent), "next": "/portal/tasks?show=today"},
    )
    assert done.status_code == 303
    assert done.headers["Location"].endswith("/portal/tasks?show=today")
    (row,) = task_rows(vault, business.id)
    assert row.done_at == app_clock.now
    assert "Wrap the carpet" not in agent.get("/portal/tasks").text
    assert "Wrap the carpet" in agent.get("/portal/tasks?show=done").text

    again = agent.post(
        f"/portal/tasks/{task_id}/undone",
        data={"csrf_token": token(agent), "next": "https://evil.example/"},
    )
    assert again.status_code == 303
    assert again.headers["Location"].endswith("/portal/tasks")  # no open redirect
    for hostile in ("/portal\r\nSet-Cookie: x=y", "//evil.example", "/\x00", "/\u2028"):
        answer = agent.post(
            f"/portal/tasks/{task_id}/undone", data={"csrf_token": token(agent), "next": hostile}
        )
        assert (answer.status_code, answer.headers["Location"]) == (303, "/portal/tasks")
    (row,) = task_rows(vault, business.id)
    assert row.done_at is None
    assert "Wrap the carpet" in agent.get("/portal/tasks").text


def test_edit_a_task_and_bad_edits_change_nothing(
    vault: Vault, business: PortalBusiness, staff_client: StaffClient, app_clock: Clock
) -> None:
    customer = connect_customer(vault, business.id, PROFILE, FIELDS)
    today = app_clock.now.date()
    task_id = add_task(vault, business.id, business.staff_id("agent"), "Old title", today)
    agent = staff_client("agent")
    page = agent.get(f"/portal/tasks/{task_id}")
    assert page.status_code == 200
    assert 'value="Old title"' in page.text

    edited = agent.post(
        f"/portal/tasks/{task_id}/edit",
        data={
            "csrf_token": token(agent),
            "title": "New title",
            "details": "Line one\r\nLine two",
            "due_on": "2031-03-04",
            "assignee_id": str(business.staff_id("owner")),
            "subject": customer.subject,
        },
    )
    assert edited.status_code == 303
    (row,) = task_rows(vault, business.id)
    assert opened_title(vault, business.id, task_id) == "New title"
    assert (row.due_on.isoformat(), row.assignee_id) == ("2031-03-04", business.staff_id("owner"))
    assert row.subject == customer.subject
    shown = agent.get(f"/portal/tasks/{task_id}").text
    assert "Line one\nLine two" in shown

    bad = agent.post(
        f"/portal/tasks/{task_id}/edit",
        data={"csrf_token": token(agent), "title": "", "due_on": "2031-02-30"},
    )
    assert bad.status_code == 200
    assert "Write what is to be done." in bad.text
    assert "Enter the day, for example 2025-05-01." in bad.text
    (after,) = task_rows(vault, business.id)
    assert opened_title(vault, business.id, task_id) == "New title"
    assert (after.due_on, after.assignee_id, after.subject) == (
        row.due_on,
        row.assignee_id,
        row.subject,
    )


def test_delete_a_task(
    vault: Vault, business: PortalBusiness, staff_client: StaffClient, app_clock: Clock
) -> None:
    today = app_clock.now.date()
    task_id = add_task(vault, business.id, business.staff_id("agent"), "Drop me", today)
    agent = staff_client("agent")
    answer = agent.post(f"/portal/tasks/{task_id}/delete", data={"csrf_token": token(agent)})
    assert answer.status_code == 303
    assert task_rows(vault, business.id) == []
    assert agent.get(f"/portal/tasks/{task_id}").status_code == 404
