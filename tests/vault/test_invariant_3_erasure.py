"""Invariant 3: erasure is crypto-shredding; no copy of the database decrypts the customer."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from emanet.bootstrap import build_runtime
from emanet.cli import main
from emanet.database import Database
from emanet.schema import metadata
from emanet.settings import Settings
from schemas.interactions import InteractionEntry, InteractionKind
from tests.backends import PostgresBackend, SqliteBackend
from tests.conftest import TEST_PASSWORD, make_customer
from vault.accounts.models import Customer
from vault.accounts.services import authenticate
from vault.erasure import erase_and_shred
from vault.errors import CustomerNotFoundError
from vault.interactions.services import log_interaction
from vault.keys.data_keys import DataKeys
from vault.keys.dek_cache import DekCache
from vault.keys.local_keyring import LocalKeyring
from vault.keys.provider import KeyringError, UnknownKeyError
from vault.profile.services import read_fields, set_field
from vault.unit_of_work import Vault

PROFILE = {"identity.given_name": "Səbinə", "identity.family_name": "Rzayeva"}


def _customer_with_history(vault: Vault, email: str) -> uuid.UUID:
    customer = make_customer(vault, email=email, profile=PROFILE)
    with vault.unit_of_work() as uow:
        set_field(uow, customer, "identity.family_name", "Rzayeva-Əliyeva")
    with vault.unit_of_work() as uow:
        log_interaction(
            uow,
            customer,
            InteractionEntry(
                kind=InteractionKind.VISIT,
                occurred_at=datetime.now(UTC),
                details="Looked at the 19th-century Quba rug",
            ),
        )
    return customer


def test_after_emanet_customer_erase_an_older_copy_no_longer_decrypts_the_customer(
    vault: Vault,
    settings: Settings,
    backend: SqliteBackend | PostgresBackend,
    database_url: str,
    tmp_path: Path,
) -> None:
    erased = _customer_with_history(vault, "sebine@example.az")
    kept = _customer_with_history(vault, "kamran@example.az")
    backup_url = backend.snapshot(database_url, tmp_path)
    # The backup is good before the erasure: it decrypts with the keyring as it was.
    backup = build_runtime(settings.with_overrides(database_url=backup_url))
    with backup.vault.unit_of_work(write=False) as uow:
        assert read_fields(uow, erased)["identity.given_name"].value == "Səbinə"
    backup.close()

    result = CliRunner().invoke(
        main,
        ["customer", "erase", str(erased), "--yes", "--json"],
        env={
            "EMANET_INSTANCE_DIR": str(settings.instance_dir),
            "EMANET_DATABASE_URL": database_url,
        },
    )
    assert result.exit_code == 0, result.output
    retired = json.loads(result.stdout)["retired"]

    # With the keyring as it is now, the app refuses to open the backup at all...
    with pytest.raises(KeyringError) as refused:
        build_runtime(settings.with_overrides(database_url=backup_url))
    assert retired[0] in str(refused.value)
    # ...and someone who skips that check cannot unwrap the erased customer's data key.
    database = Database.from_url(backup_url)
    keys = DataKeys(LocalKeyring(settings.keyring_path), DekCache(0, 0))
    try:
        with database.session(write=False) as session, pytest.raises(UnknownKeyError):
            keys.get(session, erased)
    finally:
        database.dispose()
    # ...while the live database still serves everyone else.
    with vault.unit_of_work(write=False) as uow:
        assert read_fields(uow, kept)["identity.given_name"].value == "Səbinə"


# Rows that name the customer only by a random id and hold nothing they told us: the access
# log (it must stay whole to be verifiable), agreements, the business's pairwise id, and spent
# authorization codes (five minutes of life, useless once the agreements are ended).
PSEUDONYMOUS_STUBS = {
    "customers",
    "access_events",
    "agreements",
    "pairwise_subjects",
    "oauth_authorization_codes",
}


def test_the_live_database_keeps_only_a_pseudonymous_stub(vault: Vault) -> None:
    erased = _customer_with_history(vault, "orxan@example.az")
    kept = _customer_with_history(vault, "aynur@example.az")
    erase_and_shred(vault, erased)
    with vault.unit_of_work(write=False) as uow:
        for table in metadata.sorted_tables:
            column = table.c.get("customer_id")
            if column is None or table.name in PSEUDONYMOUS_STUBS:
                continue
            assert uow.session.scalar(select(column).where(column == erased).limit(1)) is None, (
                f"{table.name} still holds a row of the erased customer"
            )
            assert uow.session.scalar(select(column).where(column == kept).limit(1)) == kept
        stub = uow.session.get(Customer, erased)
        assert stub is not None and stub.erased_at is not None
        assert (stub.email_index, stub.email_ciphertext, stub.password_hash) == (None, None, None)
        assert authenticate(uow, "orxan@example.az", TEST_PASSWORD) is None
        assert authenticate(uow, "aynur@example.az", TEST_PASSWORD) == kept
    for name in PSEUDONYMOUS_STUBS - {"customers"}:
        binary_or_text = {
            c.name
            for c in metadata.tables[name].columns
            if c.type.python_type in (bytes,) and c.name not in ("entry_hash", "code_hash")
        }
        assert binary_or_text == set(), f"{name} could hold ciphertext: {binary_or_text}"


def test_an_erased_customer_cannot_be_written_or_erased_again(vault: Vault) -> None:
    erased = _customer_with_history(vault, "ferid@example.az")
    erase_and_shred(vault, erased, shred=False)
    with vault.unit_of_work() as uow, pytest.raises(CustomerNotFoundError):
        set_field(uow, erased, "identity.given_name", "Fərid")
    with pytest.raises(CustomerNotFoundError):
        erase_and_shred(vault, erased)


def test_the_e_mail_of_an_erased_customer_can_sign_up_again(vault: Vault) -> None:
    erased = make_customer(vault, email="again@example.org")
    erase_and_shred(vault, erased, shred=False)
    assert make_customer(vault, email="again@example.org") != erased
