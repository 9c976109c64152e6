"""Invariant 2: data keys are stored only wrapped; KEKs rotate without touching the data."""

from __future__ import annotations

import base64
import json
import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from emanet.bootstrap import build_runtime
from emanet.settings import Settings
from tests.conftest import make_customer
from vault.keys.data_keys import DataKeys, dek_aad
from vault.keys.dek_cache import DekCache
from vault.keys.local_keyring import LocalKeyring, _checksum
from vault.keys.models import CustomerKey, KekRecord
from vault.keys.provider import KeyringError, UnknownKeyError, UnwrapError, WrappedKey
from vault.keys.rotation import key_status, rotate_kek
from vault.profile.models import ProfileField
from vault.profile.services import read_fields
from vault.unit_of_work import Vault

PROFILE = {"identity.given_name": "Günel", "contact.region": "Sumqayıt"}


def _forge_keyring_with_other_key_bytes(source: Path, target: Path) -> None:
    document = json.loads(source.read_text())
    for entry in document["keks"].values():
        entry["key"] = base64.b64encode(os.urandom(32)).decode()
    document["checksum"] = _checksum(document)
    target.write_text(json.dumps(document))
    target.chmod(0o600)


def test_a_wrong_kek_fails_to_unwrap(vault: Vault, settings: Settings, tmp_path: Path) -> None:
    customer = make_customer(vault, profile=PROFILE)
    forged = tmp_path / "forged.json"
    _forge_keyring_with_other_key_bytes(settings.keyring_path, forged)
    wrong = DataKeys(LocalKeyring(forged), DekCache(0, 0))
    with vault.unit_of_work(write=False) as uow, pytest.raises(UnwrapError):
        wrong.get(uow.session, customer)


def test_rotation_rewraps_every_data_key_and_retires_the_old_kek(
    vault: Vault, settings: Settings
) -> None:
    customers = [make_customer(vault, profile=PROFILE) for _ in range(7)]
    old_kek = vault.provider.active_kek_id
    with vault.unit_of_work(write=False) as uow:
        ciphertexts_before = set(uow.session.scalars(select(ProfileField.ciphertext)))
        old_wrapped = uow.session.scalar(
            select(CustomerKey.wrapped_dek).where(CustomerKey.customer_id == customers[0])
        )
    seen: list[tuple[int, int]] = []
    report = rotate_kek(
        vault, batch_size=3, progress=lambda done, total: seen.append((done, total))
    )
    assert report.rewrapped == 7
    assert seen[-1] == (7, 7)
    assert report.retired == [old_kek]
    assert old_kek not in {info.kek_id for info in vault.provider.list_keks()}
    vault.data_keys.cache.clear()
    with vault.unit_of_work(write=False) as uow:
        # The data itself was not re-encrypted; only the wrapping changed.
        assert set(uow.session.scalars(select(ProfileField.ciphertext))) == ciphertexts_before
        for customer in customers:
            assert read_fields(uow, customer)["identity.given_name"].value == "Günel"
        assert set(uow.session.scalars(select(KekRecord.kek_id))) == {report.new_kek_id}
    with pytest.raises(UnknownKeyError):
        vault.provider.unwrap(WrappedKey(old_kek, old_wrapped or b""), dek_aad(customers[0]))
    status = key_status(vault)
    assert [(s.kek_id, s.active, s.data_keys) for s in status] == [(report.new_kek_id, True, 7)]


def test_rotation_while_the_app_keeps_serving(vault: Vault, settings: Settings) -> None:
    customers = [make_customer(vault, profile=PROFILE) for _ in range(12)]
    errors: list[BaseException] = []
    stop = threading.Event()

    def keep_reading() -> None:
        # A second process's view: its own keyring object and an empty cache.
        other = build_runtime(settings)
        try:
            while not stop.is_set():
                other.vault.data_keys.cache.clear()
                for customer in customers:
                    with other.vault.unit_of_work(write=False) as uow:
                        assert read_fields(uow, customer)["contact.region"].value == "Sumqayıt"
        except BaseException as exc:  # reported to the main thread below
            errors.append(exc)
        finally:
            other.close()

    reader = threading.Thread(target=keep_reading)
    reader.start()
    try:
        for _ in range(3):
            rotate_kek(vault, batch_size=4)
            make_customer(vault, profile=PROFILE)
    finally:
        stop.set()
        reader.join()
    assert errors == []


def test_an_old_kek_still_wrapping_a_key_is_not_retired(vault: Vault) -> None:
    make_customer(vault, profile=PROFILE)
    first = vault.provider.active_kek_id
    report = rotate_kek(vault, retire=False)
    assert report.retired == []
    assert {info.kek_id for info in vault.provider.list_keks()} == {first, report.new_kek_id}


def test_the_keyring_file_is_private(keyring: LocalKeyring, settings: Settings) -> None:
    assert settings.keyring_path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("damage", "phrase"),
    [
        (lambda p: p.unlink(), "is missing"),
        (lambda p: p.write_text("{not json"), "not JSON"),
        (lambda p: p.write_text(p.read_text().replace('"keks"', '"keys"', 1)), "corrupted"),
        (lambda p: p.write_text(p.read_text()[:-40] + "A" * 40), "corrupted"),
        (lambda p: p.chmod(0o644), "chmod 600"),
    ],
)
def test_a_missing_or_damaged_keyring_stops_start_up_with_a_clear_message(
    runtime: object, settings: Settings, damage: object, phrase: str
) -> None:
    make_customer(runtime.vault, profile=PROFILE)  # type: ignore[attr-defined]
    damage(settings.keyring_path)  # type: ignore[operator]
    with pytest.raises(KeyringError) as caught:
        build_runtime(settings)
    assert phrase in str(caught.value)


def test_a_different_keyring_over_existing_data_stops_start_up(
    vault: Vault, settings: Settings
) -> None:
    make_customer(vault, profile=PROFILE)
    settings.keyring_path.unlink()
    LocalKeyring.create(settings.keyring_path)
    with pytest.raises(KeyringError) as caught:
        build_runtime(settings)
    assert "does not hold the keys this database was encrypted with" in str(caught.value)
