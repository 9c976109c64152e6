"""The card's quick actions: log an interaction through the gate, add a note, tag a customer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from business_portal.notes.services import customer_notes, customer_tags
from business_portal.records.models import Note
from tests.backends import PostgresBackend, SqliteBackend
from tests.business_portal.conftest import PortalBusiness
from tests.business_portal.test_card_support import (
    Customer,
    connect,
    customer_vault_page,
    log_count,
    post_form,
)
from vault.interactions.services import list_interactions
from vault.unit_of_work import Vault

StaffClient = Callable[..., FlaskClient]


def _minute(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def _interactions(vault: Vault, customer: Customer) -> int:
    with vault.unit_of_work(write=False) as uow:
        return len(list_interactions(uow, customer.customer_id))


def test_a_purchase_logged_on_the_card_lands_in_the_customer_s_vault(
    app: Flask, vault: Vault, business: PortalBusiness, staff_client: StaffClient
) -> None:
    customer = connect(vault, business.id)
    agent = staff_client("agent")
    status, _body = post_form(
        agent,
        f"{customer.card}/interactions",
        {
            "kind": "purchase",
            "occurred_at": _minute(datetime.now(UTC) - timedelta(hours=1)),
            "summary": "Qajar-era carpet",
            "amount": "1200,50",
            "currency": "AZN",
        },
    )
    assert status == 303
    with vault.unit_of_work(write=False) as uow:
        (record,) = list_interactions(uow, customer.customer_id)
    assert record.logged_by == f"business:{business.id}"
    assert (record.kind.value, record.summary) == ("purchase", "Qajar-era carpet")
    assert (record.amount, record.currency) == (Decimal("1200.50"), "AZN")
    assert log_count(vault, "interaction.append", f"staff:{business.staff_id('agent')}") == 1
    card = agent.get(customer.card).text
    assert "Qajar-era carpet" in card and "1,200.50" in card
    # The customer sees it in their own timeline, under the business's name.
    timeline = customer_vault_page(app.test_client(), customer, "/interactions")
    assert "Qajar-era carpet" in timeline
    assert business.name in timeline


def test_a_purchase_without_an_amount_changes_nothing_and_says_why(
    vault: Vault, business: PortalBusiness, staff_client: StaffClient
) -> None:
    customer = connect(vault, business.id)
    status, body = post_form(
        staff_client("agent"),
        f"{customer.card}/interactions",
        {
            "kind": "purchase",
            "occurred_at": _minute(datetime.now(UTC)),
            "summary": "Silver samovar",
        },
    )
    assert status == 200
    assert "A purchase needs an amount and a currency" in body
    assert 'value="Silver samovar"' in body  # the input is kept
    assert '<details class="quick-action" id="log" open>' in body
    assert _interactions(vault, customer) == 0
    assert log_count(vault, "interaction.append") == 0


def test_an_interaction_in_the_future_changes_nothing_and_says_why(
    vault: Vault, business: PortalBusiness, staff_client: StaffClient
) -> None:
    customer = connect(vault, business.id)
    status, body = post_form(
        staff_client("agent"),
        f"{customer.card}/interactions",
        {
            "kind": "purchase",
            "occurred_at": _minute(datetime.now(UTC) + timedelta(days=2)),
            "summary": "Silver samovar",
            "amount": "80",
            "currency": "AZN",
        },
    )
    assert status == 200
    assert "This is in the future." in body
    assert _interactions(vault, customer) == 0


def test_malformed_input_is_answered_beside_the_field(
    vault: Vault, business: PortalBusiness, staff_client: StaffClient
) -> None:
    customer = connect(vault, business.id)
    agent = staff_client("agent")
    for data, message in (
        ({"kind": "teleport", "occurred_at": "2024-05-01T10:00"}, "Choose one of the options"),
        ({"kind": "call", "occurred_at": "yesterday"}, "Enter the date and the time"),
        ({"kind": "purchase", "occurred_at": "2024-05-01T10:00", "amount": "a lot"}, "digits"),
        ({"kind": "call", "occurred_at": "2024-05-01T10:00", "amount": "5"}, "Only a purchase"),
    ):
        status, body = post_form(agent, f"{customer.card}/interactions", data)
        assert status == 200, data
        assert message in body, data
    assert _interactions(vault, customer) == 0


def test_without_append_access_the_card_says_so_and_logs_nothing(
    vault: Vault, business: PortalBusiness, staff_client: StaffClient
) -> None:
    asked = {"identity.given_name": "read", "interactions": "append"}
    customer = connect(vault, business.id, asked, {"identity.given_name": "read"})
    status, body = post_form(
        staff_client("agent"),
        f"{customer.card}/interactions",
        {"kind": "call", "occurred_at": _minute(datetime.now(UTC)), "summary": "Rang"},
    )
    assert status == 200
    assert "has not agreed to let you add interactions" in body
    assert _interactions(vault, customer) == 0


def test_a_note_round_trips_and_rests_sealed(
    vault: Vault,
    business: PortalBusiness,
    staff_client: StaffClient,
    backend: SqliteBackend | PostgresBackend,
    database_url: str,
) -> None:
    customer = connect(vault, business.id)
    agent = staff_client("agent")
    body = "Collects Tabriz rugs; call after six zq71"
    status, _page = post_form(agent, f"{customer.card}/notes", {"body": body})
    assert status == 303
    card = agent.get(customer.card).text
    assert body in card
    assert f"By Agent of {business.name}" in card
    with vault.unit_of_work() as uow:
        (note,) = customer_notes(uow, business.id, customer.subject)
        assert note.body == body
        sealed = uow.session.scalar(select(Note.sealed))
    assert sealed is not None and b"zq71" not in sealed
    raw = backend.raw_bytes(database_url)
    assert b"zq71" not in raw and b"Tabriz" not in raw


def test_an_empty_note_changes_nothing_and_says_why(
    vault: Vault, business: PortalBusiness, staff_client: StaffClient
) -> None:
    customer = connect(vault, business.id)
    agent = staff_client("agent")
    for body, message in (("", "Write the note first."), ("   \n ", "This is required.")):
        status, page = post_form(agent, f"{customer.card}/notes", {"body": body})
        assert status == 200
        assert message in page
    long_note = "x" * 5001
    status, page = post_form(agent, f"{customer.card}/notes", {"body": long_note})
    assert status == 200 and "5000" in page
    with vault.unit_of_work() as uow:
        assert customer_notes(uow, business.id, customer.subject) == []


def test_tags_are_trimmed_kept_once_whatever_the_case_and_removed(
    vault: Vault, business: PortalBusiness, staff_client: StaffClient
) -> None:
    customer = connect(vault, business.id)
    agent = staff_client("agent")
    assert post_form(agent, f"{customer.card}/tags", {"tag": "  Collector "})[0] == 303
    assert post_form(agent, f"{customer.card}/tags", {"tag": "COLLECTOR"})[0] == 303
    assert post_form(agent, f"{customer.card}/tags", {"tag": "Wholesale"})[0] == 303
    with vault.unit_of_work() as uow:
        assert customer_tags(uow, business.id, customer.subject) == ["Collector", "Wholesale"]
    card = agent.get(customer.card).text
    assert "Remove the tag Collector" in card
    assert post_form(agent, f"{customer.card}/tags/remove", {"tag": "Collector"})[0] == 303
    with vault.unit_of_work() as uow:
        assert customer_tags(uow, business.id, customer.subject) == ["Wholesale"]


def test_a_bad_tag_changes_nothing_and_says_why(
    vault: Vault, business: PortalBusiness, staff_client: StaffClient
) -> None:
    customer = connect(vault, business.id)
    agent = staff_client("agent")
    for tag, message in (
        ("x" * 41, "Use at most 40 characters."),
        ("old, rare", "cannot contain a comma"),
        ("", "Write the tag first."),
        ("two\u202elines", "invisible control character"),
    ):
        status, page = post_form(agent, f"{customer.card}/tags", {"tag": tag})
        assert status == 200, tag
        assert message in page, tag
    with vault.unit_of_work() as uow:
        assert customer_tags(uow, business.id, customer.subject) == []
