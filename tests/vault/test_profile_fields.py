"""Profile fields: round trip of every catalogue field, history, bad input changes nothing."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from schemas.field_catalogue import FIELD_CATALOGUE
from schemas.field_errors import FieldValueError, UnknownFieldError
from tests.field_examples import GOOD_VALUES
from vault.errors import CustomerNotFoundError
from vault.profile.models import ProfileField, ProfileFieldVersion
from vault.profile.services import (
    delete_field,
    field_history,
    get_field,
    read_fields,
    set_field,
)
from vault.unit_of_work import Vault


@pytest.mark.parametrize("key", list(FIELD_CATALOGUE))
def test_every_catalogue_field_round_trips(vault: Vault, customer_id: uuid.UUID, key: str) -> None:
    raw, canonical = GOOD_VALUES[key]
    with vault.unit_of_work() as uow:
        assert set_field(uow, customer_id, key, raw) == 1
    vault.data_keys.cache.clear()  # read through the wrapped key, not the cache
    with vault.unit_of_work(write=False) as uow:
        stored = get_field(uow, customer_id, key)
    assert stored is not None
    assert stored.value == canonical
    assert stored.version == 1


def test_history_keeps_every_version_and_the_deletion(vault: Vault, customer_id: uuid.UUID) -> None:
    for name in ("Aysel", "Ayselə", "Aysel Nur"):
        with vault.unit_of_work() as uow:
            set_field(uow, customer_id, "identity.given_name", name)
    with vault.unit_of_work() as uow:
        assert delete_field(uow, customer_id, "identity.given_name") is True
    with vault.unit_of_work(write=False) as uow:
        history = field_history(uow, customer_id, "identity.given_name")
        current = get_field(uow, customer_id, "identity.given_name")
    assert current is None
    assert [(v.version, v.value, v.deleted) for v in history] == [
        (4, None, True),
        (3, "Aysel Nur", False),
        (2, "Ayselə", False),
        (1, "Aysel", False),
    ]
    with vault.unit_of_work() as uow:
        assert set_field(uow, customer_id, "identity.given_name", "Aysel") == 5


def test_read_fields_returns_only_the_fields_asked_for(
    vault: Vault, customer_id: uuid.UUID
) -> None:
    with vault.unit_of_work() as uow:
        set_field(uow, customer_id, "identity.given_name", "Leyla")
    with vault.unit_of_work() as uow:
        set_field(uow, customer_id, "contact.region", "Abşeron")
    with vault.unit_of_work(write=False) as uow:
        assert set(read_fields(uow, customer_id)) == {"identity.given_name", "contact.region"}
        assert set(read_fields(uow, customer_id, ["contact.region"])) == {"contact.region"}


@pytest.mark.parametrize(
    ("key", "raw", "error"),
    [
        ("contact.phone", "0501234567", FieldValueError),
        ("identity.birth_date", "2023-02-30", FieldValueError),
        ("contact.email", "a@b@c.az", FieldValueError),
        ("identity.given_name", "Ali\x00", FieldValueError),
        (
            "contact.address",
            {"street": "x", "city": "y", "postal_code": "1", "country": "XX"},
            FieldValueError,
        ),
        ("identity.shoe_size", "42", UnknownFieldError),
    ],
)
def test_bad_value_is_rejected_and_stores_nothing(
    vault: Vault, customer_id: uuid.UUID, key: str, raw: object, error: type[Exception]
) -> None:
    with vault.unit_of_work() as uow:
        set_field(uow, customer_id, "identity.family_name", "Əliyev")
    with vault.unit_of_work() as uow, pytest.raises(error) as caught:
        set_field(uow, customer_id, key, raw)
    assert str(caught.value)
    with vault.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(func.count()).select_from(ProfileField)) == 1
        assert uow.session.scalar(select(func.count()).select_from(ProfileFieldVersion)) == 1


def test_a_batch_with_one_bad_value_stores_none_of_it(vault: Vault) -> None:
    from tests.conftest import make_customer

    with pytest.raises(FieldValueError):
        make_customer(vault, profile={"identity.given_name": "Tural", "contact.phone": "12345"})
    with vault.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(func.count()).select_from(ProfileField)) == 0


def test_writing_for_an_unknown_customer_fails_clearly(vault: Vault) -> None:
    with vault.unit_of_work() as uow, pytest.raises(CustomerNotFoundError):
        set_field(uow, uuid.uuid4(), "identity.given_name", "Nobody")


def test_deleting_a_granted_field_tells_the_business_which_field_but_no_value(
    vault: Vault, customer_id: uuid.UUID
) -> None:
    from tests.factories import make_active_agreement, make_business
    from vault.outbox.models import OutboxEvent

    with vault.unit_of_work() as uow:
        set_field(uow, customer_id, "contact.region", "Şəki")
    business_id, _ = make_business(vault)
    make_active_agreement(vault, business_id, customer_id, {"contact.region": "read"})
    with vault.unit_of_work() as uow:
        delete_field(uow, customer_id, "contact.region")
    with vault.unit_of_work(write=False) as uow:
        updates = uow.session.scalars(
            select(OutboxEvent).where(OutboxEvent.type == "profile.updated")
        ).all()
    assert [u.payload["fields"] for u in updates] == [["contact.region"]]
    assert "Şəki" not in str(updates[0].payload)
