"""The customer list at /portal/customers: exactly the granted fields, search over them,
filters, sort, pages, CSV, and tenant isolation (DESIGN invariants 4 and 6)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from business_portal.records.models import CustomerTag
from business_portal.segments.models import RfmScore
from tests.business_portal.conftest import Connected, PortalBusiness, connect_customer
from vault.access_log.models import AccessEvent
from vault.agreements.services import Context, restrict_agreement, revoke_agreement
from vault.profile.services import set_field
from vault.unit_of_work import Vault

FIELDS = {
    "identity.given_name": "read",
    "identity.family_name": "read",
    "contact.email": "read",
    "contact.phone": "read",
}
# Şəhla keeps this family name but does not grant it: it must never reach a page.
WITHHELD = "Gizlixanımova"
CUSTOMER = Context(actor="customer")
Client = Callable[..., FlaskClient]


def subjects(html: str) -> list[str]:
    """Return the pairwise ids the table lists, in order."""
    return re.findall(r'class="subject" href="[^"]+">(c_[a-z0-9]+)</a>', html)


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


@pytest.fixture
def shehla(vault: Vault, business: PortalBusiness) -> Connected:
    profile = {
        "identity.given_name": "Şəhla",
        "identity.family_name": WITHHELD,
        "contact.email": "shahla@example.az",
        "contact.phone": "+994501234567",
    }
    granted = {k: "read" for k in ("identity.given_name", "contact.email", "contact.phone")}
    return connect_customer(vault, business.id, profile, FIELDS, granted)


@pytest.fixture
def aysel(vault: Vault, business: PortalBusiness) -> Connected:
    profile = {"identity.given_name": "Aysel", "identity.family_name": "Quliyeva"}
    return connect_customer(vault, business.id, profile, FIELDS)


def test_only_granted_fields_appear_the_rest_read_not_shared(
    staff_client: Client, shehla: Connected, aysel: Connected
) -> None:
    page = staff_client("viewer").get("/portal/customers")
    assert page.status_code == 200
    assert sorted(subjects(page.text)) == sorted([shehla.subject, aysel.subject])
    assert "Şəhla" in page.text and "+994 50 123 45 67" in page.text and "Quliyeva" in page.text
    assert WITHHELD not in page.text
    row = page.text.split(shehla.subject + "</a>", 1)[1].split("</tr>", 1)[0]
    assert '<span class="not-shared">not shared</span>' in row
    assert f'href="/portal/customers/{shehla.subject}"' in page.text


def test_the_csv_holds_granted_fields_only(
    staff_client: Client, shehla: Connected, aysel: Connected
) -> None:
    answer = staff_client("agent").get("/portal/customers.csv?sort=id")
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    assert WITHHELD not in answer.text
    header, *rows = csv_rows(answer.text)
    assert header == ["Pairwise ID", "Given name", "Family name", "E-mail", "Phone"]
    by_subject = {row[0]: row for row in rows}
    assert by_subject[shehla.subject] == [
        shehla.subject,
        "Şəhla",
        "",
        "shahla@example.az",
        "'+994 50 123 45 67",  # never a formula in a spreadsheet
    ]
    assert by_subject[aysel.subject][1:3] == ["Aysel", "Quliyeva"]
    assert [row[0] for row in rows] == sorted(by_subject)


def test_csv_cells_that_look_like_formulas_stay_text(
    vault: Vault, business: PortalBusiness, staff_client: Client
) -> None:
    connect_customer(
        vault,
        business.id,
        {"identity.given_name": "=HYPERLINK(1)", "identity.family_name": "@SUM(A1)"},
        FIELDS,
    )
    rows = csv_rows(staff_client().get("/portal/customers.csv").text)
    assert rows[1][1:3] == ["'=HYPERLINK(1)", "'@SUM(A1)"]


@pytest.mark.parametrize(
    "typed", ["sehla", "ŞƏHLA", "Şəh", "shahla@example.az", "@example.az", "4567"]
)
def test_search_finds_by_prefix_whatever_the_case_and_diacritics(
    staff_client: Client, shehla: Connected, aysel: Connected, typed: str
) -> None:
    page = staff_client().get("/portal/customers", query_string={"q": typed})
    assert subjects(page.text) == [shehla.subject]


def test_search_never_finds_by_a_field_that_was_not_granted(
    staff_client: Client, shehla: Connected, aysel: Connected
) -> None:
    for typed in ("gizli", WITHHELD):
        page = staff_client().get("/portal/customers", query_string={"q": typed})
        assert subjects(page.text) == []
        assert "No customer matches this search and these filters." in page.text


def test_every_search_word_must_match(
    staff_client: Client, shehla: Connected, aysel: Connected
) -> None:
    client = staff_client()
    assert subjects(client.get("/portal/customers?q=ays+quli").text) == [aysel.subject]
    assert subjects(client.get("/portal/customers?q=ays+sehla").text) == []


def test_filters_by_agreement_status_and_purpose(
    vault: Vault,
    business: PortalBusiness,
    staff_client: Client,
    shehla: Connected,
    aysel: Connected,
) -> None:
    ending = connect_customer(vault, business.id, {}, FIELDS, duration="P20D")
    marketing = connect_customer(vault, business.id, {}, FIELDS, purpose="Marketing")
    with vault.unit_of_work() as uow:
        restrict_agreement(uow, aysel.agreement_id, aysel.customer_id, CUSTOMER)
    client = staff_client()

    def listed(**params: str) -> set[str]:
        return set(subjects(client.get("/portal/customers", query_string=params).text))

    assert listed(status="paused") == {aysel.subject}
    assert listed(status="expiring") == {ending.subject}
    assert listed(status="active") == {shehla.subject, marketing.subject}
    assert listed(purpose="Marketing") == {marketing.subject}
    assert listed(purpose="Marketing", status="paused") == set()
    page = client.get("/portal/customers?status=paused")
    row = page.text.split(aysel.subject + "</a>", 1)[1].split("</tr>", 1)[0]
    assert "Paused by the customer" in row and "Aysel" not in row


def test_filters_by_tag_segment_and_field_present(
    vault: Vault,
    business: PortalBusiness,
    staff_client: Client,
    shehla: Connected,
    aysel: Connected,
) -> None:
    no_phone = connect_customer(vault, business.id, {"identity.given_name": "Leyla"}, FIELDS)
    now = vault.clock()
    with vault.unit_of_work() as uow:
        uow.session.add(
            CustomerTag(
                business_id=business.id, subject=aysel.subject, tag="kolleksiyaçı", created_at=now
            )
        )
        score = {
            "business_id": business.id,
            "subject": shehla.subject,
            "agreement_id": shehla.agreement_id,
            "recency": 5,
            "frequency": 5,
            "monetary": 5,
            "segment": "champions",
            "last_purchase_at": now,
            "purchases": 9,
            "spent": Decimal("900.00"),
            "computed_at": now,
        }
        if "currency" in RfmScore.__table__.c:
            score["currency"] = "AZN"
        uow.session.add(RfmScore(**score))
        uow.commit()
    client = staff_client()

    def listed(**params: str) -> list[str]:
        return subjects(client.get("/portal/customers", query_string=params).text)

    assert listed(tag="kolleksiyaçı") == [aysel.subject]
    assert listed(segment="champions") == [shehla.subject]
    assert listed(segment="lost") == []
    assert listed(present="contact.phone") == [shehla.subject]
    assert set(listed(present="identity.given_name")) == {
        shehla.subject,
        aysel.subject,
        no_phone.subject,
    }
    assert listed(segment="champions", q="aysel") == []
    assert (
        '<option value="kolleksiyaçı">kolleksiyaçı</option>' in client.get("/portal/customers").text
    )


def test_bad_filters_are_explained_and_change_nothing(
    staff_client: Client, shehla: Connected, aysel: Connected
) -> None:
    page = staff_client().get(
        "/portal/customers",
        query_string={
            "status": "bogus",
            "sort": "sideways",
            "q": "a",
            "after": "x~y~z",
            "before": "~",
        },
    )
    assert page.status_code == 200
    assert page.text.count("Choose one of the options in the list.") == 2
    assert "Type at least two letters or digits." in page.text
    assert sorted(subjects(page.text)) == sorted([shehla.subject, aysel.subject])
    too_many = staff_client().get("/portal/customers?q=" + "+".join(f"a{c}" for c in "bcdefghij"))
    assert "Use at most 8 words." in too_many.text


@pytest.mark.parametrize("sort", ["newest", "oldest", "ending", "id"])
@pytest.mark.parametrize("q", ["", "ays"])
def test_pages_of_25_with_next_and_previous(
    vault: Vault, business: PortalBusiness, staff_client: Client, sort: str, q: str
) -> None:
    made = [
        connect_customer(vault, business.id, {"identity.given_name": "Aysel"}, FIELDS).subject
        for _ in range(27)
    ]
    if q:  # a customer the search must leave out
        connect_customer(vault, business.id, {"identity.given_name": "Leyla"}, FIELDS)
    client = staff_client()
    first = client.get("/portal/customers", query_string={"sort": sort, "q": q})
    page_one = subjects(first.text)
    assert len(page_one) == 25 and 'rel="prev"' not in first.text
    if sort == "id":
        assert page_one == sorted(made)[:25]
    if sort == "oldest":
        assert page_one == made[:25]
    if sort == "newest":
        assert page_one == made[::-1][:25]
    next_url = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert next_url is not None
    second = client.get(next_url.group(1).replace("&amp;", "&"))
    page_two = subjects(second.text)
    assert len(page_two) == 2 and set(page_one) | set(page_two) == set(made)
    assert 'rel="next"' not in second.text
    previous_url = re.search(r'href="([^"]+)" rel="prev"', second.text)
    assert previous_url is not None
    back = client.get(previous_url.group(1).replace("&amp;", "&"))
    assert subjects(back.text) == page_one
    assert 'rel="prev"' not in back.text


def test_another_business_never_lists_or_finds_these_customers(
    staff_client: Client, other_business: PortalBusiness, shehla: Connected
) -> None:
    client = staff_client("owner", of=other_business)
    for query in ("", "?q=sehla", "?q=4567"):
        page = client.get("/portal/customers" + query)
        assert page.status_code == 200 and shehla.subject not in page.text
    assert shehla.subject not in client.get("/portal/customers.csv").text


def test_a_revoked_customer_is_gone_at_the_next_load(
    vault: Vault, staff_client: Client, shehla: Connected, aysel: Connected
) -> None:
    client = staff_client()
    assert shehla.subject in client.get("/portal/customers").text
    with vault.unit_of_work() as uow:
        revoke_agreement(uow, shehla.agreement_id, shehla.customer_id, CUSTOMER)
    assert subjects(client.get("/portal/customers").text) == [aysel.subject]
    assert shehla.subject not in client.get("/portal/customers.csv").text
    assert subjects(client.get("/portal/customers?q=sehla").text) == []


def test_a_profile_update_is_found_by_the_next_search(
    vault: Vault, staff_client: Client, aysel: Connected
) -> None:
    client = staff_client()
    assert subjects(client.get("/portal/customers?q=aysel").text) == [aysel.subject]
    with vault.unit_of_work() as uow:
        set_field(uow, aysel.customer_id, "identity.given_name", "Leyla")
    assert subjects(client.get("/portal/customers?q=leyla").text) == [aysel.subject]
    assert subjects(client.get("/portal/customers?q=aysel").text) == []


def test_each_page_read_goes_through_the_gate_and_is_logged(
    vault: Vault,
    business: PortalBusiness,
    staff_client: Client,
    shehla: Connected,
    aysel: Connected,
) -> None:
    staff_client("agent").get("/portal/customers")
    with vault.unit_of_work() as uow:
        reads = uow.session.scalars(
            select(AccessEvent).where(
                AccessEvent.actor == f"staff:{business.staff_id('agent')}",
                AccessEvent.kind == "profile.read",
            )
        ).all()
    assert sorted((r.agreement_id, r.kind, r.outcome) for r in reads) == sorted(
        [
            (shehla.agreement_id, "profile.read", "allowed"),
            (aysel.agreement_id, "profile.read", "allowed"),
        ]
    )
    shehla_read = next(r for r in reads if r.agreement_id == shehla.agreement_id)
    assert "identity.family_name" not in (shehla_read.fields or [])


def test_signed_out_visitors_are_sent_to_sign_in(app_client: FlaskClient) -> None:
    for path in ("/portal/customers", "/portal/customers.csv"):
        answer = app_client.get(path)
        assert answer.status_code == 303 and "/portal/login" in answer.location


@pytest.fixture
def app_client(client: FlaskClient, business: PortalBusiness) -> FlaskClient:
    return client


def test_an_agreement_ending_soon_says_until_when(
    app: Flask,
    vault: Vault,
    business: PortalBusiness,
    staff_client: Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connect_customer(vault, business.id, {"identity.given_name": "Aysel"}, FIELDS, duration="P40D")
    start = vault.clock()
    later = start + timedelta(days=15)
    monkeypatch.setattr(app.extensions["emanet"].vault, "clock", lambda: later)
    page = staff_client().get("/portal/customers")
    assert '<span class="status status-expiring">Ending within 30 days</span>' in page.text
    assert "until " in page.text
