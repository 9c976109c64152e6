"""Invariant 5: once a customer's revocation commits, no read under that agreement succeeds."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from broker.gate import AccessDenied, Caller, read_profile
from schemas.agreements import AccessMode
from tests.conftest import make_customer
from tests.factories import make_active_agreement, make_business
from vault.access_log.models import AccessEvent
from vault.agreements.models import AgreementEvent
from vault.agreements.services import (
    Context,
    narrow_agreement,
    restrict_agreement,
    revoke_agreement,
)
from vault.unit_of_work import Vault

PROFILE = {"identity.given_name": "Aynur", "contact.phone": "+994 55 765 43 21"}
FIELDS = {"identity.given_name": "read", "contact.phone": "read"}
CUSTOMER = Context("customer", "203.0.113.7", "pytest")

THREADS = 32
# Bounds on the race, whatever the machine's speed: reads allowed before the revocation is
# asked for, while it is under way (fed at a pace that leaves it room to commit, so reads
# are in flight around the commit), and after it; and how long a phase may wait.
BUDGET_BEFORE = 150
BUDGET_DURING = 400
PACE_PER_SECOND = 400
BUDGET_AFTER = 300
ENOUGH = 40
PHASE_SECONDS = 1.0


@dataclass(frozen=True)
class Read:
    """One read as its thread saw it."""

    started: float  # time.monotonic() just before the call
    data: bool  # whether any field came back
    reason: str | None  # the gate's reason when it refused


class Readers:
    """THREADS threads calling read_profile in a loop, each call its own unit of work.

    Each read takes a permit; with none left a thread waits for more (or for the end).
    """

    def __init__(self, vault: Vault, caller: Caller, agreement_id: uuid.UUID, permits: int):
        self.vault, self.caller, self.agreement_id = vault, caller, agreement_id
        self.reads: list[Read] = []
        self.errors: list[BaseException] = []
        self.stop = threading.Event()
        self._guard = threading.Lock()
        self._permits = threading.Semaphore(permits)
        self._threads = [threading.Thread(target=self._run) for _ in range(THREADS)]

    def __enter__(self) -> Readers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join()

    def allow(self, permits: int) -> None:
        self._permits.release(permits)

    def count(self, predicate: Callable[[Read], bool]) -> int:
        with self._guard:
            return sum(1 for read in self.reads if predicate(read))

    def wait_for(self, predicate: Callable[[Read], bool], enough: int, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while self.count(predicate) < enough and time.monotonic() < deadline:
            time.sleep(0.005)

    def _run(self) -> None:
        while not self.stop.is_set():
            if not self._permits.acquire(timeout=0.02):
                continue
            started = time.monotonic()
            try:
                with self.vault.unit_of_work() as uow:
                    granted = read_profile(uow, self.caller, self.agreement_id)
                outcome = Read(started, bool(granted.fields), None)
            except AccessDenied as refused:
                outcome = Read(started, False, refused.reason)
            except BaseException as exc:  # surfaced by the test
                self.errors.append(exc)
                return
            with self._guard:
                self.reads.append(outcome)


@pytest.fixture
def setting(vault: Vault) -> tuple[Caller, uuid.UUID, uuid.UUID]:
    business_id = make_business(vault)[0]
    customer = make_customer(vault, profile=PROFILE)
    agreement_id = make_active_agreement(vault, business_id, customer, FIELDS)
    return Caller(business_id, "client:emc_race"), customer, agreement_id


def test_no_read_that_starts_after_the_revocation_commits_gets_data(
    vault: Vault, setting: tuple[Caller, uuid.UUID, uuid.UUID]
) -> None:
    caller, customer, agreement_id = setting
    revoked = threading.Event()
    with Readers(vault, caller, agreement_id, BUDGET_BEFORE) as readers:

        def feed() -> None:
            for _ in range(BUDGET_DURING):
                if revoked.wait(1 / PACE_PER_SECOND):
                    return
                readers.allow(1)

        readers.wait_for(lambda r: r.data, ENOUGH, PHASE_SECONDS)
        feeder = threading.Thread(target=feed)
        feeder.start()
        try:
            with vault.unit_of_work() as uow:
                revoke_agreement(uow, agreement_id, customer, CUSTOMER)
            # revoke_agreement commits before it returns: every read from here on must fail.
            committed = time.monotonic()
            committed_at = datetime.now(UTC)
        finally:
            revoked.set()
            feeder.join()
        readers.allow(BUDGET_AFTER)
        readers.wait_for(lambda r: r.started > committed, ENOUGH, PHASE_SECONDS)
    reads = readers.reads

    assert readers.errors == []
    assert any(r.data for r in reads), "no read succeeded before the revocation"
    after = [r for r in reads if r.started > committed]
    assert after, "no read started after the revocation"
    leaked = [r for r in after if r.data or r.reason != "revoked"]
    assert leaked == [], f"{len(leaked)} of {len(after)} reads after the revocation got through"

    with vault.unit_of_work(write=False) as uow:
        revoked_at = uow.session.scalar(
            select(AgreementEvent.at).where(
                AgreementEvent.agreement_id == agreement_id, AgreementEvent.kind == "revoked"
            )
        )
        logged = uow.session.execute(
            select(AccessEvent.seq, AccessEvent.at, AccessEvent.outcome)
            .where(AccessEvent.agreement_id == agreement_id, AccessEvent.kind == "profile.read")
            .order_by(AccessEvent.seq)
        ).all()
    assert revoked_at is not None and revoked_at <= committed_at
    allowed = [row for row in logged if row.outcome == "allowed"]
    refused = [row for row in logged if row.outcome == "denied:revoked"]
    # Every read is in the log, once, with the outcome its caller saw.
    assert len(allowed) == sum(r.data for r in reads)
    assert len(refused) == sum(r.reason == "revoked" for r in reads)
    assert len(logged) == len(reads)
    # No allowed read is logged after the revocation, by time or by sequence.
    assert max(row.at for row in allowed) < revoked_at
    assert max(row.seq for row in allowed) < min(row.seq for row in refused)
    assert min(row.at for row in refused) >= revoked_at


STREAM_PERMITS = 1500
STREAM_SECONDS = 3.0
REVOCATION_SECONDS = 1.0  # generous: a fair lock waits only for the reads already in flight


def test_a_stream_of_reads_does_not_hold_a_revocation_back(
    vault: Vault, setting: tuple[Caller, uuid.UUID, uuid.UUID]
) -> None:
    """A business reading as fast as it can must not delay the customer's revocation."""
    caller, customer, agreement_id = setting
    with Readers(vault, caller, agreement_id, STREAM_PERMITS) as readers:
        ends = threading.Timer(STREAM_SECONDS, readers.stop.set)
        ends.start()
        try:
            readers.wait_for(lambda r: r.data, ENOUGH, PHASE_SECONDS)
            asked = time.monotonic()
            with vault.unit_of_work() as uow:
                revoke_agreement(uow, agreement_id, customer, CUSTOMER)
            took = time.monotonic() - asked
            still_reading = not readers.stop.is_set()
        finally:
            ends.cancel()
    assert readers.errors == []
    assert took < REVOCATION_SECONDS and still_reading, (
        f"the revocation waited {took:.2f} s for {readers.count(lambda r: r.started > asked)} "
        "reads that started after it was asked for"
    )


def test_a_unit_of_work_opened_before_the_revocation_reads_nothing_after_it(
    vault: Vault, setting: tuple[Caller, uuid.UUID, uuid.UUID]
) -> None:
    caller, customer, agreement_id = setting
    with vault.unit_of_work() as early:
        with vault.unit_of_work() as uow:
            revoke_agreement(uow, agreement_id, customer, CUSTOMER)
        with pytest.raises(AccessDenied) as refused:
            read_profile(early, caller, agreement_id)
    assert refused.value.reason == "revoked"


def test_narrowing_takes_a_field_away_at_once(
    vault: Vault, setting: tuple[Caller, uuid.UUID, uuid.UUID]
) -> None:
    caller, customer, agreement_id = setting
    with vault.unit_of_work() as uow:
        assert set(read_profile(uow, caller, agreement_id).fields) == set(FIELDS)
    with vault.unit_of_work() as uow:
        narrow_agreement(
            uow, agreement_id, customer, {"identity.given_name": AccessMode.READ}, CUSTOMER
        )
    with vault.unit_of_work() as uow:
        assert set(read_profile(uow, caller, agreement_id).fields) == {"identity.given_name"}
    with vault.unit_of_work() as uow, pytest.raises(AccessDenied) as refused:
        read_profile(uow, caller, agreement_id, ["contact.phone"])
    assert refused.value.reason == "not_granted"


def test_a_restriction_stops_reads_at_once(
    vault: Vault, setting: tuple[Caller, uuid.UUID, uuid.UUID]
) -> None:
    caller, customer, agreement_id = setting
    with vault.unit_of_work() as uow:
        read_profile(uow, caller, agreement_id)
    with vault.unit_of_work() as uow:
        restrict_agreement(uow, agreement_id, customer, CUSTOMER)
    with vault.unit_of_work() as uow, pytest.raises(AccessDenied) as refused:
        read_profile(uow, caller, agreement_id)
    assert refused.value.reason == "restricted"
