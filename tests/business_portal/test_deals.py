"""Deals: the board, the list, opening, changing, moving and deleting a deal."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from decimal import Decimal

import pytest
from flask.testing import FlaskClient

from business_portal.deals.inputs import DealIn
from business_portal.deals.services import create_deal, ensure_pipeline, stage_totals
from business_portal.records.models import Deal
from tests.backends import PostgresBackend, SqliteBackend
from tests.business_portal.conftest import (
    Connected,
    PortalBusiness,
    connect_customer,
    csrf_token,
)
from vault.agreements.services import Context, revoke_agreement
from vault.unit_of_work import Vault

FIELDS = {"identity.given_name": "read"}
PROFILE = {"identity.given_name": "Gülnarə"}


def connected(vault: Vault, business: PortalBusiness) -> Connected:
    return connect_customer(vault, business.id, PROFILE, FIELDS)


def stage_ids(vault: Vault, business: PortalBusiness) -> dict[str, uuid.UUID]:
    with vault.unit_of_work() as uow:
        return {s.code or s.name or "": s.id for s in ensure_pipeline(uow, business.id)}


def open_deal(
    vault: Vault,
    business: PortalBusiness,
    subject: str,
    title: str = "Two Kuba carpets",
    amount: str | None = "1250.00",
    currency: str | None = "AZN",
    stage: str | None = None,
) -> uuid.UUID:
    stage_id = stage_ids(vault, business)[stage] if stage else None
    deal = DealIn(
        subject=subject,
        title=title,
        amount=Decimal(amount) if amount else None,
        currency=currency,
        stage_id=stage_id,
    )
    with vault.unit_of_work() as uow:
        return create_deal(uow, business.id, business.staff_id("agent"), deal)


def deal_rows(vault: Vault, business: PortalBusiness) -> list[Deal]:
    with vault.unit_of_work(write=False) as uow:
        from sqlalchemy import select

        return list(uow.session.scalars(select(Deal).where(Deal.business_id == business.id)))


def column_of(html: str, stage_id: uuid.UUID) -> str:
    """Return the HTML of one board column."""
    start = html.index(f'data-stage-id="{stage_id}"')
    end = html.find('class="column-empty', start)
    return html[start:end]


def test_the_board_shows_every_stage_in_order_with_the_cards(
    vault: Vault, business: PortalBusiness, staff_client: Callable[..., FlaskClient]
) -> None:
    customer = connected(vault, business)
    deal_id = open_deal(vault, business, customer.subject)
    page = staff_client("viewer").get("/portal/deals")
    assert page.status_code == 200
    names = re.findall(r'<h2 id="stage-[^"]+">([^<]+)<', page.text)
    assert names == ["New", "Contacted", "Meeting", "Proposal", "Invoice", "Won", "Lost"]
    stages = stage_ids(vault, business)
    card = column_of(page.text, stages["new"])
    assert "Two Kuba carpets" in card
    assert f'href="/portal/customers/{customer.subject}"' in card
    assert f"/portal/deals/{deal_id}" in card
    assert "AZN1,250.00" in card
    assert "Agent of" in card  # the owner
    assert "1 deal · AZN1,250.00" in page.text
    assert 'class="move-form"' not in page.text  # a viewer cannot move


def new_deal_form(client: FlaskClient, for_subject: str, **changes: str) -> dict[str, str]:
    subject = for_subject
    page = client.get(f"/portal/deals/new?subject={subject}")
    assert page.status_code == 200
    form = {
        "csrf_token": csrf_token(page.text),
        "subject": subject,
        "title": "Silk carpet for the new shop",
        "details": "Wants it before the opening.\nCall after six.",
        "amount": "1250,50",
        "currency": "AZN",
        "expected_close": "2031-06-30",
        "owner": re.search(r'<option selected value="([^"]+)">Agent of', page.text).group(1),
        "stage": re.search(r'<option selected value="([^"]+)">New<', page.text).group(1),
    }
    form.update(changes)
    return form


def test_a_deal_is_opened_from_the_form_and_links_to_its_customer(
    vault: Vault, business: PortalBusiness, staff_client: Callable[..., FlaskClient]
) -> None:
    customer = connected(vault, business)
    client = staff_client("agent")
    page = client.get(f"/portal/deals/new?subject={customer.subject}")
    assert f'<option selected value="{customer.subject}">' in page.text
    answer = client.post("/portal/deals/new", data=new_deal_form(client, customer.subject))
    assert answer.status_code == 303
    [row] = deal_rows(vault, business)
    assert answer.headers["Location"] == f"/portal/deals/{row.id}"
    assert row.subject == customer.subject
    assert row.amount == Decimal("1250.50")
    assert row.currency == "AZN"
    assert str(row.expected_close) == "2031-06-30"
    assert row.owner_id == business.staff_id("agent")
    assert row.stage_id == stage_ids(vault, business)["new"]
    assert row.closed_at is None
    detail = client.get(f"/portal/deals/{row.id}")
    assert "<h1>Silk carpet for the new shop</h1>" in detail.text
    assert f'href="/portal/customers/{customer.subject}"' in detail.text
    assert "Wants it before the opening." in detail.text


def test_the_title_and_details_are_not_stored_in_clear(
    vault: Vault,
    business: PortalBusiness,
    staff_client: Callable[..., FlaskClient],
    backend: SqliteBackend | PostgresBackend,
    database_url: str,
) -> None:
    customer = connected(vault, business)
    client = staff_client("agent")
    form = new_deal_form(
        client, customer.subject, title="Kilim-for-Nizami-7731", details="Secret-note-5519"
    )
    assert client.post("/portal/deals/new", data=form).status_code == 303
    raw = backend.raw_bytes(database_url)
    assert b"Kilim-for-Nizami-7731" not in raw
    assert b"Secret-note-5519" not in raw
    assert "Kilim-for-Nizami-7731" in client.get("/portal/deals").text


BAD_INPUT = [
    ({"amount": "twelve"}, "Write the amount in digits, for example 1250.00."),
    ({"amount": "0"}, "The amount must be more than zero."),
    ({"amount": "-5"}, "Write the amount in digits, for example 1250.00."),
    ({"amount": "12.345"}, "Use at most two digits after the decimal point."),
    ({"amount": "1" * 15}, "The amount is too large."),
    ({"currency": ""}, "Give the amount together with its currency, or neither."),
    ({"amount": "", "currency": "EUR"}, "Give the amount together with its currency, or neither."),
    ({"currency": "XXX"}, "Choose one of the options in the list."),
    ({"expected_close": "2031-02-30"}, "Enter a date, for example 2025-06-30."),
    ({"expected_close": "1999-12-31"}, "Choose a date between the years 2000 and 2100."),
    ({"title": ""}, "Give the deal a title."),
    ({"title": "   "}, "This cannot be empty."),
    ({"title": "x" * 201}, "Use at most 200 characters."),
    ({"title": "two\u202elines"}, "Contains an invisible control character."),
    ({"owner": str(uuid.uuid4())}, "Choose one of the options in the list."),
    ({"stage": str(uuid.uuid4())}, "Choose one of the options in the list."),
    ({"subject": ""}, "Choose the customer."),
    ({"subject": "c_nobodyatall"}, "Choose one of the options in the list."),
]


@pytest.mark.parametrize(("changes", "message"), BAD_INPUT)
def test_bad_input_writes_nothing_and_says_why_beside_the_field(
    vault: Vault,
    business: PortalBusiness,
    staff_client: Callable[..., FlaskClient],
    changes: dict[str, str],
    message: str,
) -> None:
    customer = connected(vault, business)
    client = staff_client("agent")
    form = new_deal_form(client, customer.subject, **changes)
    answer = client.post("/portal/deals/new", data=form)
    assert answer.status_code == 200
    assert message in answer.text
    assert 'class="field has-error"' in answer.text
    assert deal_rows(vault, business) == []
    if "title" not in changes:
        assert 'value="Silk carpet for the new shop"' in answer.text  # the input is kept


def test_a_customer_of_another_business_or_no_longer_connected_cannot_get_a_deal(
    vault: Vault,
    business: PortalBusiness,
    other_business: PortalBusiness,
    staff_client: Callable[..., FlaskClient],
) -> None:
    client = staff_client("agent")
    foreign = connect_customer(vault, other_business.id, PROFILE, FIELDS)
    revoked = connected(vault, business)
    mine = connected(vault, business)
    form = new_deal_form(client, mine.subject)
    revoke(vault, revoked)
    for subject in (foreign.subject, revoked.subject):
        assert client.get(f"/portal/deals/new?subject={subject}").status_code == 404
        answer = client.post("/portal/deals/new", data={**form, "subject": subject})
        assert answer.status_code == 200
        assert "Choose one of the options in the list." in answer.text
    assert deal_rows(vault, business) == []
    assert deal_rows(vault, other_business) == []


def revoke(vault: Vault, customer: Connected) -> None:
    with vault.unit_of_work() as uow:
        revoke_agreement(
            uow, customer.agreement_id, customer.customer_id, Context(actor="customer")
        )


def move_form(client: FlaskClient, stage_id: uuid.UUID, **extra: str) -> dict[str, str]:
    token = csrf_token(client.get("/portal/deals").text)
    return {"csrf_token": token, "stage_id": str(stage_id), **extra}


def test_a_deal_moves_from_new_to_proposal_with_the_form_and_stays_there(
    vault: Vault, business: PortalBusiness, staff_client: Callable[..., FlaskClient]
) -> None:
    customer = connected(vault, business)
    deal_id = open_deal(vault, business, customer.subject)
    stages = stage_ids(vault, business)
    client = staff_client("agent")
    answer = client.post(
        f"/portal/deals/{deal_id}/move", data=move_form(client, stages["proposal"])
    )
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/portal/deals"
    board = client.get("/portal/deals").text
    assert "Two Kuba carpets" in column_of(board, stages["proposal"])
    assert "Two Kuba carpets" not in column_of(board, stages["new"])


def test_a_deal_moves_with_the_boards_script_and_gets_json(
    vault: Vault, business: PortalBusiness, staff_client: Callable[..., FlaskClient]
) -> None:
    customer = connected(vault, business)
    deal_id = open_deal(vault, business, customer.subject)
    stages = stage_ids(vault, business)
    client = staff_client("agent")
    token = re.search(
        r'<meta name="csrf-token" content="([^"]+)"', client.get("/portal/deals").text
    )
    answer = client.post(
        f"/portal/deals/{deal_id}/move",
        data={"stage_id": str(stages["proposal"]), "position": "0"},
        headers={"Accept": "application/json", "X-CSRFToken": token.group(1)},
    )
    assert answer.status_code == 200
    body = json.loads(answer.text)
    assert body["ok"] is True
    assert body["stage_id"] == str(stages["proposal"])
    assert body["message"] == "“Two Kuba carpets” is now in Proposal."
    assert body["totals"][str(stages["proposal"])] == "1 deal · AZN1,250.00"
    assert body["totals"][str(stages["new"])] == "0 deals"
    board = client.get("/portal/deals").text
    assert "Two Kuba carpets" in column_of(board, stages["proposal"])


def test_a_move_to_an_unknown_stage_is_refused_and_changes_nothing(
    vault: Vault,
    business: PortalBusiness,
    other_business: PortalBusiness,
    staff_client: Callable[..., FlaskClient],
) -> None:
    customer = connected(vault, business)
    deal_id = open_deal(vault, business, customer.subject)
    client = staff_client("agent")
    foreign_stage = stage_ids(vault, other_business)["proposal"]
    for stage in (str(foreign_stage), "not-a-stage", ""):
        data = {**move_form(client, foreign_stage), "stage_id": stage}
        answer = client.post(
            f"/portal/deals/{deal_id}/move", data=data, headers={"Accept": "application/json"}
        )
        assert answer.status_code == 400
        assert json.loads(answer.text)["message"] == "Choose one of the stages in the list."
        page = client.post(f"/portal/deals/{deal_id}/move", data=data, follow_redirects=True)
        assert "Choose one of the stages in the list." in page.text
    answer = client.post(
        f"/portal/deals/{deal_id}/move", data=move_form(client, foreign_stage, position="-1")
    )
    assert answer.status_code == 303
    [row] = deal_rows(vault, business)
    assert row.stage_id == stage_ids(vault, business)["new"]


def test_won_and_lost_close_a_deal_and_moving_back_opens_it(
    vault: Vault, business: PortalBusiness, staff_client: Callable[..., FlaskClient]
) -> None:
    customer = connected(vault, business)
    deal_id = open_deal(vault, business, customer.subject)
    stages = stage_ids(vault, business)
    client = staff_client("agent")
    client.post(f"/portal/deals/{deal_id}/move", data=move_form(client, stages["won"]))
    [row] = deal_rows(vault, business)
    assert row.closed_at is not None
    client.post(f"/portal/deals/{deal_id}/move", data=move_form(client, stages["invoice"]))
    [row] = deal_rows(vault, business)
    assert row.closed_at is None
    assert open_deal(vault, business, customer.subject, stage="lost")
    assert sum(1 for r in deal_rows(vault, business) if r.closed_at is not None) == 1


def test_a_card_dropped_between_two_others_keeps_its_place(
    vault: Vault, business: PortalBusiness, staff_client: Callable[..., FlaskClient]
) -> None:
    customer = connected(vault, business)
    first, second, third = (
        open_deal(vault, business, customer.subject, title=t) for t in ("First", "Second", "Third")
    )
    stages = stage_ids(vault, business)
    client = staff_client("agent")
    client.post(f"/portal/deals/{third}/move", data=move_form(client, stages["new"], position="1"))
    column = column_of(client.get("/portal/deals").text, stages["new"])
    assert column.index(">First<") < column.index(">Third<") < column.index(">Second<")
    assert first and second


def test_totals_per_stage_add_up_each_currency(
    vault: Vault, business: PortalBusiness, staff_client: Callable[..., FlaskClient]
) -> None:
    customer = connected(vault, business)
    open_deal(vault, business, customer.subject, amount="100.10", currency="AZN")
    open_deal(vault, business, customer.subject, amount="50.45", currency="AZN")
    open_deal(vault, business, customer.subject, amount="20", currency="EUR")
    open_deal(vault, business, customer.subject, amount=None, currency=None, stage="proposal")
    with vault.unit_of_work(write=False) as uow:
        totals = {t.stage.code: t for t in stage_totals(uow, business.id)}
    assert totals["new"].count == 3
    assert totals["new"].sums == {"AZN": Decimal("150.55"), "EUR": Decimal("20.00")}
    assert totals["proposal"].count == 1
    assert totals["proposal"].sums == {}
    assert totals["won"].count == 0
    board = staff_client("viewer").get("/portal/deals").text
    assert "3 deals · AZN150.55 · €20.00" in board
    assert "1 deal<" in board


def test_a_revoked_customers_deals_vanish_at_the_next_page_load(
    vault: Vault, business: PortalBusiness, staff_client: Callable[..., FlaskClient]
) -> None:
    staying = connected(vault, business)
    leaving = connected(vault, business)
    open_deal(vault, business, staying.subject, title="Stays on the board")
    gone = open_deal(vault, business, leaving.subject, title="Leaves the board", amount="999")
    client = staff_client("agent")
    assert "Leaves the board" in client.get("/portal/deals").text
    revoke(vault, leaving)
    board = client.get("/portal/deals").text
    assert "Stays on the board" in board
    assert "Leaves the board" not in board
    assert leaving.subject not in board
    assert "AZN999" not in board
    assert "Leaves the board" not in client.get("/portal/deals/list").text
    assert client.get(f"/portal/deals/{gone}").status_code == 404
    stages = stage_ids(vault, business)
    move = client.post(f"/portal/deals/{gone}/move", data=move_form(client, stages["won"]))
    assert move.status_code == 404
    with vault.unit_of_work(write=False) as uow:
        [new] = [t for t in stage_totals(uow, business.id) if t.stage.code == "new"]
    assert new.count == 1
    assert len(deal_rows(vault, business)) == 2  # kept until retention ends, only hidden


def test_the_list_filters_by_stage_and_owner_with_totals(
    vault: Vault, business: PortalBusiness, staff_client: Callable[..., FlaskClient]
) -> None:
    customer = connected(vault, business)
    open_deal(vault, business, customer.subject, title="Carpet deal", amount="10")
    open_deal(vault, business, customer.subject, title="Lamp deal", amount="5", stage="meeting")
    stages = stage_ids(vault, business)
    client = staff_client("viewer")
    everything = client.get("/portal/deals/list").text
    assert "Carpet deal" in everything and "Lamp deal" in everything
    assert "2 deals · AZN15.00" in everything
    meeting = client.get(f"/portal/deals/list?stage={stages['meeting']}").text
    assert "Lamp deal" in meeting and "Carpet deal" not in meeting
    assert "1 deal · AZN5.00" in meeting
    owner = client.get(f"/portal/deals/list?owner={business.staff_id('owner')}").text
    assert "No deal matches this filter." in owner
    agent = client.get(f"/portal/deals/list?owner={business.staff_id('agent')}").text
    assert "Carpet deal" in agent and "Lamp deal" in agent
    bad = client.get("/portal/deals/list?stage=nonsense&owner=x")
    assert bad.status_code == 200
    assert "Choose one of the options in the list." in bad.text


def test_a_deal_is_changed_and_bad_changes_are_refused(
    vault: Vault, business: PortalBusiness, staff_client: Callable[..., FlaskClient]
) -> None:
    customer = connected(vault, business)
    deal_id = open_deal(vault, business, customer.subject)
    stages = stage_ids(vault, business)
    client = staff_client("owner")
    page = client.get(f"/portal/deals/{deal_id}")
    form = {
        "csrf_token": csrf_token(page.text),
        "title": "Three Kuba carpets",
        "details": "",
        "amount": "1900",
        "currency": "TRY",
        "expected_close": "",
        "owner": str(business.staff_id("owner")),
        "stage": str(stages["won"]),
    }
    bad = client.post(f"/portal/deals/{deal_id}/edit", data={**form, "amount": "0"})
    assert bad.status_code == 200
    assert "The amount must be more than zero." in bad.text
    assert 'value="Three Kuba carpets"' in bad.text
    [row] = deal_rows(vault, business)
    assert (row.amount, row.currency, row.stage_id) == (Decimal("1250.00"), "AZN", stages["new"])
    answer = client.post(f"/portal/deals/{deal_id}/edit", data=form)
    assert answer.status_code == 303
    [row] = deal_rows(vault, business)
    assert (row.amount, row.currency, row.stage_id) == (Decimal("1900.00"), "TRY", stages["won"])
    assert row.owner_id == business.staff_id("owner")
    assert row.closed_at is not None
    assert "<h1>Three Kuba carpets</h1>" in client.get(f"/portal/deals/{deal_id}").text


def test_a_deal_is_deleted(
    vault: Vault, business: PortalBusiness, staff_client: Callable[..., FlaskClient]
) -> None:
    customer = connected(vault, business)
    deal_id = open_deal(vault, business, customer.subject)
    client = staff_client("agent")
    token = csrf_token(client.get(f"/portal/deals/{deal_id}").text)
    answer = client.post(f"/portal/deals/{deal_id}/delete", data={"csrf_token": token})
    assert answer.status_code == 303
    assert deal_rows(vault, business) == []
    assert client.get(f"/portal/deals/{deal_id}").status_code == 404


def test_a_customers_deals_are_listed_for_the_card(vault: Vault, business: PortalBusiness) -> None:
    from business_portal.deals.services import deals_for_subject

    customer = connected(vault, business)
    other = connected(vault, business)
    open_deal(vault, business, customer.subject, title="Theirs")
    open_deal(vault, business, other.subject, title="Someone else's")
    with vault.unit_of_work(write=False) as uow:
        assert [d.title for d in deals_for_subject(uow, business.id, customer.subject)] == [
            "Theirs"
        ]
    revoke(vault, customer)
    with vault.unit_of_work(write=False) as uow:
        assert deals_for_subject(uow, business.id, customer.subject) == []
