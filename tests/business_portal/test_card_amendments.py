"""Asking a connected customer for more fields or a longer term, from the card."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from broker.amendments import AmendmentError, amended_terms
from schemas.agreements import AgreementStatus, AgreementTerms
from schemas.api import AmendmentIn
from tests.business_portal.conftest import PortalBusiness
from tests.business_portal.test_card_support import (
    agreements_of,
    connect,
    customer_vault_page,
    post_form,
)
from tests.factories import terms_for
from vault.agreements.services import agreement_events
from vault.unit_of_work import Vault

StaffClient = Callable[..., FlaskClient]
TERMS = terms_for({"identity.given_name": "read", "contact.phone": "read"})


def _amend(**fields: object) -> AmendmentIn:
    return AmendmentIn.model_validate(fields)


def test_merging_adds_fields_and_keeps_the_rest() -> None:
    merged = amended_terms(TERMS, _amend(fields=[{"key": "contact.email"}]))
    assert merged.field_modes() == {
        "identity.given_name": "read",
        "contact.phone": "read",
        "contact.email": "read",
    }
    assert (str(merged.duration), merged.purpose_description) == (
        "P1Y",
        TERMS.purpose_description,
    )


def test_merging_replaces_a_field_asked_for_in_another_mode_and_the_term() -> None:
    merged = amended_terms(
        TERMS,
        _amend(
            fields=[{"key": "contact.phone", "mode": "write"}],
            duration="P2Y",
            purpose_description="Keep your number up to date",
        ),
    )
    assert merged.field_modes()["contact.phone"] == "write"
    assert len(merged.fields) == 2
    assert str(merged.duration) == "P2Y"
    assert merged.purpose_description == "Keep your number up to date"


@pytest.mark.parametrize(
    "amendment",
    [{}, {"fields": [{"key": "contact.phone"}]}, {"purpose_description": "Only new words"}],
)
def test_nothing_to_amend_is_refused(amendment: dict[str, object]) -> None:
    with pytest.raises(AmendmentError) as refused:
        amended_terms(TERMS, _amend(**amendment))
    assert (refused.value.field, refused.value.code) == ("fields", "nothing_to_amend")


def test_an_amendment_from_the_card_waits_in_the_customer_s_inbox(
    app: Flask, vault: Vault, business: PortalBusiness, staff_client: StaffClient
) -> None:
    customer = connect(vault, business.id)
    status, _body = post_form(
        staff_client("agent"),
        f"{customer.card}/amendments",
        {
            "agreement": str(customer.agreement_id),
            "fields": ["contact.address", "identity.family_name"],
            "duration": "P2Y",
            "purpose_description": "Deliver the carpet you buy",
        },
    )
    assert status == 303
    current, amendment = agreements_of(vault, customer.customer_id)
    assert current.id == customer.agreement_id and current.status == AgreementStatus.ACTIVE
    assert amendment.status == AgreementStatus.REQUESTED
    assert amendment.supersedes_id == customer.agreement_id
    assert amendment.business_id == business.id
    terms = AgreementTerms.model_validate(amendment.terms)
    assert set(terms.field_modes()) == {
        "identity.given_name",
        "contact.phone",
        "contact.email",
        "interactions",
        "contact.address",
        "identity.family_name",
    }
    assert str(terms.duration) == "P2Y"
    with vault.unit_of_work(write=False) as uow:
        (event,) = agreement_events(uow, amendment.id)
    assert (event.kind, event.actor) == ("requested", f"staff:{business.staff_id('agent')}")
    inbox = customer_vault_page(app.test_client(), customer, "/requests")
    assert "Deliver the carpet you buy" in inbox
    card = staff_client("viewer").get(customer.card).text
    assert "waiting for the customer" in card
    assert "Change requested" in card


def test_nothing_to_amend_changes_nothing_and_says_why(
    vault: Vault, business: PortalBusiness, staff_client: StaffClient
) -> None:
    customer = connect(vault, business.id)
    status, body = post_form(
        staff_client("agent"),
        f"{customer.card}/amendments",
        {"agreement": str(customer.agreement_id), "purpose_description": "Just saying hello"},
    )
    assert status == 200
    assert "Tick at least one more field, or choose a longer term." in body
    assert 'value="Just saying hello"' in body
    assert '<details class="quick-action" id="amend" open>' in body
    assert len(agreements_of(vault, customer.customer_id)) == 1


def test_a_term_that_ends_sooner_is_refused(
    vault: Vault, business: PortalBusiness, staff_client: StaffClient
) -> None:
    customer = connect(vault, business.id)
    status, body = post_form(
        staff_client("agent"),
        f"{customer.card}/amendments",
        {"agreement": str(customer.agreement_id), "duration": "P6M"},
    )
    assert status == 200
    assert "Choose a longer term." in body
    assert len(agreements_of(vault, customer.customer_id)) == 1


def test_one_change_waits_at_a_time(
    vault: Vault, business: PortalBusiness, staff_client: StaffClient
) -> None:
    customer = connect(vault, business.id)
    agent = staff_client("agent")
    ask = {"agreement": str(customer.agreement_id), "duration": "P2Y"}
    assert post_form(agent, f"{customer.card}/amendments", ask)[0] == 303
    status, body = post_form(agent, f"{customer.card}/amendments", ask)
    assert status == 200
    assert "already waiting for the customer" in body
    assert len(agreements_of(vault, customer.customer_id)) == 2


def test_fields_or_agreements_not_offered_are_refused(
    vault: Vault,
    business: PortalBusiness,
    other_business: PortalBusiness,
    staff_client: StaffClient,
) -> None:
    customer = connect(vault, business.id)
    elsewhere = connect(vault, other_business.id)
    agent = staff_client("agent")
    for data, message in (
        ({"agreement": str(customer.agreement_id), "fields": "no.such.field"}, "from the list"),
        ({"agreement": str(elsewhere.agreement_id), "duration": "P2Y"}, "not one you can change"),
        ({"agreement": str(customer.agreement_id), "duration": "P99Y"}, "Choose one of"),
    ):
        status, body = post_form(agent, f"{customer.card}/amendments", data)
        assert status == 200, data
        assert message in body, data
    assert len(agreements_of(vault, customer.customer_id)) == 1
    assert len(agreements_of(vault, elsewhere.customer_id)) == 1
