"""Customer accounts: blind-indexed e-mail, Argon2id passwords, clear errors."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import TEST_PASSWORD, make_customer
from vault.accounts.models import Customer
from vault.accounts.passwords import PasswordPolicyError, Passwords
from vault.accounts.services import (
    EmailTakenError,
    authenticate,
    create_customer,
    email_index,
    login_email,
)
from vault.unit_of_work import Vault


def test_login_finds_the_account_by_blind_index_whatever_the_case(vault: Vault) -> None:
    customer = make_customer(vault, email="Leyla.Huseynova@Example.AZ")
    with vault.unit_of_work(write=False) as uow:
        assert authenticate(uow, "leyla.huseynova@example.az", TEST_PASSWORD) == customer
        assert authenticate(uow, "LEYLA.HUSEYNOVA@EXAMPLE.AZ", TEST_PASSWORD) == customer
        assert authenticate(uow, "leyla.huseynova@example.az", "wrong password!!") is None
        assert authenticate(uow, "nobody@example.az", TEST_PASSWORD) is None
        assert authenticate(uow, "not an e-mail", TEST_PASSWORD) is None
        assert login_email(uow, customer) == "leyla.huseynova@example.az"
        row = uow.session.get(Customer, customer)
        assert row is not None
        assert row.email_index == email_index(vault.provider, "leyla.huseynova@example.az")
        assert b"leyla" not in (row.email_ciphertext or b"").lower()


def test_the_password_is_stored_as_an_argon2id_hash(vault: Vault) -> None:
    customer = make_customer(vault)
    with vault.unit_of_work(write=False) as uow:
        stored = uow.session.scalar(select(Customer.password_hash).where(Customer.id == customer))
    assert stored is not None and stored.startswith("$argon2id$")
    assert TEST_PASSWORD not in stored


def test_a_second_account_with_the_same_e_mail_is_refused(vault: Vault) -> None:
    make_customer(vault, email="tural@example.az")
    with pytest.raises(EmailTakenError):
        make_customer(vault, email="Tural@Example.az")


@pytest.mark.parametrize(
    ("email", "password", "error", "phrase"),
    [
        ("tural@", TEST_PASSWORD, ValueError, "e-mail"),
        ("tural@example.az", "short", PasswordPolicyError, "at least 12"),
    ],
)
def test_bad_sign_up_input_is_refused_and_stores_nothing(
    vault: Vault, email: str, password: str, error: type[Exception], phrase: str
) -> None:
    with vault.unit_of_work() as uow, pytest.raises(error) as caught:
        create_customer(uow, email, password)
    assert phrase in str(caught.value).lower()
    with vault.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(Customer.id)) is None


def test_default_password_cost_follows_rfc_9106() -> None:
    hashed = Passwords().hash(TEST_PASSWORD)
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
