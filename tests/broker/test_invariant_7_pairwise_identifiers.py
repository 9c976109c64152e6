"""Invariant 7: a business knows a customer only by an identifier derived for that business."""

from __future__ import annotations

import re
import threading
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, select

from broker.businesses.models import PairwiseSubject
from broker.gate import Caller, read_profile
from broker.pairwise import customer_for, derive_subject, subject_for
from tests.conftest import make_customer
from tests.factories import make_active_agreement, make_business
from vault.keys.local_keyring import LocalKeyring
from vault.unit_of_work import Vault

SUBJECT = re.compile(r"c_[a-z2-7]{32}")


def subject(vault: Vault, business_id: uuid.UUID, customer_id: uuid.UUID) -> str:
    with vault.unit_of_work() as uow:
        found = subject_for(uow, business_id, customer_id)
        uow.commit()
        return found


def test_one_customer_has_different_identifiers_at_two_businesses(
    vault: Vault, customer_id: uuid.UUID
) -> None:
    first, second = make_business(vault)[0], make_business(vault, name="Quba Xalçaları")[0]
    at_first, at_second = subject(vault, first, customer_id), subject(vault, second, customer_id)
    assert at_first != at_second
    assert SUBJECT.fullmatch(at_first) and SUBJECT.fullmatch(at_second)


def test_two_customers_have_different_identifiers_at_one_business(vault: Vault) -> None:
    business_id = make_business(vault)[0]
    customers = [make_customer(vault) for _ in range(5)]
    assert len({subject(vault, business_id, c) for c in customers}) == 5


def test_the_identifier_is_stable_for_one_business(vault: Vault, customer_id: uuid.UUID) -> None:
    business_id = make_business(vault)[0]
    first = subject(vault, business_id, customer_id)
    assert subject(vault, business_id, customer_id) == first
    with vault.unit_of_work(write=False) as uow:
        assert derive_subject(uow, business_id, customer_id) == first
        rows = uow.session.scalar(
            select(func.count())
            .select_from(PairwiseSubject)
            .where(
                PairwiseSubject.business_id == business_id,
                PairwiseSubject.customer_id == customer_id,
            )
        )
    assert rows == 1
    # The gate names the customer by the same identifier, read after read.
    agreement_id = make_active_agreement(vault, business_id, customer_id, {"contact.email": "read"})
    caller = Caller(business_id, "client:emc_stable")
    for _ in range(2):
        with vault.unit_of_work() as uow:
            assert read_profile(uow, caller, agreement_id).subject == first


def test_customer_for_finds_the_customer_only_for_the_business_the_identifier_belongs_to(
    vault: Vault, customer_id: uuid.UUID
) -> None:
    first, second = make_business(vault)[0], make_business(vault, name="Quba Xalçaları")[0]
    at_first = subject(vault, first, customer_id)
    subject(vault, second, customer_id)  # the customer is known at the second business too
    with vault.unit_of_work(write=False) as uow:
        assert customer_for(uow, first, at_first) == customer_id
        assert customer_for(uow, second, at_first) is None
        assert customer_for(uow, first, "c_" + "a" * 32) is None
        assert customer_for(uow, first, str(customer_id)) is None


def test_the_gate_gives_two_businesses_different_names_for_one_customer(
    vault: Vault, customer_id: uuid.UUID
) -> None:
    subjects = set()
    for name in ("Köhnə Şəhər Antikvarları", "Quba Xalçaları"):
        business_id = make_business(vault, name=name)[0]
        agreement_id = make_active_agreement(
            vault, business_id, customer_id, {"contact.email": "read"}
        )
        with vault.unit_of_work() as uow:
            granted = read_profile(uow, Caller(business_id, "client:x"), agreement_id)
        subjects.add(granted.subject)
        assert str(customer_id) not in repr(granted)
    assert len(subjects) == 2


def test_the_identifier_reveals_no_emanet_id_and_needs_the_keyring(
    vault: Vault, customer_id: uuid.UUID, tmp_path: Path
) -> None:
    business_id = make_business(vault)[0]
    found = subject(vault, business_id, customer_id)
    for raw in (customer_id, business_id):
        assert raw.hex not in found and str(raw) not in found
    # Anyone who knows both ids but not our keyring derives something else.
    other: Any = SimpleNamespace(provider=LocalKeyring.create(tmp_path / "other-keyring.json"))
    assert derive_subject(other, business_id, customer_id) != found


def test_concurrent_first_uses_agree_on_one_identifier(
    vault: Vault, customer_id: uuid.UUID
) -> None:
    business_id = make_business(vault)[0]
    threads = 8
    start = threading.Barrier(threads)
    seen: list[object] = []

    def first_use() -> None:
        start.wait()
        try:
            seen.append(subject(vault, business_id, customer_id))
        except Exception as exc:  # surfaced below
            seen.append(exc)

    workers = [threading.Thread(target=first_use) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(set(map(str, seen))) == 1 and all(isinstance(s, str) for s in seen), seen
    with vault.unit_of_work(write=False) as uow:
        assert customer_for(uow, business_id, str(seen[0])) == customer_id
