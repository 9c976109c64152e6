"""The gate: what a business gets through it, what it is refused, and what the log says."""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from broker import gate
from broker.businesses.services import business_snapshot
from broker.gate import (
    AccessDenied,
    Caller,
    append_interaction,
    business_author,
    read_interactions,
    read_profile,
    write_profile_field,
)
from broker.pairwise import subject_for
from schemas.agreements import AccessMode
from schemas.field_errors import FieldValueError
from schemas.interactions import InteractionEntry, InteractionKind
from tests.conftest import make_customer
from tests.factories import make_active_agreement, make_business, make_request, terms_for
from vault.access_log.models import AccessEvent
from vault.agreements.models import Agreement, AgreementEvent
from vault.agreements.services import (
    Context,
    decide_request,
    request_agreement,
    restrict_agreement,
    revoke_agreement,
)
from vault.interactions.services import list_interactions, log_interaction
from vault.keys.aead import DecryptionError
from vault.outbox.models import OutboxEvent
from vault.profile.models import ProfileField
from vault.profile.services import field_history, get_field
from vault.unit_of_work import UnitOfWork, Vault

PROFILE = {
    "identity.given_name": "Səbinə",
    "identity.family_name": "Rzayeva",
    "contact.email": "sebine@example.az",
    "contact.phone": "+994 50 123 45 67",
    "work.employer": "Azersun",
}
REQUESTED = {
    "identity.given_name": "read",
    "contact.email": "read",
    "contact.phone": "write",
    "interactions": "append",
}
# The customer ticks all but the e-mail address.
GRANTED = {k: m for k, m in REQUESTED.items() if k != "contact.email"}
CUSTOMER = Context("customer", "203.0.113.7", "pytest")


@pytest.fixture
def business_id(vault: Vault) -> uuid.UUID:
    return make_business(vault)[0]


@pytest.fixture
def caller(business_id: uuid.UUID) -> Caller:
    return Caller(business_id, "client:emc_test")


@pytest.fixture
def customer(vault: Vault) -> uuid.UUID:
    return make_customer(vault, profile=PROFILE)


@pytest.fixture
def agreement_id(vault: Vault, business_id: uuid.UUID, customer: uuid.UUID) -> uuid.UUID:
    return make_active_agreement(vault, business_id, customer, REQUESTED, granted=GRANTED)


def entry(summary: str = "Looked at the Quba rug") -> InteractionEntry:
    return InteractionEntry(
        kind=InteractionKind.VISIT,
        occurred_at=datetime.now(UTC) - timedelta(hours=1),
        summary=summary,
    )


def access_events(vault: Vault) -> list[dict[str, Any]]:
    """Return the whole access log as plain data, oldest first."""
    with vault.unit_of_work(write=False) as uow:
        return [
            {
                "seq": e.seq,
                "kind": e.kind,
                "outcome": e.outcome,
                "actor": e.actor,
                "customer_id": e.customer_id,
                "business_id": e.business_id,
                "agreement_id": e.agreement_id,
                "purpose": e.purpose,
                "fields": e.fields,
            }
            for e in uow.session.scalars(select(AccessEvent).order_by(AccessEvent.seq))
        ]


def count_events(uow: UnitOfWork) -> int:
    return uow.session.scalar(select(func.count()).select_from(AccessEvent)) or 0


def denied(call: Callable[[UnitOfWork], object], vault: Vault) -> AccessDenied:
    with vault.unit_of_work() as uow, pytest.raises(AccessDenied) as refused:
        call(uow)
    return refused.value


# --- what a business receives ----------------------------------------------------------------


def test_read_profile_returns_exactly_the_granted_readable_fields_with_their_values(
    vault: Vault, caller: Caller, customer: uuid.UUID, agreement_id: uuid.UUID
) -> None:
    with vault.unit_of_work() as uow:
        granted = read_profile(uow, caller, agreement_id)
    # Read and write grants are readable; the e-mail was not ticked; the rest never asked.
    assert {k: v.value for k, v in granted.fields.items()} == {
        "identity.given_name": "Səbinə",
        "contact.phone": "+994501234567",
    }
    assert granted.agreement_id == agreement_id
    assert granted.purpose == "CustomerCare"
    with vault.unit_of_work() as uow:
        assert granted.subject == subject_for(uow, caller.business_id, customer)


def test_read_profile_of_named_fields_returns_only_those(
    vault: Vault, caller: Caller, agreement_id: uuid.UUID
) -> None:
    with vault.unit_of_work() as uow:
        granted = read_profile(uow, caller, agreement_id, ["contact.phone", "contact.phone"])
    assert {k: v.value for k, v in granted.fields.items()} == {"contact.phone": "+994501234567"}


def test_a_granted_field_the_customer_has_not_filled_in_is_simply_absent(
    vault: Vault, business_id: uuid.UUID, caller: Caller
) -> None:
    customer = make_customer(vault, profile={"identity.given_name": "Kamran"})
    fields = {"identity.given_name": "read", "contact.region": "read"}
    agreement_id = make_active_agreement(vault, business_id, customer, fields)
    with vault.unit_of_work() as uow:
        granted = read_profile(uow, caller, agreement_id, ["contact.region"])
    assert granted.fields == {}
    with vault.unit_of_work() as uow:
        assert set(read_profile(uow, caller, agreement_id).fields) == {"identity.given_name"}


@pytest.mark.parametrize(
    "asked",
    [
        ["contact.email"],  # requested, but the customer did not tick it
        ["work.employer"],  # never requested
        ["identity.given_name", "work.employer"],  # one missing refuses the whole read
        ["no.such.field"],
        ["interactions"],  # not a profile field, whatever mode it is granted in
    ],
    ids=["unticked", "unrequested", "mixed", "unknown", "interactions"],
)
def test_asking_for_a_field_that_is_not_granted_is_denied_not_granted(
    vault: Vault, business_id: uuid.UUID, caller: Caller, customer: uuid.UUID, asked: list[str]
) -> None:
    requested = {**REQUESTED, "interactions": "read"}
    granted = {k: m for k, m in requested.items() if k != "contact.email"}
    agreement_id = make_active_agreement(vault, business_id, customer, requested, granted=granted)
    refused = denied(lambda uow: read_profile(uow, caller, agreement_id, asked), vault)
    assert refused.reason == "not_granted"
    assert asked[-1] in str(refused)
    last = access_events(vault)[-1]
    assert (last["kind"], last["outcome"]) == ("profile.read", "denied:not_granted")
    assert last["fields"] == sorted(set(asked))


@pytest.mark.parametrize("whose", ["another-business", "nobody"])
def test_a_business_using_an_agreement_that_is_not_its_own_is_denied_no_agreement(
    vault: Vault, caller: Caller, customer: uuid.UUID, whose: str
) -> None:
    if whose == "another-business":
        other = make_business(vault, name="Quba Xalçaları")[0]
        target = make_active_agreement(vault, other, customer, REQUESTED)
    else:
        target = uuid.uuid4()
    refused = denied(lambda uow: read_profile(uow, caller, target), vault)
    assert refused.reason == "no_agreement"
    last = access_events(vault)[-1]
    assert last["outcome"] == "denied:no_agreement"
    assert (last["business_id"], last["agreement_id"]) == (caller.business_id, target)
    # The log of a refused stranger does not tie the customer to the stranger's business.
    assert last["customer_id"] is None


def test_a_restricted_agreement_is_denied_restricted(
    vault: Vault, caller: Caller, customer: uuid.UUID, agreement_id: uuid.UUID
) -> None:
    with vault.unit_of_work() as uow:
        restrict_agreement(uow, agreement_id, customer, CUSTOMER)
    for call in (
        lambda uow: read_profile(uow, caller, agreement_id),
        lambda uow: write_profile_field(
            uow, caller, agreement_id, "contact.phone", "+905321234567"
        ),
        lambda uow: append_interaction(uow, caller, agreement_id, entry()),
        lambda uow: read_interactions(uow, caller, agreement_id),
    ):
        assert denied(call, vault).reason == "restricted"
    assert [e["outcome"] for e in access_events(vault)[-4:]] == ["denied:restricted"] * 4


def _agreement_in(
    vault: Vault, business_id: uuid.UUID, customer: uuid.UUID, status: str
) -> uuid.UUID:
    if status == "requested":
        return make_request(vault, business_id, REQUESTED)
    if status == "declined":
        agreement_id = make_request(vault, business_id, REQUESTED, customer)
        with vault.unit_of_work() as uow:
            decide_request(uow, agreement_id, customer, None, CUSTOMER)
        return agreement_id
    agreement_id = make_active_agreement(vault, business_id, customer, REQUESTED, duration="P1D")
    if status == "revoked":
        with vault.unit_of_work() as uow:
            revoke_agreement(uow, agreement_id, customer, CUSTOMER)
    elif status == "superseded":
        with vault.unit_of_work() as uow:
            newer = request_agreement(
                uow,
                business=business_snapshot(uow, business_id),
                terms=terms_for(REQUESTED),
                context=Context(f"business:{business_id}"),
                customer_id=customer,
                supersedes=uow.session.get(Agreement, agreement_id),
            ).id
            uow.commit()
        with vault.unit_of_work() as uow:
            decide_request(uow, newer, customer, {"contact.email": AccessMode.READ}, CUSTOMER)
    elif status == "expired":
        now = datetime.now(UTC)
        vault.clock = lambda: now + timedelta(days=2)
    return agreement_id


@pytest.mark.parametrize("status", ["requested", "declined", "revoked", "superseded", "expired"])
def test_an_agreement_that_is_not_active_is_denied_with_its_status_as_reason(
    vault: Vault, business_id: uuid.UUID, caller: Caller, customer: uuid.UUID, status: str
) -> None:
    agreement_id = _agreement_in(vault, business_id, customer, status)
    before = len(access_events(vault))
    for call in (
        lambda uow: read_profile(uow, caller, agreement_id),
        lambda uow: read_profile(uow, caller, agreement_id, ["identity.given_name"]),
        lambda uow: write_profile_field(
            uow, caller, agreement_id, "contact.phone", "+905321234567"
        ),
        lambda uow: append_interaction(uow, caller, agreement_id, entry()),
        lambda uow: read_interactions(uow, caller, agreement_id),
    ):
        assert denied(call, vault).reason == status
    events = access_events(vault)[before:]
    assert [e["outcome"] for e in events] == [f"denied:{status}"] * 5
    with vault.unit_of_work(write=False) as uow:
        phone = get_field(uow, customer, "contact.phone")
        assert phone is not None and phone.value == "+994501234567"
        assert list_interactions(uow, customer) == []


# --- the access log ----------------------------------------------------------------------------

ALLOWED_CALLS: dict[
    str, tuple[Callable[[UnitOfWork, Caller, uuid.UUID], object], str, list[str]]
] = {
    "read_profile": (
        lambda uow, c, a: read_profile(uow, c, a),
        "profile.read",
        ["contact.phone", "identity.given_name"],
    ),
    "read_profile_named": (
        lambda uow, c, a: read_profile(uow, c, a, ["identity.given_name"]),
        "profile.read",
        ["identity.given_name"],
    ),
    "write_profile_field": (
        lambda uow, c, a: write_profile_field(uow, c, a, "contact.phone", "+905321234567"),
        "profile.write",
        ["contact.phone"],
    ),
    "append_interaction": (
        lambda uow, c, a: append_interaction(uow, c, a, entry()),
        "interaction.append",
        ["interactions"],
    ),
    "read_interactions": (
        lambda uow, c, a: read_interactions(uow, c, a),
        "interaction.read",
        ["interactions"],
    ),
}


@pytest.mark.parametrize("name", list(ALLOWED_CALLS))
def test_each_allowed_call_appends_exactly_one_access_event_in_its_own_transaction(
    vault: Vault, caller: Caller, customer: uuid.UUID, agreement_id: uuid.UUID, name: str
) -> None:
    call, kind, fields = ALLOWED_CALLS[name]
    before = access_events(vault)
    in_transaction: list[int] = []
    with vault.unit_of_work() as uow:
        commit = uow.commit

        def spying_commit() -> None:
            in_transaction.append(count_events(uow))  # this session sees its own writes
            commit()

        uow.commit = spying_commit  # type: ignore[method-assign]
        call(uow, caller, agreement_id)
    # One commit, and the event was already part of it.
    assert in_transaction == [len(before) + 1]
    after = access_events(vault)
    assert after[: len(before)] == before
    [event] = after[len(before) :]
    assert {k: v for k, v in event.items() if k != "seq"} == {
        "kind": kind,
        "outcome": "allowed",
        "actor": caller.actor,
        "customer_id": customer,
        "business_id": caller.business_id,
        "agreement_id": agreement_id,
        "purpose": "CustomerCare",
        "fields": fields,
    }


DENIED_CALLS: dict[str, tuple[Callable[[UnitOfWork, Caller, uuid.UUID], object], str, str]] = {
    "read-not-granted": (
        lambda uow, c, a: read_profile(uow, c, a, ["contact.email"]),
        "profile.read",
        "not_granted",
    ),
    "write-read-only-field": (
        lambda uow, c, a: write_profile_field(uow, c, a, "identity.given_name", "Aynur"),
        "profile.write",
        "not_granted",
    ),
    "read-foreign-agreement": (
        lambda uow, c, a: read_profile(uow, Caller(uuid.uuid4(), c.actor), a),
        "profile.read",
        "no_agreement",
    ),
    "interactions-foreign-agreement": (
        lambda uow, c, a: read_interactions(uow, Caller(uuid.uuid4(), c.actor), a),
        "interaction.read",
        "no_agreement",
    ),
}


@pytest.mark.parametrize("name", list(DENIED_CALLS))
def test_each_denied_call_appends_one_denied_event_that_stays_committed(
    vault: Vault, caller: Caller, agreement_id: uuid.UUID, name: str
) -> None:
    call, kind, reason = DENIED_CALLS[name]
    before = access_events(vault)
    refused = denied(lambda uow: call(uow, caller, agreement_id), vault)
    assert refused.reason == reason
    after = access_events(vault)  # read in a new unit of work: it was committed
    [event] = after[len(before) :]
    assert (event["kind"], event["outcome"], event["actor"]) == (
        kind,
        f"denied:{reason}",
        caller.actor,
    )
    assert event["agreement_id"] == agreement_id


def test_a_failure_in_the_middle_of_an_allowed_read_leaves_no_allowed_event(
    vault: Vault, caller: Caller, customer: uuid.UUID, agreement_id: uuid.UUID
) -> None:
    with vault.unit_of_work() as uow:
        row = uow.session.get(ProfileField, (customer, "contact.phone"))
        assert row is not None
        tampered = row.ciphertext[:-1] + bytes([row.ciphertext[-1] ^ 1])
        uow.session.execute(
            update(ProfileField)
            .where(ProfileField.customer_id == customer, ProfileField.field_key == "contact.phone")
            .values(ciphertext=tampered)
        )
        uow.commit()
    before = access_events(vault)
    with vault.unit_of_work() as uow, pytest.raises(DecryptionError):
        read_profile(uow, caller, agreement_id)
    assert access_events(vault) == before
    # A read that does not touch the damaged field still works, and is logged once.
    with vault.unit_of_work() as uow:
        granted = read_profile(uow, caller, agreement_id, ["identity.given_name"])
    assert granted.fields["identity.given_name"].value == "Səbinə"
    assert [e["outcome"] for e in access_events(vault)[len(before) :]] == ["allowed"]


def test_a_refused_value_leaves_no_write_and_no_allowed_event(
    vault: Vault, caller: Caller, customer: uuid.UUID, agreement_id: uuid.UUID
) -> None:
    before = access_events(vault)
    with vault.unit_of_work() as uow, pytest.raises(FieldValueError):
        write_profile_field(uow, caller, agreement_id, "contact.phone", "not a phone number")
    assert [e for e in access_events(vault) if e["outcome"] == "allowed"] == [
        e for e in before if e["outcome"] == "allowed"
    ]
    with vault.unit_of_work(write=False) as uow:
        assert len(field_history(uow, customer, "contact.phone")) == 1


# --- writes and interactions -------------------------------------------------------------------


def test_write_profile_field_needs_write_mode(
    vault: Vault, caller: Caller, customer: uuid.UUID, agreement_id: uuid.UUID
) -> None:
    refused = denied(
        lambda uow: write_profile_field(uow, caller, agreement_id, "identity.given_name", "Aynur"),
        vault,
    )
    assert refused.reason == "not_granted"
    with vault.unit_of_work() as uow:
        version = write_profile_field(
            uow, caller, agreement_id, "contact.phone", "+90 532 123 45 67"
        )
    with vault.unit_of_work(write=False) as uow:
        name = get_field(uow, customer, "identity.given_name")
        assert name is not None and name.value == "Səbinə"
        phone = get_field(uow, customer, "contact.phone")
        assert phone is not None and (phone.value, phone.version) == ("+905321234567", version)
        assert version == 2
        assert field_history(uow, customer, "contact.phone")[0].changed_by == caller.actor


def test_append_interaction_needs_interactions_append(
    vault: Vault, business_id: uuid.UUID, caller: Caller, customer: uuid.UUID
) -> None:
    reading = make_active_agreement(
        vault, business_id, customer, {"identity.given_name": "read", "interactions": "read"}
    )
    assert denied(lambda uow: append_interaction(uow, caller, reading, entry()), vault).reason == (
        "not_granted"
    )
    appending = make_active_agreement(vault, business_id, customer, {"interactions": "append"})
    with vault.unit_of_work() as uow:
        interaction_id = append_interaction(uow, caller, appending, entry("Bought a samovar"))
    with vault.unit_of_work(write=False) as uow:
        [record] = list_interactions(uow, customer)
    assert record.id == interaction_id
    assert record.logged_by == f"business:{business_id}" == business_author(business_id)
    assert record.summary == "Bought a samovar"


def test_read_interactions_returns_only_this_business_interactions(
    vault: Vault, business_id: uuid.UUID, caller: Caller, customer: uuid.UUID
) -> None:
    other_business = make_business(vault, name="Quba Xalçaları")[0]
    other = Caller(other_business, "client:emc_other")
    ours = make_active_agreement(vault, business_id, customer, {"interactions": "append"})
    theirs = make_active_agreement(vault, other_business, customer, {"interactions": "append"})
    with vault.unit_of_work() as uow:
        log_interaction(uow, customer, entry("The customer's own note"))
    with vault.unit_of_work() as uow:
        mine = append_interaction(uow, caller, ours, entry("Our visit"))
    with vault.unit_of_work() as uow:
        append_interaction(uow, other, theirs, entry("Their visit"))
    with vault.unit_of_work() as uow:
        seen = read_interactions(uow, caller, ours)
    assert [(r.id, r.summary) for r in seen] == [(mine, "Our visit")]
    with vault.unit_of_work() as uow:
        assert [r.summary for r in read_interactions(uow, other, theirs)] == ["Their visit"]
    with vault.unit_of_work(write=False) as uow:
        assert len(list_interactions(uow, customer)) == 3  # the customer sees them all


# --- concurrency -------------------------------------------------------------------------------


def test_concurrent_reads_of_a_just_expired_agreement_are_all_denied_expired(
    vault: Vault,
    business_id: uuid.UUID,
    caller: Caller,
    customer: uuid.UUID,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    agreement_id = make_active_agreement(vault, business_id, customer, REQUESTED, duration="P1D")
    later = datetime.now(UTC) + timedelta(days=2)
    vault.clock = lambda: later
    threads = 2
    # Let both reads get as far as noticing the expiry before either writes it down, when
    # the database lets them (SQLite serialises them, so the wait there just times out).
    both_noticed = threading.Barrier(threads, timeout=1.5)
    notice = gate.record_expiry_if_due

    def notice_together(uow: UnitOfWork, agreement: Agreement) -> bool:
        with contextlib.suppress(threading.BrokenBarrierError):
            both_noticed.wait()
        return notice(uow, agreement)

    monkeypatch.setattr(gate, "record_expiry_if_due", notice_together)
    outcomes: list[object] = []

    def reader() -> None:
        try:
            with vault.unit_of_work() as uow:
                read_profile(uow, caller, agreement_id)
            outcomes.append("allowed")
        except AccessDenied as refused:
            outcomes.append(refused.reason)
        except Exception as exc:  # surfaced below
            outcomes.append(exc)

    workers = [threading.Thread(target=reader) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert outcomes == ["expired"] * threads
    with vault.unit_of_work(write=False) as uow:
        expired = uow.session.scalar(
            select(func.count())
            .select_from(AgreementEvent)
            .where(AgreementEvent.agreement_id == agreement_id, AgreementEvent.kind == "expired")
        )
        notices = uow.session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(
                OutboxEvent.agreement_id == agreement_id, OutboxEvent.type == "agreement.expired"
            )
        )
    assert (expired, notices) == (1, 1)
