"""Invariant 9: every state change of an agreement is an event with actor and time, and the
current state can be rebuilt from the events alone."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from broker.businesses.services import business_snapshot
from broker.gate import AccessDenied, Caller, read_profile
from schemas.agreements import AccessMode
from tests.factories import make_business, make_request, terms_for
from vault.agreements.models import Agreement
from vault.agreements.services import (
    AgreementError,
    Context,
    agreement_events,
    decide_request,
    narrow_agreement,
    rebuild_state,
    request_agreement,
    restrict_agreement,
    resume_agreement,
    revoke_agreement,
    state_of,
)
from vault.erasure import erase_customer
from vault.unit_of_work import UnitOfWork, Vault

FIELDS = {
    "identity.given_name": "read",
    "contact.email": "read",
    "contact.phone": "write",
    "work.employer": "read",
    "interactions": "append",
}
START = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class Step:
    """One change a test makes, and the event it expects for it."""

    kind: str
    context: Context
    change: Callable[[UnitOfWork, Context], object]


@pytest.fixture
def clock(vault: Vault) -> Clock:
    clock = Clock(START)
    vault.clock = clock
    return clock


@pytest.fixture
def business_id(vault: Vault) -> uuid.UUID:
    return make_business(vault)[0]


def modes(fields: dict[str, str]) -> dict[str, AccessMode]:
    return {key: AccessMode(mode) for key, mode in fields.items()}


def snapshot(vault: Vault, agreement_id: uuid.UUID) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Return the agreement's state and its events as plain data."""
    with vault.unit_of_work(write=False) as uow:
        agreement = uow.session.get(Agreement, agreement_id)
        assert agreement is not None
        events = agreement_events(uow, agreement_id)
        rebuilt = rebuild_state(events)
        assert rebuilt == state_of(agreement), "the events do not rebuild the agreement"
        return state_of(agreement), [
            {
                "id": e.id,
                "kind": e.kind,
                "actor": e.actor,
                "at": e.at,
                "ip": e.ip,
                "user_agent": e.user_agent,
                "state": e.state,
            }
            for e in events
        ]


def lifecycle_steps(agreement_id: uuid.UUID, customer_id: uuid.UUID) -> list[Step]:
    def context(n: int) -> Context:
        return Context("customer", f"198.51.100.{n}", f"Browser/{n}")

    return [
        Step(
            "granted",
            context(1),
            lambda uow, c: decide_request(uow, agreement_id, customer_id, modes(FIELDS), c),
        ),
        Step(
            "narrowed",
            context(2),
            lambda uow, c: narrow_agreement(
                uow,
                agreement_id,
                customer_id,
                modes({k: v for k, v in FIELDS.items() if k != "work.employer"}),
                c,
            ),
        ),
        Step(
            "restricted",
            context(3),
            lambda uow, c: restrict_agreement(uow, agreement_id, customer_id, c),
        ),
        Step(
            "resumed",
            context(4),
            lambda uow, c: resume_agreement(uow, agreement_id, customer_id, c),
        ),
        Step(
            "narrowed",
            Context("customer"),  # no address or browser known, e.g. from the CLI
            lambda uow, c: narrow_agreement(
                uow,
                agreement_id,
                customer_id,
                modes({"contact.phone": "write", "interactions": "append"}),
                c,
            ),
        ),
        Step(
            "restricted",
            context(6),
            lambda uow, c: restrict_agreement(uow, agreement_id, customer_id, c),
        ),
        Step(
            "revoked",
            context(7),
            lambda uow, c: revoke_agreement(uow, agreement_id, customer_id, c),
        ),
    ]


def test_every_state_change_is_an_event_with_actor_time_ip_and_user_agent(
    vault: Vault, clock: Clock, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    agreement_id = make_request(vault, business_id, FIELDS, customer_id)
    steps = lifecycle_steps(agreement_id, customer_id)
    for number, step in enumerate(steps, start=1):
        clock.now = START + timedelta(hours=number)
        with vault.unit_of_work() as uow:
            step.change(uow, step.context)
    state, events = snapshot(vault, agreement_id)
    assert [e["kind"] for e in events] == ["requested", *(s.kind for s in steps)]
    assert events[0]["actor"] == f"business:{business_id}"
    assert events[0]["at"] == START
    for number, (step, event) in enumerate(zip(steps, events[1:], strict=True), start=1):
        assert event["actor"] == step.context.actor
        assert event["at"] == START + timedelta(hours=number)
        assert (event["ip"], event["user_agent"]) == (step.context.ip, step.context.user_agent)
    # Each event holds the state right after it.
    assert events[1]["state"]["granted_fields"] == FIELDS
    assert "work.employer" not in events[2]["state"]["granted_fields"]
    assert [e["state"]["restricted"] for e in events[3:]] == [True, False, False, True, True]
    assert [e["state"]["status"] for e in events] == ["requested"] + ["active"] * 6 + ["revoked"]
    assert state["status"] == "revoked"


def test_rebuild_state_equals_state_of_after_every_change_of_a_long_sequence(
    vault: Vault, clock: Clock, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    agreement_id = make_request(vault, business_id, FIELDS, customer_id)
    seen: list[dict[str, Any]] = []
    for number, step in enumerate(lifecycle_steps(agreement_id, customer_id), start=1):
        clock.now = START + timedelta(minutes=number)
        with vault.unit_of_work() as uow:
            step.change(uow, step.context)
        state, events = snapshot(vault, agreement_id)  # asserts the rebuild
        assert events[-1]["state"] == state
        # Events already written never change.
        assert events[: len(seen)] == seen
        seen = events
    assert len(seen) == 8


def test_refused_changes_leave_no_event(
    vault: Vault, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    agreement_id = make_request(vault, business_id, FIELDS, customer_id)
    customer = Context("customer", "203.0.113.9", "pytest")
    with vault.unit_of_work() as uow, pytest.raises(AgreementError):
        decide_request(uow, agreement_id, customer_id, modes({"work.job_title": "read"}), customer)
    with vault.unit_of_work() as uow, pytest.raises(AgreementError):
        revoke_agreement(uow, agreement_id, customer_id, customer)  # not active yet
    with vault.unit_of_work() as uow:
        decide_request(uow, agreement_id, customer_id, modes(FIELDS), customer)
    with vault.unit_of_work() as uow:
        restrict_agreement(uow, agreement_id, customer_id, customer)
    with vault.unit_of_work() as uow:
        restrict_agreement(uow, agreement_id, customer_id, customer)  # already: no change
    _, events = snapshot(vault, agreement_id)
    assert [e["kind"] for e in events] == ["requested", "granted", "restricted"]


def test_an_amendment_chain_keeps_every_version_and_rebuilds_each(
    vault: Vault, clock: Clock, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    customer = Context("customer", "203.0.113.20", "Firefox/128.0")
    chain = [make_request(vault, business_id, {"contact.email": "read"}, customer_id)]
    with vault.unit_of_work() as uow:
        decide_request(uow, chain[0], customer_id, modes({"contact.email": "read"}), customer)
    asks = [
        {"contact.email": "read", "contact.phone": "read"},
        {"contact.email": "read", "contact.phone": "write", "work.employer": "read"},
    ]
    for number, fields in enumerate(asks, start=1):
        clock.now = START + timedelta(days=number)
        with vault.unit_of_work() as uow:
            previous = uow.session.get(Agreement, chain[-1])
            amendment = request_agreement(
                uow,
                business=business_snapshot(uow, business_id),
                terms=terms_for(fields),
                context=Context(f"business:{business_id}"),
                customer_id=customer_id,
                supersedes=previous,
            )
            uow.commit()
            chain.append(amendment.id)
        with vault.unit_of_work() as uow:
            decide_request(uow, chain[-1], customer_id, modes(fields), customer)
    clock.now = START + timedelta(days=5)
    with vault.unit_of_work() as uow:
        narrow_agreement(uow, chain[-1], customer_id, modes({"contact.phone": "write"}), customer)
    clock.now = START + timedelta(days=6)
    with vault.unit_of_work() as uow:
        revoke_agreement(uow, chain[-1], customer_id, customer)

    histories = [snapshot(vault, agreement_id) for agreement_id in chain]
    assert [[e["kind"] for e in events] for _, events in histories] == [
        ["requested", "granted", "superseded"],
        ["requested", "granted", "superseded"],
        ["requested", "granted", "narrowed", "revoked"],
    ]
    assert [state["version"] for state, _ in histories] == [1, 2, 4]
    assert [state["status"] for state, _ in histories] == ["superseded", "superseded", "revoked"]
    # Each version keeps what it granted when it ended.
    assert histories[0][0]["granted_fields"] == {"contact.email": "read"}
    assert histories[1][0]["granted_fields"] == {"contact.email": "read", "contact.phone": "read"}
    # The superseding is recorded when, and by whom, the amendment was accepted.
    superseded = histories[0][1][-1]
    assert (superseded["actor"], superseded["at"], superseded["ip"]) == (
        "customer",
        START + timedelta(days=1),
        "203.0.113.20",
    )


def test_an_expiry_noticed_at_read_time_is_an_event_by_the_system(
    vault: Vault, clock: Clock, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    agreement_id = make_request(vault, business_id, FIELDS, customer_id, duration="P1W")
    with vault.unit_of_work() as uow:
        decide_request(uow, agreement_id, customer_id, modes(FIELDS), Context("customer"))
    clock.now = START + timedelta(days=9)
    with vault.unit_of_work() as uow, pytest.raises(AccessDenied):
        read_profile(uow, Caller(business_id, "client:test"), agreement_id)
    state, events = snapshot(vault, agreement_id)
    assert state["status"] == "expired"
    assert (events[-1]["kind"], events[-1]["actor"], events[-1]["at"]) == (
        "expired",
        "system",
        clock.now,
    )


def test_declining_and_erasure_are_events_too(
    vault: Vault, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    declined = make_request(vault, business_id, FIELDS, customer_id)
    active = make_request(vault, business_id, FIELDS, customer_id)
    with vault.unit_of_work() as uow:
        decide_request(uow, declined, customer_id, None, Context("customer", "192.0.2.1"))
    with vault.unit_of_work() as uow:
        decide_request(uow, active, customer_id, modes(FIELDS), Context("customer"))
    with vault.unit_of_work() as uow:
        erase_customer(uow, customer_id)
    declined_state, declined_events = snapshot(vault, declined)
    assert [e["kind"] for e in declined_events] == ["requested", "declined"]
    assert declined_events[-1]["ip"] == "192.0.2.1"
    assert declined_state["status"] == "declined"
    active_state, active_events = snapshot(vault, active)
    assert [e["kind"] for e in active_events] == ["requested", "granted", "erased"]
    assert active_state["status"] == "revoked"


def test_a_very_long_user_agent_is_kept_shortened_not_refused(
    vault: Vault, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    agreement_id = make_request(vault, business_id, FIELDS, customer_id)
    user_agent = "Mozilla/5.0 " + "x" * 1000
    with vault.unit_of_work() as uow:
        decide_request(
            uow, agreement_id, customer_id, modes(FIELDS), Context("customer", None, user_agent)
        )
    _, events = snapshot(vault, agreement_id)
    assert events[-1]["user_agent"] == user_agent[:400]


def test_rebuild_state_does_not_depend_on_the_order_events_are_given_in(
    vault: Vault, business_id: uuid.UUID, customer_id: uuid.UUID
) -> None:
    agreement_id = make_request(vault, business_id, FIELDS, customer_id)
    for step in lifecycle_steps(agreement_id, customer_id)[:4]:
        with vault.unit_of_work() as uow:
            step.change(uow, step.context)
    with vault.unit_of_work(write=False) as uow:
        agreement = uow.session.get(Agreement, agreement_id)
        assert agreement is not None
        events = agreement_events(uow, agreement_id)
        assert rebuild_state(list(reversed(events))) == state_of(agreement)
        assert rebuild_state(events[:2]) == events[1].state != state_of(agreement)
