"""Building blocks of the segment tests: eight customers with known purchases and helpers.

(No tests here; the name keeps it among the segment tests' files.)
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from broker.gate import Caller, append_interaction
from business_portal.segments.models import RfmScore
from schemas.interactions import InteractionEntry, InteractionKind
from tests.business_portal.conftest import Connected, PortalBusiness, connect_customer, csrf_token
from vault.agreements.services import Context
from vault.interactions.services import log_interaction
from vault.unit_of_work import Vault

FIELDS = {
    "identity.given_name": "read",
    "contact.email": "read",
    "contact.phone": "read",
    "interactions": "append",
}
GRANTED = {"identity.given_name": "read", "contact.email": "read", "interactions": "append"}

# name: (days since the last purchase, purchases, AZN spent) and the segment worked out by
# hand for n = 8: score = 1 + floor(5 * beaten / 8), so beaten by 0-1 -> 1, 2-3 -> 2,
# 4 -> 3, 5-6 -> 4, 7 -> 5.
#            R  F  M
# Aysel      5  5  5  champions      Cavid    2  2  2  hibernating
# Babək      4  4  4  champions      Fidan    2  3  3  at_risk
# Ceyhun     4  1  1  new            Gülnar   1  1  2  lost
# Dilarə     3  4  4  loyal          Həsən    1  1  1  lost
PURCHASES = {
    "Aysel": (1, 6, Decimal("600.00")),
    "Babək": (2, 5, Decimal("500.00")),
    "Ceyhun": (3, 1, Decimal("50.00")),
    "Dilarə": (5, 4, Decimal("400.00")),
    "Cavid": (10, 2, Decimal("200.00")),
    "Fidan": (30, 3, Decimal("300.00")),
    "Gülnar": (60, 1, Decimal("100.00")),
    "Həsən": (90, 1, Decimal("20.00")),
}
SEGMENTS = {
    "Aysel": ("champions", 5, 5, 5),
    "Babək": ("champions", 4, 4, 4),
    "Ceyhun": ("new", 4, 1, 1),
    "Dilarə": ("loyal", 3, 4, 4),
    "Cavid": ("hibernating", 2, 2, 2),
    "Fidan": ("at_risk", 2, 3, 3),
    "Gülnar": ("lost", 1, 1, 2),
    "Həsən": ("lost", 1, 1, 1),
}
COUNTS = {
    "champions": 2,
    "loyal": 1,
    "potential_loyalist": 0,
    "new": 1,
    "at_risk": 1,
    "hibernating": 1,
    "lost": 2,
}
CUSTOMER = Context(actor="customer")


@dataclass(frozen=True)
class Shop:
    """The business's connected customers by first name, and what each did not share."""

    customers: dict[str, Connected]
    phones: dict[str, str]


def phone_of(number: int) -> str:
    return f"+99450{number:07d}"


def bought(
    vault: Vault, business_id: uuid.UUID, agreement_id: uuid.UUID, when: datetime, amount: str
) -> None:
    entry = InteractionEntry(
        kind=InteractionKind.PURCHASE,
        occurred_at=when,
        summary="Antique carpet",
        amount=Decimal(amount),
        currency="AZN",
    )
    with vault.unit_of_work() as uow:
        append_interaction(uow, Caller(business_id, "test:till"), agreement_id, entry)


def log_purchases(
    vault: Vault,
    business_id: uuid.UUID,
    connected: Connected,
    days: int,
    count: int,
    spent: Decimal,
) -> None:
    """Log `count` purchases summing to `spent`, the newest `days` ago, one a week before."""
    last = datetime.now(UTC) - timedelta(days=days, hours=1)
    amounts = [spent - (count - 1)] + [Decimal(1)] * (count - 1)
    for week, amount in enumerate(amounts):
        bought(
            vault,
            business_id,
            connected.agreement_id,
            last - timedelta(weeks=week),
            f"{amount:.2f}",
        )


@pytest.fixture
def shop(vault: Vault, business: PortalBusiness) -> Shop:
    customers, phones = {}, {}
    for number, (name, (days, count, spent)) in enumerate(PURCHASES.items()):
        phones[name] = phone_of(number)
        given = "=HYPERLINK(1)" if name == "Həsən" else name  # a formula must not survive
        profile = {
            "identity.given_name": given,
            "contact.email": f"customer{number}@example.org",
            "contact.phone": phones[name],
        }
        connected = connect_customer(vault, business.id, profile, FIELDS, GRANTED)
        customers[name] = connected
        log_purchases(vault, business.id, connected, days, count, spent)
    # Not purchases: a visit by the business and the customer's own entry do not count.
    with vault.unit_of_work() as uow:
        visit = InteractionEntry(kind=InteractionKind.VISIT, occurred_at=datetime.now(UTC))
        append_interaction(uow, Caller(business.id, "test"), customers["Həsən"].agreement_id, visit)
    with vault.unit_of_work() as uow:
        own = InteractionEntry(
            kind=InteractionKind.PURCHASE,
            occurred_at=datetime.now(UTC),
            amount=Decimal("9999.00"),
            currency="AZN",
        )
        log_interaction(uow, customers["Həsən"].customer_id, own)
    return Shop(customers, phones)


def scores(vault: Vault, business_id: uuid.UUID) -> dict[str, RfmScore]:
    with vault.unit_of_work(write=False) as uow:
        rows = uow.session.scalars(select(RfmScore).where(RfmScore.business_id == business_id))
        return {row.subject: row for row in rows}


def recompute(client: FlaskClient) -> FlaskClient:
    page = client.get("/portal/segments")
    answer = client.post("/portal/segments", data={"csrf_token": csrf_token(page.text)})
    assert answer.status_code == 303, answer.text
    return client


def counts_on(html: str) -> dict[str, int]:
    found = re.findall(
        r'href="/portal/segments/(\w+)">[^<]+</a></th>\s*<td class="num">(\d+)<', html
    )
    return {code: int(count) for code, count in found}


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
