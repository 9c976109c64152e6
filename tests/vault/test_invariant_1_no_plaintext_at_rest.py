"""Invariant 1: no plaintext personal data at rest, and ciphertexts are bound to their place."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from schemas.interactions import InteractionEntry, InteractionKind
from tests.backends import PostgresBackend, SqliteBackend
from tests.conftest import make_customer
from vault.accounts.services import create_customer
from vault.interactions.models import Interaction
from vault.interactions.services import list_interactions, log_interaction
from vault.keys.aead import DecryptionError
from vault.keys.data_keys import DataKeys
from vault.keys.dek_cache import DekCache
from vault.keys.models import CustomerKey
from vault.keys.provider import UnwrapError
from vault.profile.models import ProfileField
from vault.profile.services import get_field, set_field
from vault.unit_of_work import Vault

CUSTOMERS = 1_000


def _forms(value: str) -> list[bytes]:
    raw = value.encode()
    # pg_dump prints bytea as hex, so a clear value in a binary column would show that way.
    return [raw, raw.hex().encode()]


def test_raw_database_holds_none_of_a_thousand_customers_values(
    vault: Vault, backend: SqliteBackend | PostgresBackend, database_url: str
) -> None:
    tag = secrets.token_hex(3)
    known: list[str] = []
    for number in range(CUSTOMERS):
        email = f"canary{number}.{tag}@example.org"
        given, family = f"Gulnarazq{tag}{number}", f"Mammadovaxq{tag}{number}"
        phone = f"+99450{number + 1000000:07d}"
        region = f"Absheronregionq{tag}{number}"
        with vault.unit_of_work() as uow:
            create_customer(
                uow,
                email,
                "a perfectly long test password",
                profile={
                    "identity.given_name": given,
                    "identity.family_name": family,
                    "contact.phone": phone,
                    "contact.region": region,
                    "contact.email": email,
                },
            )
        known += [email, given, family, phone, region]
    raw = backend.raw_bytes(database_url)
    # The dump is readable: a value stored in clear on purpose (a KEK id) is found.
    assert vault.provider.active_kek_id.encode() in raw
    leaked = [value for value in known if any(form in raw for form in _forms(value))]
    assert leaked == []


def test_field_ciphertext_moved_to_another_customer_does_not_decrypt(vault: Vault) -> None:
    alice = make_customer(vault, profile={"identity.given_name": "Aysel"})
    bob = make_customer(vault, profile={"identity.given_name": "Rəşad"})
    with vault.unit_of_work() as uow:
        stolen = uow.session.get(ProfileField, (alice, "identity.given_name"))
        assert stolen is not None
        uow.session.execute(
            update(ProfileField)
            .where(ProfileField.customer_id == bob, ProfileField.field_key == "identity.given_name")
            .values(ciphertext=stolen.ciphertext)
        )
        uow.commit()
    with vault.unit_of_work(write=False) as uow, pytest.raises(DecryptionError):
        get_field(uow, bob, "identity.given_name")


@pytest.mark.parametrize(("source", "target"), [("identity.given_name", "identity.family_name")])
def test_field_ciphertext_moved_to_another_field_does_not_decrypt(
    vault: Vault, customer_id: uuid.UUID, source: str, target: str
) -> None:
    with vault.unit_of_work() as uow:
        set_field(uow, customer_id, source, "Nigar")
    with vault.unit_of_work() as uow:
        set_field(uow, customer_id, target, "Həsənova")
    with vault.unit_of_work() as uow:
        moved = uow.session.get(ProfileField, (customer_id, source))
        assert moved is not None
        uow.session.execute(
            update(ProfileField)
            .where(ProfileField.customer_id == customer_id, ProfileField.field_key == target)
            .values(ciphertext=moved.ciphertext)
        )
        uow.commit()
    with vault.unit_of_work(write=False) as uow, pytest.raises(DecryptionError):
        get_field(uow, customer_id, target)


def test_field_ciphertext_relabelled_as_another_version_does_not_decrypt(
    vault: Vault, customer_id: uuid.UUID
) -> None:
    with vault.unit_of_work() as uow:
        set_field(uow, customer_id, "contact.region", "Gəncə")
    with vault.unit_of_work() as uow:
        uow.session.execute(
            update(ProfileField).where(ProfileField.customer_id == customer_id).values(version=7)
        )
        uow.commit()
    with vault.unit_of_work(write=False) as uow, pytest.raises(DecryptionError):
        get_field(uow, customer_id, "contact.region")


def test_interaction_ciphertext_moved_to_another_row_does_not_decrypt(
    vault: Vault, customer_id: uuid.UUID
) -> None:
    now = datetime.now(UTC)
    entries = [
        InteractionEntry(
            kind=InteractionKind.PURCHASE,
            occurred_at=now,
            summary="Carpet",
            amount=Decimal("1200.00"),
            currency="AZN",
        ),
        InteractionEntry(kind=InteractionKind.NOTE, occurred_at=now, details="Call back in May"),
    ]
    ids = []
    for entry in entries:
        with vault.unit_of_work() as uow:
            ids.append(log_interaction(uow, customer_id, entry))
    with vault.unit_of_work(write=False) as uow:
        assert {r.summary for r in list_interactions(uow, customer_id)} == {"Carpet", None}
    with vault.unit_of_work() as uow:
        first = uow.session.get(Interaction, ids[0])
        assert first is not None
        uow.session.execute(
            update(Interaction).where(Interaction.id == ids[1]).values(ciphertext=first.ciphertext)
        )
        uow.commit()
    with vault.unit_of_work(write=False) as uow, pytest.raises(DecryptionError):
        list_interactions(uow, customer_id)


def test_wrapped_data_key_moved_to_another_customer_does_not_unwrap(vault: Vault) -> None:
    alice = make_customer(vault, profile={"identity.given_name": "Elif"})
    bob = make_customer(vault, profile={"identity.given_name": "Mehmet"})
    with vault.unit_of_work() as uow:
        alice_key = uow.session.scalar(
            select(CustomerKey.wrapped_dek).where(CustomerKey.customer_id == alice)
        )
        uow.session.execute(
            update(CustomerKey).where(CustomerKey.customer_id == bob).values(wrapped_dek=alice_key)
        )
        uow.commit()
    fresh_keys = DataKeys(vault.provider, DekCache(0, 0))
    with vault.unit_of_work(write=False) as uow, pytest.raises(UnwrapError):
        fresh_keys.get(uow.session, bob)
