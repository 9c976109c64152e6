"""The agreement lifecycle: requested → active | declined; active → revoked | expired | superseded.

Also the domain events each change writes to the outbox, in the same transaction.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from broker.businesses.services import business_snapshot
from broker.gate import AccessDenied, Caller, read_profile
from schemas.agreements import AccessMode, AgreementStatus
from schemas.durations import CalendarDuration
from tests.conftest import make_customer
from tests.factories import make_active_agreement, make_business, make_request, terms_for
from vault.agreements.models import Agreement, AgreementEvent
from vault.agreements.services import (
    AgreementError,
    AgreementNotFoundError,
    Context,
    GrantError,
    current_status,
    customer_agreement,
    customer_agreements,
    decide_request,
    narrow_agreement,
    record_expiry_if_due,
    request_agreement,
    restrict_agreement,
    resume_agreement,
    revoke_agreement,
)
from vault.erasure import erase_customer
from vault.outbox.models import OutboxEvent
from vault.profile.services import set_field
from vault.unit_of_work import Vault

CUSTOMER = Context(actor="customer", ip="203.0.113.7", user_agent="pytest")
FIELDS = {"identity.given_name": "read", "contact.email": "read", "contact.phone": "write"}
START = datetime(2025, 3, 10, 9, 30, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(vault: Vault) -> Clock:
    clock = Clock(START)
    vault.clock = clock
    return clock


@pytest.fixture
def business_id(vault: Vault) -> uuid.UUID:
    return make_business(vault)[0]


def modes(fields: Mapping[str, str]) -> dict[str, AccessMode]:
    return {key: AccessMode(mode) for key, mode in fields.items()}


def decide(
    vault: Vault,
    agreement_id: uuid.UUID,
    customer_id: uuid.UUID,
    granted: Mapping[str, str] | None,
) -> Agreement:
    with vault.unit_of_work() as uow:
        return decide_request(
            uow, agreement_id, customer_id, None if granted is None else modes(granted), CUSTOMER
        )


def load(vault: Vault, agreement_id: uuid.UUID) -> Agreement:
    with vault.unit_of_work(write=False) as uow:
        agreement = uow.session.get(Agreement, agreement_id)
        assert agreement is not None
        uow.session.expunge_all()  # keep what was loaded when the unit of work rolls back
        return agreement


def event_kinds(vault: Vault, agreement_id: uuid.UUID) -> list[str]:
    with vault.unit_of_work(write=False) as uow:
        return list(
            uow.session.scalars(
                select(AgreementEvent.kind)
                .where(AgreementEvent.agreement_id == agreement_id)
                .order_by(AgreementEvent.id)
            )
        )


def outbox(vault: Vault, business_id: uuid.UUID) -> list[OutboxEvent]:
    with vault.unit_of_work(write=False) as uow:
        events = list(
            uow.session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.business_id == business_id)
                .order_by(OutboxEvent.seq)
            )
        )
        uow.session.expunge_all()
        return events


def amend(
    vault: Vault,
    business_id: uuid.UUID,
    previous_id: uuid.UUID,
    fields: Mapping[str, str],
    customer_id: uuid.UUID | None,
) -> uuid.UUID:
    """Record an amendment request, addressed to a customer or (None) left for the vault."""
    with vault.unit_of_work() as uow:
        previous = uow.session.get(Agreement, previous_id)
        assert previous is not None
        amendment = request_agreement(
            uow,
            business=business_snapshot(uow, business_id),
            terms=terms_for(fields),
            context=Context(actor=f"business:{business_id}"),
            customer_id=customer_id,
            supersedes=previous,
        )
        uow.commit()
        return amendment.id


# --- request → active | declined -------------------------------------------------------------


def test_granting_every_requested_field_makes_the_agreement_active(
    vault: Vault, clock: Clock, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    agreement_id = make_request(vault, business_id, FIELDS, customer_id)
    assert load(vault, agreement_id).status == AgreementStatus.REQUESTED
    clock.now = START + timedelta(minutes=5)
    decide(vault, agreement_id, customer_id, FIELDS)
    agreement = load(vault, agreement_id)
    assert agreement.status == AgreementStatus.ACTIVE
    assert agreement.granted_fields == FIELDS
    assert agreement.version == 1
    assert agreement.decided_at == agreement.valid_from == clock.now
    assert agreement.valid_until == datetime(2026, 3, 10, 9, 35, tzinfo=UTC)  # P1Y
    assert agreement.ended_at is None
    assert event_kinds(vault, agreement_id) == ["requested", "granted"]


def test_granting_some_fields_activates_only_the_ticked_ones(
    vault: Vault, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    agreement_id = make_request(vault, business_id, FIELDS, customer_id)
    decide(vault, agreement_id, customer_id, {"contact.phone": "write"})
    agreement = load(vault, agreement_id)
    assert agreement.status == AgreementStatus.ACTIVE
    assert agreement.granted_fields == {"contact.phone": "write"}
    # The terms still say what was asked: the grant is the customer's answer to them.
    assert {f["key"] for f in agreement.terms["fields"]} == set(FIELDS)


@pytest.mark.parametrize("nothing", [None, {}], ids=["none", "empty"])
def test_an_empty_grant_declines_the_request(
    vault: Vault,
    business_id: uuid.UUID,
    customer_id: uuid.UUID,
    nothing: dict[str, str] | None,
) -> None:
    agreement_id = make_request(vault, business_id, FIELDS, customer_id)
    decide(vault, agreement_id, customer_id, nothing)
    agreement = load(vault, agreement_id)
    assert agreement.status == AgreementStatus.DECLINED
    assert agreement.granted_fields == {}
    assert agreement.ended_at is not None and agreement.valid_until is None
    assert event_kinds(vault, agreement_id) == ["requested", "declined"]
    assert outbox(vault, business_id) == []  # a business hears of grants, not of refusals


@pytest.mark.parametrize(
    "granted",
    [
        {"work.employer": "read"},  # a field that was not asked for
        {"identity.given_name": "write"},  # a mode that was not asked for
        {"contact.phone": "read"},  # asked for write, so read is another mode
        {"identity.given_name": "read", "interactions": "append"},
    ],
    ids=["field", "mode-upgrade", "mode-other", "interactions"],
)
def test_granting_what_was_not_requested_raises_grant_error_and_changes_nothing(
    vault: Vault, business_id: uuid.UUID, customer_id: uuid.UUID, granted: dict[str, str]
) -> None:
    # Left unclaimed, so that the refused decision must not claim it either.
    agreement_id = make_request(vault, business_id, FIELDS)
    with pytest.raises(GrantError):
        decide(vault, agreement_id, customer_id, granted)
    agreement = load(vault, agreement_id)
    assert agreement.status == AgreementStatus.REQUESTED
    assert agreement.customer_id is None
    assert agreement.granted_fields == {}
    assert agreement.decided_at is None
    assert event_kinds(vault, agreement_id) == ["requested"]
    assert outbox(vault, business_id) == []


@pytest.mark.parametrize("first", [FIELDS, None], ids=["granted", "declined"])
@pytest.mark.parametrize("second", [FIELDS, None], ids=["grant", "decline"])
def test_deciding_twice_raises_agreement_error(
    vault: Vault,
    business_id: uuid.UUID,
    customer_id: uuid.UUID,
    first: dict[str, str] | None,
    second: dict[str, str] | None,
) -> None:
    agreement_id = make_request(vault, business_id, FIELDS, customer_id)
    decide(vault, agreement_id, customer_id, first)
    before = load(vault, agreement_id)
    with pytest.raises(AgreementError) as raised:
        decide(vault, agreement_id, customer_id, second)
    assert not isinstance(raised.value, AgreementNotFoundError)
    after = load(vault, agreement_id)
    assert (after.status, after.granted_fields, after.decided_at) == (
        before.status,
        before.granted_fields,
        before.decided_at,
    )
    assert len(event_kinds(vault, agreement_id)) == 2


def test_another_customer_can_neither_decide_nor_see_an_agreement(
    vault: Vault, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    stranger = make_customer(vault)
    pending = make_request(vault, business_id, FIELDS, customer_id)
    with pytest.raises(AgreementNotFoundError):
        decide(vault, pending, stranger, FIELDS)
    active = make_active_agreement(vault, business_id, customer_id, FIELDS)
    with vault.unit_of_work() as uow:
        with pytest.raises(AgreementNotFoundError):
            customer_agreement(uow, active, stranger, lock=False)
        assert customer_agreements(uow, stranger) == []
        with pytest.raises(AgreementNotFoundError):
            revoke_agreement(uow, active, stranger, CUSTOMER)
        with pytest.raises(AgreementNotFoundError):
            narrow_agreement(uow, active, stranger, {"contact.email": AccessMode.READ}, CUSTOMER)
        with pytest.raises(AgreementNotFoundError):
            restrict_agreement(uow, active, stranger, CUSTOMER)
    assert load(vault, pending).status == AgreementStatus.REQUESTED
    assert load(vault, pending).customer_id == customer_id
    assert load(vault, active).status == AgreementStatus.ACTIVE
    assert load(vault, active).granted_fields == FIELDS
    with vault.unit_of_work(write=False) as uow:
        assert {a.id for a in customer_agreements(uow, customer_id)} == {pending, active}


def test_an_unclaimed_request_is_claimed_by_the_first_customer_who_decides(
    vault: Vault, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    agreement_id = make_request(vault, business_id, FIELDS)
    assert load(vault, agreement_id).customer_id is None
    decide(vault, agreement_id, customer_id, {"identity.given_name": "read"})
    assert load(vault, agreement_id).customer_id == customer_id
    latecomer = make_customer(vault)
    with pytest.raises(AgreementNotFoundError):
        decide(vault, agreement_id, latecomer, FIELDS)
    with vault.unit_of_work(write=False) as uow:
        assert customer_agreements(uow, latecomer) == []
        assert [a.id for a in customer_agreements(uow, customer_id)] == [agreement_id]
    assert load(vault, agreement_id).granted_fields == {"identity.given_name": "read"}


# --- active → revoked, narrowed, restricted -------------------------------------------------


def test_revoking_ends_the_agreement_and_cannot_be_repeated(
    vault: Vault, clock: Clock, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    agreement_id = make_active_agreement(vault, business_id, customer_id, FIELDS)
    clock.now = START + timedelta(days=3)
    with vault.unit_of_work() as uow:
        revoke_agreement(uow, agreement_id, customer_id, CUSTOMER)
    agreement = load(vault, agreement_id)
    assert agreement.status == AgreementStatus.REVOKED
    assert agreement.ended_at == clock.now
    assert event_kinds(vault, agreement_id) == ["requested", "granted", "revoked"]
    with vault.unit_of_work() as uow, pytest.raises(AgreementError):
        revoke_agreement(uow, agreement_id, customer_id, CUSTOMER)
    assert event_kinds(vault, agreement_id) == ["requested", "granted", "revoked"]


def test_narrowing_removes_fields_and_keeps_the_rest(
    vault: Vault, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    agreement_id = make_active_agreement(vault, business_id, customer_id, FIELDS)
    with vault.unit_of_work() as uow:
        narrow_agreement(
            uow, agreement_id, customer_id, {"contact.phone": AccessMode.WRITE}, CUSTOMER
        )
    agreement = load(vault, agreement_id)
    assert agreement.status == AgreementStatus.ACTIVE
    assert agreement.granted_fields == {"contact.phone": "write"}
    assert agreement.version == 2
    assert event_kinds(vault, agreement_id)[-1] == "narrowed"


@pytest.mark.parametrize(
    "keep",
    [{"work.employer": "read"}, {"identity.given_name": "write"}],
    ids=["new-field", "wider-mode"],
)
def test_narrowing_cannot_add_a_field_or_widen_a_mode(
    vault: Vault, business_id: uuid.UUID, customer_id: uuid.UUID, keep: dict[str, str]
) -> None:
    agreement_id = make_active_agreement(vault, business_id, customer_id, FIELDS)
    with vault.unit_of_work() as uow, pytest.raises(GrantError):
        narrow_agreement(uow, agreement_id, customer_id, modes(keep), CUSTOMER)
    agreement = load(vault, agreement_id)
    assert (agreement.granted_fields, agreement.version) == (FIELDS, 1)
    assert event_kinds(vault, agreement_id) == ["requested", "granted"]


def test_narrowing_to_nothing_revokes(
    vault: Vault, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    agreement_id = make_active_agreement(vault, business_id, customer_id, FIELDS)
    with vault.unit_of_work() as uow:
        narrow_agreement(uow, agreement_id, customer_id, {}, CUSTOMER)
    assert load(vault, agreement_id).status == AgreementStatus.REVOKED
    assert event_kinds(vault, agreement_id)[-1] == "revoked"
    assert [e.type for e in outbox(vault, business_id)][-1] == "agreement.revoked"


def test_restricting_pauses_and_resuming_lifts_the_pause(
    vault: Vault, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    agreement_id = make_active_agreement(vault, business_id, customer_id, FIELDS)
    caller = Caller(business_id, "client:test")
    with vault.unit_of_work() as uow:
        restrict_agreement(uow, agreement_id, customer_id, CUSTOMER)
    agreement = load(vault, agreement_id)
    assert agreement.restricted is True
    assert agreement.status == AgreementStatus.ACTIVE  # paused, not ended (GDPR Art. 18)
    with vault.unit_of_work() as uow, pytest.raises(AccessDenied) as denied:
        read_profile(uow, caller, agreement_id)
    assert denied.value.reason == "restricted"
    with vault.unit_of_work() as uow:
        resume_agreement(uow, agreement_id, customer_id, CUSTOMER)
    assert load(vault, agreement_id).restricted is False
    with vault.unit_of_work() as uow:
        assert read_profile(uow, caller, agreement_id).agreement_id == agreement_id
    assert event_kinds(vault, agreement_id) == ["requested", "granted", "restricted", "resumed"]


# --- amendments ------------------------------------------------------------------------------


def test_an_accepted_amendment_supersedes_the_old_agreement(
    vault: Vault, clock: Clock, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    old = make_active_agreement(vault, business_id, customer_id, {"contact.email": "read"})
    wider = {"contact.email": "read", "contact.phone": "read"}
    new = amend(vault, business_id, old, wider, customer_id)
    assert load(vault, new).version == 2
    assert load(vault, old).status == AgreementStatus.ACTIVE  # until the customer accepts
    clock.now = START + timedelta(days=10)
    decide(vault, new, customer_id, wider)
    previous, current = load(vault, old), load(vault, new)
    assert previous.status == AgreementStatus.SUPERSEDED
    assert previous.ended_at == clock.now
    assert current.status == AgreementStatus.ACTIVE
    assert (current.version, current.supersedes_id, current.granted_fields) == (2, old, wider)
    assert event_kinds(vault, old) == ["requested", "granted", "superseded"]
    assert event_kinds(vault, new) == ["requested", "granted"]


def test_a_declined_amendment_leaves_the_old_agreement_active(
    vault: Vault, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    old = make_active_agreement(vault, business_id, customer_id, {"contact.email": "read"})
    new = amend(vault, business_id, old, {"contact.email": "read", "work.employer": "read"}, None)
    decide(vault, new, customer_id, None)
    assert load(vault, new).status == AgreementStatus.DECLINED
    previous = load(vault, old)
    assert previous.status == AgreementStatus.ACTIVE
    assert previous.granted_fields == {"contact.email": "read"}
    assert event_kinds(vault, old) == ["requested", "granted"]


def test_an_amendment_is_addressed_to_the_customer_of_the_agreement_it_supersedes(
    vault: Vault, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    """An amendment waits in its customer's inbox; no one else can answer it."""
    old = make_active_agreement(vault, business_id, customer_id, {"contact.email": "read"})
    # The broker need not repeat the customer: the agreement being amended names them.
    new = amend(vault, business_id, old, {"contact.email": "read", "contact.phone": "read"}, None)
    stranger = make_customer(vault)
    with pytest.raises(AgreementNotFoundError):
        decide(vault, new, stranger, {"contact.email": "read"})
    assert load(vault, old).status == AgreementStatus.ACTIVE
    assert load(vault, new).customer_id == customer_id
    with vault.unit_of_work(write=False) as uow:
        assert new in {a.id for a in customer_agreements(uow, customer_id)}


def test_an_amendment_cannot_supersede_another_business_agreement(
    vault: Vault, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    other_business = make_business(vault, name="Quba Xalçaları")[0]
    theirs = make_active_agreement(vault, business_id, customer_id, {"contact.email": "read"})
    try:
        ours = amend(vault, other_business, theirs, {"contact.email": "read"}, customer_id)
        decide(vault, ours, customer_id, {"contact.email": "read"})
    except AgreementError:
        pass  # refusing the request or the grant is just as good
    assert load(vault, theirs).status == AgreementStatus.ACTIVE
    assert event_kinds(vault, theirs) == ["requested", "granted"]


# --- expiry ----------------------------------------------------------------------------------


def test_an_agreement_past_valid_until_reads_as_expired(
    vault: Vault, clock: Clock, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    agreement_id = make_active_agreement(vault, business_id, customer_id, FIELDS, duration="P30D")
    agreement = load(vault, agreement_id)
    assert agreement.valid_until == START + timedelta(days=30)
    just_before = agreement.valid_until - timedelta(microseconds=1)
    assert current_status(agreement, just_before) is AgreementStatus.ACTIVE
    assert current_status(agreement, agreement.valid_until) is AgreementStatus.EXPIRED
    assert current_status(agreement, agreement.valid_until + timedelta(days=1)) is (
        AgreementStatus.EXPIRED
    )
    # Reading the status changes nothing: the row is written when someone notices.
    assert load(vault, agreement_id).status == AgreementStatus.ACTIVE


def test_the_gate_refuses_an_expired_agreement_and_records_the_expiry_once(
    vault: Vault, clock: Clock, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    agreement_id = make_active_agreement(vault, business_id, customer_id, FIELDS, duration="P30D")
    caller = Caller(business_id, "client:test")
    clock.now = START + timedelta(days=31)
    for _ in range(2):
        with vault.unit_of_work() as uow, pytest.raises(AccessDenied) as denied:
            read_profile(uow, caller, agreement_id)
        assert denied.value.reason == "expired"
    agreement = load(vault, agreement_id)
    assert agreement.status == AgreementStatus.EXPIRED
    assert agreement.ended_at == START + timedelta(days=30)
    assert event_kinds(vault, agreement_id) == ["requested", "granted", "expired"]
    types = [e.type for e in outbox(vault, business_id)]
    assert types == ["agreement.granted", "agreement.expired"]


def test_record_expiry_if_due_writes_one_event_and_one_outbox_event(
    vault: Vault, clock: Clock, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    agreement_id = make_active_agreement(vault, business_id, customer_id, FIELDS, duration="P30D")
    with vault.unit_of_work() as uow:
        agreement = uow.session.get(Agreement, agreement_id)
        assert agreement is not None
        assert record_expiry_if_due(uow, agreement) is False  # not due yet
        uow.commit()
    clock.now = START + timedelta(days=45)
    written = []
    for _ in range(2):
        with vault.unit_of_work() as uow:
            agreement = uow.session.get(Agreement, agreement_id)
            assert agreement is not None
            written.append(record_expiry_if_due(uow, agreement))
            uow.commit()
    assert written == [True, False]
    with vault.unit_of_work(write=False) as uow:
        expired = uow.session.execute(
            select(AgreementEvent.actor, AgreementEvent.at).where(
                AgreementEvent.agreement_id == agreement_id, AgreementEvent.kind == "expired"
            )
        ).all()
    assert [tuple(row) for row in expired] == [("system", clock.now)]
    events = [e for e in outbox(vault, business_id) if e.type == "agreement.expired"]
    assert len(events) == 1
    assert events[0].agreement_id == agreement_id
    assert events[0].payload["status"] == "expired"


def test_an_expired_agreement_can_no_longer_be_revoked_narrowed_or_restricted(
    vault: Vault, clock: Clock, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    agreement_id = make_active_agreement(vault, business_id, customer_id, FIELDS, duration="P2W")
    clock.now = START + timedelta(weeks=3)
    with vault.unit_of_work() as uow:
        for change in (
            lambda: revoke_agreement(uow, agreement_id, customer_id, CUSTOMER),
            lambda: restrict_agreement(uow, agreement_id, customer_id, CUSTOMER),
            lambda: narrow_agreement(
                uow, agreement_id, customer_id, {"contact.email": AccessMode.READ}, CUSTOMER
            ),
        ):
            with pytest.raises(AgreementError):
                change()
    assert event_kinds(vault, agreement_id) == ["requested", "granted"]


# --- durations -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "last_of_february"), [(2025, 28), (2024, 29)], ids=["common", "leap"]
)
def test_one_month_from_january_31_ends_on_the_last_day_of_february(
    vault: Vault,
    clock: Clock,
    business_id: uuid.UUID,
    customer_id: uuid.UUID,
    year: int,
    last_of_february: int,
) -> None:
    clock.now = datetime(year, 1, 31, 16, 45, tzinfo=UTC)
    agreement_id = make_active_agreement(vault, business_id, customer_id, FIELDS, duration="P1M")
    valid_until = load(vault, agreement_id).valid_until
    assert valid_until == datetime(year, 2, last_of_february, 16, 45, tzinfo=UTC)


@pytest.mark.parametrize(
    ("duration", "start", "end"),
    [
        ("P1M", datetime(2025, 1, 31), datetime(2025, 2, 28)),
        ("P1M", datetime(2024, 1, 31), datetime(2024, 2, 29)),
        ("P1M", datetime(2025, 3, 31), datetime(2025, 4, 30)),
        ("P1M", datetime(2025, 12, 31), datetime(2026, 1, 31)),
        ("P1Y", datetime(2024, 2, 29), datetime(2025, 2, 28)),
        ("P13M", datetime(2024, 1, 31), datetime(2025, 2, 28)),
        ("P2W", datetime(2025, 2, 20), datetime(2025, 3, 6)),
        ("P1M1D", datetime(2025, 1, 31), datetime(2025, 3, 1)),
        ("P30D", datetime(2025, 2, 1), datetime(2025, 3, 3)),
    ],
)
def test_calendar_durations_follow_the_calendar(
    duration: str, start: datetime, end: datetime
) -> None:
    begins = start.replace(hour=8, tzinfo=UTC)
    assert CalendarDuration.parse(duration).after(begins) == end.replace(hour=8, tzinfo=UTC)


# --- the outbox ------------------------------------------------------------------------------


def test_granting_emits_agreement_granted(
    vault: Vault, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    agreement_id = make_active_agreement(
        vault, business_id, customer_id, FIELDS, granted={"contact.email": "read"}
    )
    [event] = outbox(vault, business_id)
    assert (event.type, event.agreement_id) == ("agreement.granted", agreement_id)
    assert event.payload == {
        "agreement_id": str(agreement_id),
        "status": "active",
        "version": 1,
        "granted_fields": ["contact.email"],
    }


def test_granting_an_amendment_emits_agreement_amended(
    vault: Vault, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    old = make_active_agreement(vault, business_id, customer_id, {"contact.email": "read"})
    wider = {"contact.email": "read", "contact.phone": "read"}
    new = amend(vault, business_id, old, wider, customer_id)
    decide(vault, new, customer_id, wider)
    events = outbox(vault, business_id)
    assert [e.type for e in events] == ["agreement.granted", "agreement.amended"]
    assert events[1].agreement_id == new
    assert events[1].payload["version"] == 2
    assert events[1].payload["granted_fields"] == ["contact.email", "contact.phone"]


def test_revoking_emits_agreement_revoked(
    vault: Vault, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    agreement_id = make_active_agreement(vault, business_id, customer_id, FIELDS)
    with vault.unit_of_work() as uow:
        revoke_agreement(uow, agreement_id, customer_id, CUSTOMER)
    events = outbox(vault, business_id)
    assert [e.type for e in events] == ["agreement.granted", "agreement.revoked"]
    assert events[1].agreement_id == agreement_id
    assert events[1].payload["status"] == "revoked"


def test_erasure_emits_customer_erased(
    vault: Vault, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    agreement_id = make_active_agreement(vault, business_id, customer_id, FIELDS)
    with vault.unit_of_work() as uow:
        erase_customer(uow, customer_id)
    events = outbox(vault, business_id)
    assert [e.type for e in events] == ["agreement.granted", "customer.erased"]
    assert events[1].payload == {"agreement_id": str(agreement_id)}
    assert load(vault, agreement_id).status == AgreementStatus.REVOKED


def test_setting_a_granted_field_emits_profile_updated_with_keys_and_no_values(
    vault: Vault, business_id: uuid.UUID
) -> None:
    customer = make_customer(vault, profile={"contact.email": "first.address@example.az"})
    agreement_id = make_active_agreement(vault, business_id, customer, FIELDS)
    with vault.unit_of_work() as uow:
        set_field(uow, customer, "contact.email", "Unmistakable.Secret@example.az")
    events = outbox(vault, business_id)
    assert [e.type for e in events] == ["agreement.granted", "profile.updated"]
    updated = events[1]
    assert updated.agreement_id == agreement_id
    assert updated.payload == {"agreement_id": str(agreement_id), "fields": ["contact.email"]}
    text = json.dumps(updated.payload).casefold()
    assert "unmistakable" not in text and "first.address" not in text


def test_setting_a_field_that_is_not_granted_emits_nothing_for_that_business(
    vault: Vault, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    other = make_business(vault, name="Quba Xalçaları")[0]
    make_active_agreement(vault, business_id, customer_id, {"contact.email": "read"})
    granted_other = make_active_agreement(vault, other, customer_id, {"work.employer": "read"})
    with vault.unit_of_work() as uow:
        set_field(uow, customer_id, "work.employer", "Azersun")
    assert [e.type for e in outbox(vault, business_id)] == ["agreement.granted"]
    events = outbox(vault, other)
    assert [e.type for e in events] == ["agreement.granted", "profile.updated"]
    assert events[1].payload == {"agreement_id": str(granted_other), "fields": ["work.employer"]}


@pytest.mark.parametrize("ending", ["revoked", "declined", "expired", "superseded"])
def test_a_business_whose_agreement_has_ended_hears_of_no_profile_update(
    vault: Vault,
    clock: Clock,
    business_id: uuid.UUID,
    customer_id: uuid.UUID,
    ending: str,
) -> None:
    email = {"contact.email": "read"}
    if ending == "declined":
        agreement_id = make_request(vault, business_id, email, customer_id)
        decide(vault, agreement_id, customer_id, None)
    else:
        agreement_id = make_active_agreement(vault, business_id, customer_id, email, duration="P1M")
    if ending == "revoked":
        with vault.unit_of_work() as uow:
            revoke_agreement(uow, agreement_id, customer_id, CUSTOMER)
    elif ending == "expired":
        clock.now = START + timedelta(days=40)  # expired, though nobody has noticed yet
    elif ending == "superseded":
        newer = amend(vault, business_id, agreement_id, {"contact.phone": "read"}, customer_id)
        decide(vault, newer, customer_id, {"contact.phone": "read"})
    before = len(outbox(vault, business_id))
    with vault.unit_of_work() as uow:
        set_field(uow, customer_id, "contact.email", "new.address@example.az")
    assert [e.type for e in outbox(vault, business_id)[before:]] == []
