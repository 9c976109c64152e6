"""Interactions in the relationship record, and the export of the whole vault."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from schemas.export import VaultExport
from schemas.interactions import InteractionEntry, InteractionKind
from tests.conftest import make_customer
from vault.export import export_vault
from vault.interactions.services import list_interactions, log_interaction
from vault.profile.services import delete_field, set_field
from vault.unit_of_work import Vault

NOW = datetime.now(UTC)


def test_interactions_round_trip_newest_first_and_filter_by_author(
    vault: Vault, customer_id: uuid.UUID
) -> None:
    entries = [
        (
            InteractionEntry(
                kind=InteractionKind.PURCHASE,
                occurred_at=NOW - timedelta(days=3),
                summary="Silk carpet",
                amount=Decimal("1450.00"),
                currency="AZN",
            ),
            "business:antique-shop",
        ),
        (
            InteractionEntry(
                kind=InteractionKind.CALL,
                occurred_at=NOW - timedelta(days=1),
                details="Asked to be called when a Qarabağ rug arrives",
            ),
            "business:antique-shop",
        ),
        (
            InteractionEntry(
                kind=InteractionKind.NOTE,
                occurred_at=NOW,
                details="Compare prices at the bazaar\nbefore buying",
            ),
            "customer",
        ),
    ]
    for entry, author in entries:
        with vault.unit_of_work() as uow:
            log_interaction(uow, customer_id, entry, logged_by=author)
    with vault.unit_of_work(write=False) as uow:
        everything = list_interactions(uow, customer_id)
        shop_only = list_interactions(uow, customer_id, logged_by="business:antique-shop")
    assert [r.kind for r in everything] == ["note", "call", "purchase"]
    assert everything[0].details == "Compare prices at the bazaar\nbefore buying"
    assert [r.kind for r in shop_only] == ["call", "purchase"]
    assert (shop_only[1].amount, shop_only[1].currency) == (Decimal("1450.00"), "AZN")


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"kind": "purchase", "occurred_at": NOW}, "purchase_amount_required"),
        (
            {"kind": "call", "occurred_at": NOW, "amount": "5", "currency": "AZN"},
            "amount_only_for_purchases",
        ),
        ({"kind": "visit", "occurred_at": NOW + timedelta(days=2)}, "interaction_in_future"),
        ({"kind": "visit", "occurred_at": "2026-01-01T10:00:00"}, "timezone_aware"),
        ({"kind": "gossip", "occurred_at": NOW}, "enum"),
        (
            {"kind": "purchase", "occurred_at": NOW, "amount": "-1", "currency": "AZN"},
            "greater_than",
        ),
        ({"kind": "note", "occurred_at": NOW, "details": "x" * 5001}, "text_too_long"),
    ],
)
def test_bad_interactions_are_refused_with_a_reason(values: dict[str, object], code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        InteractionEntry.model_validate(values)
    assert code in {error["type"] for error in caught.value.errors()}


def test_export_holds_everything_the_vault_holds(vault: Vault) -> None:
    customer = make_customer(
        vault,
        email="elif.yilmaz@example.com.tr",
        profile={"identity.given_name": "Elif", "contact.phone": "+90 532 123 45 67"},
    )
    with vault.unit_of_work() as uow:
        set_field(uow, customer, "identity.given_name", "Elif Naz")
    with vault.unit_of_work() as uow:
        delete_field(uow, customer, "contact.phone")
    with vault.unit_of_work() as uow:
        log_interaction(
            uow,
            customer,
            InteractionEntry(kind=InteractionKind.VISIT, occurred_at=NOW, summary="Showroom"),
        )
    with vault.unit_of_work(write=False) as uow:
        exported = export_vault(uow, customer)
    document = json.loads(exported.model_dump_json())
    assert VaultExport.model_validate(document) == exported
    assert document["account"] == {
        "id": str(customer),
        "email": "elif.yilmaz@example.com.tr",
        "locale": "en",
        "created_at": document["account"]["created_at"],
    }
    assert [(f["key"], f["value"], f["version"]) for f in document["fields"]] == [
        ("identity.given_name", "Elif Naz", 2)
    ]
    history = {
        (h["key"], h["version"]): (h["value"], h["deleted"]) for h in document["field_history"]
    }
    assert history == {
        ("identity.given_name", 1): ("Elif", False),
        ("identity.given_name", 2): ("Elif Naz", False),
        ("contact.phone", 1): ("+905321234567", False),
        ("contact.phone", 2): (None, True),
    }
    assert [i["summary"] for i in document["interactions"]] == ["Showroom"]
