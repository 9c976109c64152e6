"""Invariant 6: a business receives only granted fields, only for customers with an active
agreement, only the interactions it logged itself."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from broker.businesses.services import business_snapshot
from broker.gate import (
    AccessDenied,
    Caller,
    append_interaction,
    read_interactions,
    read_profile,
)
from schemas.agreements import AccessMode
from schemas.interactions import InteractionEntry, InteractionKind
from tests.conftest import make_customer
from tests.factories import make_active_agreement, make_business, make_request, terms_for
from vault.agreements.models import Agreement
from vault.agreements.services import (
    Context,
    decide_request,
    narrow_agreement,
    request_agreement,
    restrict_agreement,
    revoke_agreement,
)
from vault.interactions.services import log_interaction
from vault.unit_of_work import Vault

EVERYTHING = {
    "identity.given_name": "Orxan",
    "identity.family_name": "Quliyev",
    "identity.birth_date": "1985-09-14",
    "contact.email": "orxan@example.az",
    "contact.phone": "+994 70 222 33 44",
    "work.employer": "SOCAR",
    "preferences.interests": "caz, antikvar",
}
CUSTOMER = Context("customer", "203.0.113.7", "pytest")


@pytest.fixture
def business_id(vault: Vault) -> uuid.UUID:
    return make_business(vault)[0]


@pytest.fixture
def caller(business_id: uuid.UUID) -> Caller:
    return Caller(business_id, "client:emc_min")


@pytest.fixture
def customer(vault: Vault) -> uuid.UUID:
    return make_customer(vault, profile=EVERYTHING)


def visit(summary: str) -> InteractionEntry:
    return InteractionEntry(
        kind=InteractionKind.VISIT,
        occurred_at=datetime.now(UTC) - timedelta(days=1),
        summary=summary,
    )


def readable(vault: Vault, caller: Caller, agreement_id: uuid.UUID) -> dict[str, object]:
    with vault.unit_of_work() as uow:
        return {k: v.value for k, v in read_profile(uow, caller, agreement_id).fields.items()}


def refusal(vault: Vault, caller: Caller, agreement_id: uuid.UUID) -> str:
    with vault.unit_of_work() as uow, pytest.raises(AccessDenied) as refused:
        read_profile(uow, caller, agreement_id)
    return refused.value.reason


# --- only granted fields -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "granted",
    [
        {"identity.given_name": "read"},
        {"contact.email": "read", "work.employer": "write"},
        {"preferences.interests": "read", "interactions": "append"},
    ],
    ids=["one", "read-and-write", "with-interactions"],
)
def test_a_business_receives_only_the_fields_granted(
    vault: Vault,
    business_id: uuid.UUID,
    caller: Caller,
    customer: uuid.UUID,
    granted: dict[str, str],
) -> None:
    requested = {key: "read" for key in EVERYTHING} | granted
    agreement_id = make_active_agreement(vault, business_id, customer, requested, granted=granted)
    fields = set(granted) - {"interactions"}
    with vault.unit_of_work() as uow:
        profile = read_profile(uow, caller, agreement_id)
    assert set(profile.fields) == fields
    # No value of an ungranted field is anywhere in what came back.
    leaked = [v for k, v in EVERYTHING.items() if k not in fields and repr(v) in repr(profile)]
    assert leaked == []
    for key in set(EVERYTHING) - fields:
        with vault.unit_of_work() as uow, pytest.raises(AccessDenied):
            read_profile(uow, caller, agreement_id, [key])


def test_an_agreement_gives_one_customer_only(
    vault: Vault, business_id: uuid.UUID, caller: Caller, customer: uuid.UUID
) -> None:
    other = make_customer(vault, profile={"identity.given_name": "Nərmin"})
    mine = make_active_agreement(vault, business_id, customer, {"identity.given_name": "read"})
    theirs = make_active_agreement(vault, business_id, other, {"identity.given_name": "read"})
    assert readable(vault, caller, mine) == {"identity.given_name": "Orxan"}
    assert readable(vault, caller, theirs) == {"identity.given_name": "Nərmin"}


def test_narrowing_leaves_the_business_only_what_is_kept(
    vault: Vault, business_id: uuid.UUID, caller: Caller, customer: uuid.UUID
) -> None:
    fields = {"identity.given_name": "read", "contact.phone": "read", "work.employer": "read"}
    agreement_id = make_active_agreement(vault, business_id, customer, fields)
    with vault.unit_of_work() as uow:
        narrow_agreement(uow, agreement_id, customer, {"contact.phone": AccessMode.READ}, CUSTOMER)
    assert readable(vault, caller, agreement_id) == {"contact.phone": "+994702223344"}


# --- only active agreements --------------------------------------------------------------------


def test_no_field_comes_through_an_agreement_that_is_not_active(
    vault: Vault, business_id: uuid.UUID, caller: Caller, customer: uuid.UUID
) -> None:
    name = {"identity.given_name": "read"}
    pending = make_request(vault, business_id, name, customer)
    declined = make_request(vault, business_id, name, customer)
    with vault.unit_of_work() as uow:
        decide_request(uow, declined, customer, None, CUSTOMER)
    revoked = make_active_agreement(vault, business_id, customer, name)
    with vault.unit_of_work() as uow:
        revoke_agreement(uow, revoked, customer, CUSTOMER)
    restricted = make_active_agreement(vault, business_id, customer, name)
    with vault.unit_of_work() as uow:
        restrict_agreement(uow, restricted, customer, CUSTOMER)
    expiring = make_active_agreement(vault, business_id, customer, name, duration="P2W")
    assert readable(vault, caller, expiring) == {"identity.given_name": "Orxan"}
    later = datetime.now(UTC) + timedelta(weeks=3)
    vault.clock = lambda: later
    assert {
        refusal(vault, caller, agreement_id)
        for agreement_id in (pending, declined, revoked, restricted, expiring)
    } == {"requested", "declined", "revoked", "restricted", "expired"}


def test_after_an_amendment_only_the_new_version_gives_access(
    vault: Vault, business_id: uuid.UUID, caller: Caller, customer: uuid.UUID
) -> None:
    old = make_active_agreement(
        vault, business_id, customer, {"identity.given_name": "read", "work.employer": "read"}
    )
    with vault.unit_of_work() as uow:
        new = request_agreement(
            uow,
            business=business_snapshot(uow, business_id),
            terms=terms_for({"identity.given_name": "read", "contact.phone": "read"}),
            context=Context(f"business:{business_id}"),
            customer_id=customer,
            supersedes=uow.session.get(Agreement, old),
        ).id
        uow.commit()
    with vault.unit_of_work() as uow:
        decide_request(uow, new, customer, {"identity.given_name": AccessMode.READ}, CUSTOMER)
    assert refusal(vault, caller, old) == "superseded"
    assert readable(vault, caller, new) == {"identity.given_name": "Orxan"}


def test_a_business_without_an_agreement_gets_nothing_even_with_the_customer_s_agreement_id(
    vault: Vault, business_id: uuid.UUID, customer: uuid.UUID
) -> None:
    agreement_id = make_active_agreement(vault, business_id, customer, {"contact.email": "read"})
    stranger = Caller(make_business(vault, name="Quba Xalçaları")[0], "client:emc_stranger")
    assert refusal(vault, stranger, agreement_id) == "no_agreement"
    with vault.unit_of_work() as uow, pytest.raises(AccessDenied) as refused:
        read_interactions(uow, stranger, agreement_id)
    assert refused.value.reason == "no_agreement"


# --- only its own interactions -----------------------------------------------------------------


def test_a_business_sees_only_the_interactions_it_logged_itself(
    vault: Vault, business_id: uuid.UUID, caller: Caller, customer: uuid.UUID
) -> None:
    other_id = make_business(vault, name="Quba Xalçaları")[0]
    other = Caller(other_id, "client:emc_other")
    ours = make_active_agreement(vault, business_id, customer, {"interactions": "append"})
    theirs = make_active_agreement(vault, other_id, customer, {"interactions": "append"})
    with vault.unit_of_work() as uow:
        log_interaction(uow, customer, visit("Customer's own diary"))
    for who, agreement_id, summary in [
        (caller, ours, "Our first visit"),
        (other, theirs, "Their visit"),
        (caller, ours, "Our second visit"),
    ]:
        with vault.unit_of_work() as uow:
            append_interaction(uow, who, agreement_id, visit(summary))
    with vault.unit_of_work() as uow:
        seen = read_interactions(uow, caller, ours)
    assert sorted(r.summary or "" for r in seen) == ["Our first visit", "Our second visit"]
    assert {r.logged_by for r in seen} == {f"business:{business_id}"}
    with vault.unit_of_work() as uow:
        assert [r.summary for r in read_interactions(uow, other, theirs)] == ["Their visit"]


def test_a_business_loses_even_its_own_interactions_when_the_agreement_ends(
    vault: Vault, business_id: uuid.UUID, caller: Caller, customer: uuid.UUID
) -> None:
    agreement_id = make_active_agreement(vault, business_id, customer, {"interactions": "append"})
    with vault.unit_of_work() as uow:
        append_interaction(uow, caller, agreement_id, visit("Our visit"))
    with vault.unit_of_work() as uow:
        revoke_agreement(uow, agreement_id, customer, CUSTOMER)
    with vault.unit_of_work() as uow, pytest.raises(AccessDenied) as refused:
        read_interactions(uow, caller, agreement_id)
    assert refused.value.reason == "revoked"
