"""The customer card: exactly the granted fields, the agreement, one timeline, and who sees it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from broker.gate import Caller, append_interaction
from business_portal.notes.services import add_note
from business_portal.records.keys import business_cipher
from business_portal.records.models import Deal, Task
from business_portal.records.stages import pipeline
from schemas.field_catalogue import FIELD_CATALOGUE
from schemas.interactions import InteractionEntry
from tests.business_portal.conftest import Clock, PortalBusiness
from tests.business_portal.test_card_support import (
    GRANTED,
    HIDDEN,
    connect,
    log_count,
    post_form,
)
from vault.access_log.models import AccessEvent
from vault.agreements.services import Context, restrict_agreement, revoke_agreement
from vault.receipts.models import ConsentReceipt
from vault.receipts.services import verify_receipt
from vault.unit_of_work import Vault

StaffClient = Callable[..., FlaskClient]
CHANGES = [
    ("interactions", {"kind": "call", "occurred_at": "2024-05-01T10:00", "summary": "Hello"}),
    ("notes", {"body": "A note"}),
    ("tags", {"tag": "collector"}),
    ("tags/remove", {"tag": "collector"}),
    ("amendments", {"fields": "contact.address"}),
]


def test_the_card_shows_exactly_the_granted_fields(
    vault: Vault, business: PortalBusiness, staff_client: StaffClient
) -> None:
    customer = connect(vault, business.id)
    page = staff_client("viewer").get(customer.card)
    assert page.status_code == 200
    assert "<h1>Nigar</h1>" in page.text
    assert "+994 50 123 45 67" in page.text  # formatted for people
    assert customer.subject in page.text
    assert "Not shared" in page.text  # the e-mail was asked for and not granted
    for hidden in HIDDEN:
        assert hidden not in page.text
    # Each shown value says when it last changed.
    assert page.text.count('<tr class="field-shown">') == 2
    assert page.text.count("<time datetime=") >= 2


def test_every_field_is_read_through_the_gate_and_logged(
    vault: Vault, business: PortalBusiness, staff_client: StaffClient
) -> None:
    customer = connect(vault, business.id)
    actor = f"staff:{business.staff_id('viewer')}"
    staff_client("viewer").get(customer.card)
    with vault.unit_of_work(write=False) as uow:
        reads = list(
            uow.session.scalars(
                select(AccessEvent).where(
                    AccessEvent.kind == "profile.read", AccessEvent.actor == actor
                )
            )
        )
    assert [r.agreement_id for r in reads] == [customer.agreement_id]
    assert sorted(reads[0].fields or []) == ["contact.phone", "identity.given_name"]
    assert log_count(vault, "interaction.read", actor) == 1


def test_interactions_are_not_read_when_the_agreement_does_not_grant_them(
    vault: Vault, business: PortalBusiness, staff_client: StaffClient
) -> None:
    asked = {"identity.given_name": "read", "interactions": "append"}
    customer = connect(vault, business.id, asked, {"identity.given_name": "read"})
    page = staff_client("agent").get(customer.card)
    assert page.status_code == 200
    assert log_count(vault, "interaction.read") == 0
    assert "has not agreed to let you add interactions" in page.text
    assert 'name="amount"' not in page.text


def test_the_agreement_panel_shows_terms_fields_and_receipts(
    app: Flask, vault: Vault, business: PortalBusiness, staff_client: StaffClient
) -> None:
    customer = connect(vault, business.id)
    client = staff_client("viewer")
    page = client.get(customer.card).text
    for words in ("Customer care", "Call you when a piece you collect comes in", "30 days"):
        assert words in page
    assert "Shared some of the fields" in page  # the receipt of a partial grant
    with vault.unit_of_work(write=False) as uow:
        receipt = uow.session.scalars(
            select(ConsentReceipt).where(ConsentReceipt.agreement_id == customer.agreement_id)
        ).one()
    link = f"{customer.card}/receipts/{receipt.id}.jws"
    assert link in page
    download = client.get(link)
    assert download.status_code == 200
    assert download.mimetype == "application/jose"
    claims = verify_receipt(download.text, app.extensions["emanet"].vault.provider.public_jwks())
    assert json.dumps(claims)  # a real, checkable receipt


def test_a_paused_agreement_shows_no_values(
    vault: Vault, business: PortalBusiness, staff_client: StaffClient
) -> None:
    customer = connect(vault, business.id)
    with vault.unit_of_work() as uow:
        restrict_agreement(uow, customer.agreement_id, customer.customer_id, Context("customer"))
    page = staff_client("agent").get(customer.card)
    assert page.status_code == 200
    assert "Paused by the customer" in page.text
    assert "+994 50 123 45 67" not in page.text
    assert "<h1>Nigar</h1>" not in page.text


def _add_deal_and_task(vault: Vault, business_id: uuid.UUID, subject: str) -> uuid.UUID:
    with vault.unit_of_work() as uow:
        cipher = business_cipher(uow, business_id)
        stage = pipeline(uow, business_id)[0]
        deal_id, task_id = uuid.uuid4(), uuid.uuid4()
        now = uow.now()
        uow.session.add(
            Deal(
                id=deal_id,
                business_id=business_id,
                subject=subject,
                stage_id=stage.id,
                sealed=cipher.seal("deals", deal_id, {"title": "Qajar-era carpet"}),
                amount=Decimal("1200.00"),
                currency="AZN",
                created_at=now,
                updated_at=now,
            )
        )
        uow.session.flush()
        uow.session.add(
            Task(
                id=task_id,
                business_id=business_id,
                subject=subject,
                sealed=cipher.seal("tasks", task_id, {"title": "Call back about the carpet"}),
                due_on=now.date() + timedelta(days=2),
                created_at=now + timedelta(minutes=1),
            )
        )
        uow.commit()
    return deal_id


def test_one_timeline_newest_first(
    app: Flask,
    vault: Vault,
    business: PortalBusiness,
    staff_client: StaffClient,
    clock: Clock,
) -> None:
    customer = connect(vault, business.id)
    with vault.unit_of_work() as uow:
        entry = InteractionEntry(
            kind="visit",
            occurred_at=clock.now - timedelta(days=3),
            summary="Looked at silver samovars",
        )
        append_interaction(uow, Caller(business.id, "test"), customer.agreement_id, entry)
    clock.advance(hours=1)
    deal_id = _add_deal_and_task(vault, business.id, customer.subject)
    clock.advance(hours=1)
    with vault.unit_of_work() as uow:
        add_note(uow, business.id, customer.subject, "Prefers calls after six")
    page = staff_client("viewer").get(customer.card).text
    timeline = page[page.index('id="timeline"') :]
    order = [
        "Prefers calls after six",
        "Task added: Call back about the carpet",
        "Deal opened: Qajar-era carpet",
        "Sharing started",
        "Request sent",
        "Looked at silver samovars",
    ]
    positions = [timeline.index(text) for text in order]
    assert positions == sorted(positions)
    # The open deal and the open task are listed too, with the deal's stage and amount.
    assert "New" in page and "1,200.00" in page
    assert page.count("Call back about the carpet") == 2
    if "portal_deals.deal" in app.view_functions:
        assert f"/portal/deals/{deal_id}" in page


def test_a_customer_of_another_business_is_not_found(
    vault: Vault,
    business: PortalBusiness,
    other_business: PortalBusiness,
    staff_client: StaffClient,
) -> None:
    customer = connect(vault, business.id)
    stranger = staff_client("owner", of=other_business)
    assert stranger.get(customer.card).status_code == 404
    assert stranger.get("/portal/customers/c_nosuchcustomer").status_code == 404
    for path, data in CHANGES:
        status, _body = post_form(stranger, f"{customer.card}/{path}", data)
        assert status == 404, path
    with vault.unit_of_work(write=False) as uow:
        receipt_id = uow.session.scalars(select(ConsentReceipt.id)).first()
    assert stranger.get(f"{customer.card}/receipts/{receipt_id}.jws").status_code == 404
    assert log_count(vault, "interaction.append") == 0


@pytest.mark.parametrize("role", ["viewer", "compliance"])
def test_a_role_that_cannot_change_gets_403_on_every_change(
    vault: Vault, business: PortalBusiness, staff_client: StaffClient, role: str
) -> None:
    customer = connect(vault, business.id)
    client = staff_client(role)
    page = client.get(customer.card)
    assert page.status_code == 200
    assert f"{customer.card}/notes" not in page.text  # no forms offered
    for path, data in CHANGES:
        status, _body = post_form(client, f"{customer.card}/{path}", data)
        assert status == 403, path
    assert log_count(vault, "interaction.append") == 0


def test_after_revocation_the_card_and_its_actions_are_gone(
    vault: Vault, business: PortalBusiness, staff_client: StaffClient
) -> None:
    customer = connect(vault, business.id)
    client = staff_client("agent")
    assert client.get(customer.card).status_code == 200
    with vault.unit_of_work() as uow:
        revoke_agreement(uow, customer.agreement_id, customer.customer_id, Context("customer"))
    assert client.get(customer.card).status_code == 404
    for path, data in CHANGES:
        status, _body = post_form(client, f"{customer.card}/{path}", data)
        assert status == 404, path


def test_after_expiry_the_card_is_gone(
    app: Flask, vault: Vault, business: PortalBusiness, staff_client: StaffClient, clock: Clock
) -> None:
    customer = connect(vault, business.id)
    app.extensions["emanet"].vault.clock = clock
    client = staff_client("agent")
    assert client.get(customer.card).status_code == 200
    clock.now = clock.now.replace(year=clock.now.year + 1) + timedelta(days=2)
    assert client.get(customer.card).status_code == 404


def test_field_labels_follow_the_page_language(
    vault: Vault, business: PortalBusiness, staff_client: StaffClient
) -> None:
    customer = connect(vault, business.id)
    page = staff_client("viewer").get(customer.card + "?lang=tr")
    assert page.status_code == 200
    assert '<html lang="tr">' in page.text
    for key in GRANTED:
        if key in FIELD_CATALOGUE:
            assert f'<th scope="row">{FIELD_CATALOGUE[key].label("tr")}</th>' in page.text


def test_quick_links_open_the_task_and_deal_forms_for_this_customer(
    vault: Vault, business: PortalBusiness, staff_client: StaffClient
) -> None:
    customer = connect(vault, business.id)
    page = staff_client("agent").get(customer.card).text
    assert f"/portal/tasks/new?subject={customer.subject}" in page
    assert f"/portal/deals/new?subject={customer.subject}" in page
