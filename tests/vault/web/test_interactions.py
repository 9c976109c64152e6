"""The interactions timeline: every business's entries and the customer's own, never another's."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html import unescape

import pytest
from babel.numbers import format_currency
from flask.testing import FlaskClient

from broker.gate import Caller, append_interaction
from schemas.interactions import InteractionEntry, InteractionKind
from tests.conftest import make_customer
from tests.factories import make_active_agreement, make_business
from tests.vault.web.conftest import csrf_token
from vault.interactions.services import list_interactions, log_interaction
from vault.unit_of_work import Vault

SHOP = "Köhnə Şəhər Antikvarları"


def entries(html: str) -> list[str]:
    """Return the timeline's entries, newest first, as their text."""
    return [unescape(e) for e in re.findall(r'<li class="card entry.*?</li>', html, re.S)]


def stored(vault: Vault, customer_id: uuid.UUID) -> list[object]:
    with vault.unit_of_work(write=False) as uow:
        return list(list_interactions(uow, customer_id))


def add_form(client: FlaskClient, **fields: str) -> tuple[int, str]:
    token = csrf_token(client.get("/interactions").get_data(as_text=True))
    answer = client.post("/interactions", data={"csrf_token": token, **fields})
    return answer.status_code, answer.get_data(as_text=True)


def help_of(html: str, field: str) -> str:
    """Return the text shown beside a field (its error or its hint)."""
    found = re.search(rf'<p class="help" id="{field}-help">(.*?)</p>', html, re.S)
    assert found, f"nothing is shown beside {field}"
    return unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


@pytest.fixture
def shop(vault: Vault) -> uuid.UUID:
    return make_business(vault, name=SHOP)[0]


def test_the_timeline_needs_a_signed_in_customer(client: FlaskClient) -> None:
    assert client.get("/interactions").status_code == 303
    assert client.post("/interactions", data={}).status_code in (303, 400)


def test_shows_a_business_entry_and_the_customers_own_newest_first(
    client: FlaskClient, signed_in: Callable[..., uuid.UUID], vault: Vault, shop: uuid.UUID
) -> None:
    me = signed_in()
    agreement = make_active_agreement(vault, shop, me, {"interactions": "append"})
    bought = datetime.now(UTC) - timedelta(days=2)
    with vault.unit_of_work() as uow:
        append_interaction(
            uow,
            Caller(shop, "staff:rauf"),
            agreement,
            InteractionEntry(
                kind=InteractionKind.PURCHASE,
                occurred_at=bought,
                summary="Silk carpet",
                details="Qarabağ pattern\nDelivered on Friday",
                amount=Decimal("1450.00"),
                currency="AZN",
            ),
        )
    with vault.unit_of_work() as uow:
        log_interaction(
            uow,
            me,
            InteractionEntry(
                kind=InteractionKind.NOTE,
                occurred_at=datetime.now(UTC) - timedelta(hours=1),
                summary="Compare prices at the bazaar",
            ),
        )

    html = client.get("/interactions").get_data(as_text=True)

    newest, older = entries(html)
    assert "Note" in newest
    assert "You" in newest
    assert "Compare prices at the bazaar" in newest
    assert "Purchase" in older
    assert SHOP in older
    assert "Silk carpet" in older
    assert "Qarabağ pattern\nDelivered on Friday" in older  # the line break is kept
    assert format_currency(Decimal("1450.00"), "AZN", locale="en") in older


def test_entries_are_grouped_by_month(
    client: FlaskClient, signed_in: Callable[..., uuid.UUID], vault: Vault
) -> None:
    me = signed_in()
    for when in (datetime(2024, 3, 5, 10, tzinfo=UTC), datetime(2024, 1, 20, 9, tzinfo=UTC)):
        with vault.unit_of_work() as uow:
            log_interaction(uow, me, InteractionEntry(kind=InteractionKind.VISIT, occurred_at=when))

    html = client.get("/interactions").get_data(as_text=True)
    headings = re.findall(r'<h2 id="month-\d+">(.*?)</h2>', html)

    assert headings == ["March 2024", "January 2024"]
    az = client.get("/interactions?lang=az").get_data(as_text=True)
    assert re.findall(r'<h2 id="month-\d+">(.*?)</h2>', az) == ["Mart 2024", "Yanvar 2024"]


def test_another_customers_entries_never_show(
    client: FlaskClient, signed_in: Callable[..., uuid.UUID], vault: Vault, shop: uuid.UUID
) -> None:
    me = signed_in()
    other = make_customer(vault)
    theirs = make_active_agreement(vault, shop, other, {"interactions": "append"})
    with vault.unit_of_work() as uow:
        append_interaction(
            uow,
            Caller(shop, "staff:rauf"),
            theirs,
            InteractionEntry(
                kind=InteractionKind.CALL, occurred_at=datetime.now(UTC), summary="Their call"
            ),
        )
    with vault.unit_of_work() as uow:
        log_interaction(
            uow,
            other,
            InteractionEntry(
                kind=InteractionKind.NOTE, occurred_at=datetime.now(UTC), summary="Their note"
            ),
        )
    with vault.unit_of_work() as uow:
        log_interaction(
            uow,
            me,
            InteractionEntry(
                kind=InteractionKind.NOTE, occurred_at=datetime.now(UTC), summary="My note"
            ),
        )

    html = client.get("/interactions").get_data(as_text=True)

    assert [("My note" in e) for e in entries(html)] == [True]
    assert "Their call" not in html
    assert "Their note" not in html


def test_the_customer_adds_an_entry_of_their_own(
    client: FlaskClient, signed_in: Callable[..., uuid.UUID], vault: Vault
) -> None:
    me = signed_in()

    status, _ = add_form(
        client,
        kind="purchase",
        occurred_at="2024-05-01T14:30",
        summary="New kettle",
        details="From the market\nin Gəncə",
        amount="25,50",
        currency="AZN",
    )

    assert status == 303
    (record,) = stored(vault, me)
    assert record.kind is InteractionKind.PURCHASE
    assert record.logged_by == "customer"
    assert record.occurred_at == datetime(2024, 5, 1, 14, 30, tzinfo=UTC)
    assert record.summary == "New kettle"
    assert record.details == "From the market\nin Gəncə"
    assert (record.amount, record.currency) == (Decimal("25.50"), "AZN")
    page = client.get("/interactions").get_data(as_text=True)
    assert "Added to your timeline." in page
    assert "New kettle" in entries(page)[0]


@pytest.mark.parametrize(
    ("fields", "where", "message"),
    [
        (
            {"kind": "purchase", "summary": "A kettle"},
            "amount",
            "A purchase needs an amount and a currency",
        ),
        (
            {"kind": "purchase", "amount": "25", "summary": "A kettle"},
            "currency",
            "A purchase needs an amount and a currency",
        ),
        (
            {"kind": "visit", "amount": "25", "currency": "AZN", "summary": "A kettle"},
            "amount",
            "Only a purchase has an amount",
        ),
        ({"kind": "purchase", "amount": "25 manat", "currency": "AZN"}, "amount", "in digits"),
        ({"kind": "purchase", "amount": "0", "currency": "AZN"}, "amount", "more than zero"),
        ({"kind": "purchase", "amount": "2.555", "currency": "AZN"}, "amount", "two digits"),
        ({"kind": "note", "summary": "x" * 201}, "summary", "at most 200 characters"),
        ({"kind": "note", "summary": "two\u202elines"}, "summary", "invisible control"),
        ({"kind": "note", "occurred_at": "yesterday"}, "occurred_at", "for example"),
        ({"kind": "note", "occurred_at": ""}, "occurred_at", "Enter the date"),
        ({"kind": "shopping"}, "kind", "Choose one of the options in the list."),
        (
            {"kind": "purchase", "amount": "5", "currency": "XYZ"},
            "currency",
            "Choose one of the options",
        ),
    ],
)
def test_bad_input_shows_the_message_beside_the_field_keeps_the_input_and_stores_nothing(
    client: FlaskClient,
    signed_in: Callable[..., uuid.UUID],
    vault: Vault,
    fields: dict[str, str],
    where: str,
    message: str,
) -> None:
    me = signed_in()
    sent = {"occurred_at": "2024-05-01T14:30", "details": "Kept\nas typed", **fields}

    status, html = add_form(client, **sent)

    assert status == 200
    assert message in help_of(html, where)
    assert f'aria-describedby="{where}-help"' in html
    assert "Kept\nas typed</textarea>" in html
    if sent.get("summary") and len(sent["summary"]) <= 200 and "\u202e" not in sent["summary"]:
        assert f'value="{sent["summary"]}"' in html
    assert '<details class="card add-entry" open>' in html
    assert stored(vault, me) == []


def test_an_entry_in_the_future_is_refused(
    client: FlaskClient, signed_in: Callable[..., uuid.UUID], vault: Vault
) -> None:
    me = signed_in()
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")

    status, html = add_form(client, kind="visit", occurred_at=tomorrow, summary="Later")

    assert status == 200
    assert "in the future" in help_of(html, "occurred_at")
    assert stored(vault, me) == []


def test_a_form_without_its_csrf_token_stores_nothing(
    client: FlaskClient, signed_in: Callable[..., uuid.UUID], vault: Vault
) -> None:
    me = signed_in()

    answer = client.post("/interactions", data={"kind": "note", "occurred_at": "2024-05-01T14:30"})

    assert answer.status_code in (200, 400)
    assert stored(vault, me) == []


def test_user_text_shows_as_text(
    client: FlaskClient, signed_in: Callable[..., uuid.UUID], vault: Vault
) -> None:
    me = signed_in()
    payload = "<script>alert(1)</script>"

    status, _ = add_form(
        client, kind="note", occurred_at="2024-05-01T14:30", summary=payload, details=payload
    )
    html = client.get("/interactions").get_data(as_text=True)

    assert status == 303
    assert len(stored(vault, me)) == 1
    assert "<script>alert(1)</script>" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 2
