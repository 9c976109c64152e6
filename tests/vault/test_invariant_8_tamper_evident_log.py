"""Invariant 8: the access log is hash-chained; verification finds any altered, removed or
reordered event, and sealing never makes the read path wait."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner
from sqlalchemy import Executable, delete, func, select, update

from emanet.cli_audit import audit
from emanet.settings import Settings
from tests.conftest import make_customer
from tests.factories import make_business
from vault.access_log.chain import (
    ENTRY_COLUMNS,
    GENESIS_HASH,
    ChainHeadMissingError,
    entry_bytes,
    link_hash,
    seal_batch,
    seal_pending,
    verify_chain,
)
from vault.access_log.models import AccessEvent, ChainHead
from vault.access_log.services import LogEntry, append_event
from vault.unit_of_work import Vault

T = TypeVar("T")
LINK_COLUMNS = {"chain_position", "entry_hash"}
# A value for every column that differs from anything the fixtures write.
ALTERATIONS: dict[str, Any] = {
    "seq": None,  # renumbered below: seq + 1_000_000
    "at": datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC),
    "kind": "tampered.kind",
    "outcome": "denied:tampered",
    "actor": "someone else",
    "customer_id": uuid.UUID(int=1),
    "business_id": uuid.UUID(int=2),
    "agreement_id": uuid.UUID(int=3),
    "purpose": "Tampered",
    "fields": ["identity.national_id"],
    "detail": "tampered detail",
}


def append_events(vault: Vault, count: int, kind: str = "test.event") -> list[int]:
    """Append events through the service, in one committed transaction."""
    with vault.unit_of_work() as uow:
        seqs = [
            append_event(
                uow,
                LogEntry(
                    kind=f"{kind}.{n}",
                    actor=f"business:{uuid.uuid4()}",
                    customer_id=uuid.uuid4(),
                    business_id=uuid.uuid4(),
                    purpose="CustomerCare",
                    fields=["contact.phone", "contact.email"],
                    detail=f"read number {n}",
                ),
            )
            for n in range(count)
        ]
        uow.commit()
    return seqs


def chain_order(vault: Vault) -> list[int]:
    """Return the sequence numbers of sealed events, by chain position."""
    with vault.unit_of_work(write=False) as uow:
        query = select(AccessEvent.seq, AccessEvent.chain_position).where(
            AccessEvent.chain_position.is_not(None)
        )
        rows = uow.session.execute(query.order_by(AccessEvent.chain_position)).all()
    assert [r.chain_position for r in rows] == list(range(1, len(rows) + 1))
    return [r.seq for r in rows]


def tamper(vault: Vault, *statements: Executable) -> None:
    """Change the tables behind the services' backs, as someone with database access could."""
    with vault.unit_of_work() as uow:
        for statement in statements:
            uow.session.execute(statement)
        uow.commit()


def within(seconds: float, work: Callable[[], T]) -> T:
    """Run work on another thread and fail if it has to wait longer than `seconds`."""
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(work).result(timeout=seconds)
    finally:
        pool.shutdown(wait=False)


@pytest.fixture
def sealed(vault: Vault) -> list[int]:
    """A log written by real use cases and by the gate's service, sealed; seqs by position."""
    make_customer(vault)
    make_business(vault)
    make_customer(vault)
    append_events(vault, 6)
    assert seal_pending(vault, settle_seconds=0) >= 8
    return chain_order(vault)


def test_the_leaf_encoding_covers_every_column_but_the_chain_links(sealed: list[int]) -> None:
    columns = {c.name for c in AccessEvent.__table__.columns} - LINK_COLUMNS
    assert set(ENTRY_COLUMNS) == columns == set(ALTERATIONS)
    event = AccessEvent(
        seq=7,
        at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC) + timedelta(hours=4),
        kind="gate.read",
        outcome="allowed",
        actor="business:x",
        customer_id=uuid.UUID(int=9),
        fields=["contact.phone"],
    )
    decoded = json.loads(entry_bytes(event))
    assert set(decoded) == columns
    assert decoded["at"] == "2024-05-01T16:00:00.000000Z"
    assert decoded["customer_id"] == str(uuid.UUID(int=9)) and decoded["seq"] == 7
    assert entry_bytes(event) == entry_bytes(event)


def test_an_intact_log_verifies_and_every_event_is_chained_in_sequence_order(
    vault: Vault, sealed: list[int]
) -> None:
    assert sealed == sorted(sealed)
    with vault.unit_of_work(write=False) as uow:
        kinds = list(uow.session.scalars(select(AccessEvent.kind).order_by(AccessEvent.seq)))
        head = uow.session.get(ChainHead, 1)
        assert head is not None and head.length == len(sealed)
    assert kinds.count("customer.created") == 2 and "business.created" in kinds
    report = verify_chain(vault)
    assert (report.ok, report.checked, report.unsealed, report.problem) == (
        True,
        len(sealed),
        0,
        None,
    )


@pytest.mark.parametrize("column", sorted(ALTERATIONS))
def test_altering_any_column_of_an_event_names_that_event(
    vault: Vault, sealed: list[int], column: str
) -> None:
    target = sealed[2]
    value = target + 1_000_000 if column == "seq" else ALTERATIONS[column]
    tamper(vault, update(AccessEvent).where(AccessEvent.seq == target).values({column: value}))
    report = verify_chain(vault)
    named = value if column == "seq" else target
    assert (report.ok, report.first_bad_seq, report.first_bad_position) == (False, named, 3)
    assert report.checked == 2
    assert (
        report.problem
        == f"event {named} (position 3) was altered: its hash does not match its contents"
    )


def test_removing_an_event_names_the_missing_position(vault: Vault, sealed: list[int]) -> None:
    tamper(vault, delete(AccessEvent).where(AccessEvent.seq == sealed[3]))
    report = verify_chain(vault)
    assert (report.ok, report.first_bad_position, report.checked) == (False, 4, 3)
    assert report.problem is not None and report.problem.startswith("position 4 is missing")
    assert f"event {sealed[2]}" in report.problem and f"event {sealed[4]}" in report.problem


@pytest.mark.parametrize("batch_size", [1, 2, 3])
def test_removal_is_found_across_verification_batches(
    vault: Vault, sealed: list[int], batch_size: int
) -> None:
    tamper(vault, delete(AccessEvent).where(AccessEvent.seq == sealed[0]))
    assert verify_chain(vault, batch_size=batch_size).first_bad_position == 1
    assert verify_chain(vault, batch_size=batch_size).problem.startswith(  # type: ignore[union-attr]
        "position 1 is missing: the chain jumps from the start"
    )


def test_swapping_two_events_places_names_the_first(vault: Vault, sealed: list[int]) -> None:
    first, second = sealed[1], sealed[4]
    tamper(
        vault,
        update(AccessEvent).where(AccessEvent.seq == first).values(chain_position=-1),
        update(AccessEvent).where(AccessEvent.seq == second).values(chain_position=2),
        update(AccessEvent).where(AccessEvent.seq == first).values(chain_position=5),
    )
    report = verify_chain(vault)
    assert (report.ok, report.first_bad_seq, report.first_bad_position) == (False, second, 2)
    assert report.problem is not None and "reordered" in report.problem
    assert report.problem.startswith(f"event {second} (position 2) does not follow")


def test_swapping_two_events_contents_names_the_first(vault: Vault, sealed: list[int]) -> None:
    first, second = sealed[2], sealed[-1]
    with vault.unit_of_work(write=False) as uow:
        kind = {e.seq: e.kind for e in uow.session.scalars(select(AccessEvent))}
    assert kind[first] != kind[second]
    tamper(
        vault,
        update(AccessEvent).where(AccessEvent.seq == first).values(kind=kind[second]),
        update(AccessEvent).where(AccessEvent.seq == second).values(kind=kind[first]),
    )
    report = verify_chain(vault)
    assert (report.ok, report.first_bad_seq, report.first_bad_position) == (False, first, 3)
    assert report.problem is not None and "was altered" in report.problem


def test_truncating_the_tail_is_detected(vault: Vault, sealed: list[int]) -> None:
    tamper(vault, delete(AccessEvent).where(AccessEvent.seq.in_(sealed[-2:])))
    report = verify_chain(vault)
    length = len(sealed)
    assert (report.ok, report.first_bad_position, report.checked) == (False, length - 1, length - 2)
    assert report.problem == (
        f"the chain head counts {length} sealed events but the chain ends at position "
        f"{length - 2}: positions {length - 1} to {length} were removed"
    )


def test_a_rewritten_head_hash_is_detected(vault: Vault, sealed: list[int]) -> None:
    tamper(vault, update(ChainHead).values(head_hash=GENESIS_HASH))
    report = verify_chain(vault)
    assert not report.ok and report.first_bad_seq == sealed[-1]
    assert report.problem is not None and "head's hash does not match" in report.problem


def test_a_rolled_back_head_is_detected(vault: Vault, sealed: list[int]) -> None:
    with vault.unit_of_work(write=False) as uow:
        hash_before = uow.session.scalar(
            select(AccessEvent.entry_hash).where(AccessEvent.seq == sealed[-3])
        )
    tamper(vault, update(ChainHead).values(length=len(sealed) - 2, head_hash=hash_before))
    report = verify_chain(vault)
    assert (report.ok, report.first_bad_seq) == (False, sealed[-2])
    assert report.first_bad_position == len(sealed) - 1
    assert report.problem is not None and "rolled back" in report.problem


def test_an_event_taken_out_of_the_chain_with_its_head_rewound_is_detected(
    vault: Vault, sealed: list[int]
) -> None:
    with vault.unit_of_work(write=False) as uow:
        hash_before = uow.session.scalar(
            select(AccessEvent.entry_hash).where(AccessEvent.seq == sealed[-2])
        )
    tamper(
        vault,
        update(AccessEvent).where(AccessEvent.seq == sealed[-1]).values(chain_position=None),
        update(ChainHead).values(length=len(sealed) - 1, head_hash=hash_before),
    )
    report = verify_chain(vault)
    assert (report.ok, report.first_bad_seq) == (False, sealed[-1])
    assert report.problem == f"event {sealed[-1]} has a hash but no chain position"


def test_a_missing_chain_head_is_detected_and_sealing_refuses_to_restart(
    vault: Vault, sealed: list[int]
) -> None:
    tamper(vault, delete(ChainHead))
    report = verify_chain(vault)
    assert (report.ok, report.first_bad_seq, report.first_bad_position) == (False, sealed[0], 1)
    assert report.problem is not None and report.problem.startswith("the chain head is missing")
    append_events(vault, 1)
    with pytest.raises(ChainHeadMissingError):
        seal_pending(vault, settle_seconds=0)


def test_a_position_without_a_hash_is_detected(vault: Vault, sealed: list[int]) -> None:
    tamper(vault, update(AccessEvent).where(AccessEvent.seq == sealed[4]).values(entry_hash=None))
    report = verify_chain(vault)
    assert (report.ok, report.first_bad_seq, report.first_bad_position) == (False, sealed[4], 5)
    assert report.problem == f"event {sealed[4]} (position 5) has a chain position but no hash"
    assert report.unsealed == 0
    assert seal_pending(vault, settle_seconds=0) == 0  # the sealer does not paper over it


def test_events_appended_after_sealing_are_unsealed_not_tampering(
    vault: Vault, sealed: list[int]
) -> None:
    fresh = append_events(vault, 3)
    report = verify_chain(vault)
    assert (report.ok, report.checked, report.unsealed) == (True, len(sealed), 3)
    assert seal_pending(vault, settle_seconds=0) == 3
    assert chain_order(vault) == sealed + fresh
    assert verify_chain(vault).unsealed == 0


def test_sealing_twice_seals_nothing_new(vault: Vault, sealed: list[int]) -> None:
    assert seal_pending(vault, settle_seconds=0) == 0
    assert chain_order(vault) == sealed and verify_chain(vault).ok


def test_events_younger_than_the_settle_time_wait_for_the_next_seal(vault: Vault) -> None:
    seqs = append_events(vault, 5)
    assert seal_pending(vault, settle_seconds=3600) == 0
    assert verify_chain(vault).unsealed == 5
    assert seal_pending(vault, settle_seconds=0, batch_size=2) == 5
    assert chain_order(vault) == seqs


def test_each_link_hashes_the_previous_link_and_the_entry(vault: Vault, sealed: list[int]) -> None:
    with vault.unit_of_work(write=False) as uow:
        events = list(uow.session.scalars(select(AccessEvent).order_by(AccessEvent.chain_position)))
        previous = GENESIS_HASH
        for event in events:
            assert event.entry_hash == link_hash(previous, event)
            previous = event.entry_hash
        assert uow.session.scalar(select(ChainHead.head_hash)) == previous


def test_concurrent_sealers_build_one_consistent_chain(vault: Vault) -> None:
    threads, rounds = 4, 8
    start = threading.Barrier(threads)
    errors: list[BaseException] = []
    counts: list[int] = []

    def worker(number: int) -> None:
        start.wait()
        try:
            for _ in range(rounds):
                # Sealing first: every thread races to create the missing chain head.
                counts.append(seal_pending(vault, settle_seconds=0, batch_size=3))
                append_events(vault, 2, kind=f"thread{number}")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    counts.append(seal_pending(vault, settle_seconds=0))
    assert errors == []
    total = threads * rounds * 2
    assert sum(counts) == total and len(chain_order(vault)) == total
    with vault.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(func.count()).select_from(ChainHead)) == 1
    report = verify_chain(vault)
    assert (report.ok, report.checked, report.unsealed) == (True, total, 0)


def test_an_event_committed_late_is_sealed_later_and_verifies(vault: Vault) -> None:
    # Reserve a lower sequence number, as a transaction still in flight would hold it.
    (late,) = append_events(vault, 1)
    early = append_events(vault, 3)
    tamper(vault, delete(AccessEvent).where(AccessEvent.seq == late))
    assert seal_pending(vault, settle_seconds=0) == 3
    with vault.unit_of_work() as uow:
        uow.session.add(
            AccessEvent(
                seq=late,
                at=uow.now() - timedelta(minutes=5),
                kind="gate.read",
                actor="business:slow",
            )
        )
        uow.commit()
    assert verify_chain(vault).unsealed == 1 and verify_chain(vault).ok
    assert seal_pending(vault) == 1  # older than the default settle time
    assert chain_order(vault) == [*early, late]
    assert verify_chain(vault).ok


def test_a_transaction_in_flight_neither_blocks_sealing_nor_is_skipped(
    vault: Vault, backend: Any
) -> None:
    if backend.name == "sqlite":
        pytest.skip("SQLite has one writer at a time, so no append is in flight while sealing")
    with vault.unit_of_work() as reader:
        in_flight = append_event(reader, LogEntry(kind="gate.read", actor="business:slow"))
        after = append_events(vault, 2)
        assert within(10, lambda: seal_pending(vault, settle_seconds=0)) == 2
        reader.commit()
    assert seal_pending(vault, settle_seconds=0) == 1
    assert in_flight < after[0] and chain_order(vault) == [*after, in_flight]
    assert verify_chain(vault).ok


def test_appending_does_not_wait_for_a_sealer_holding_the_head(vault: Vault, backend: Any) -> None:
    if backend.name == "sqlite":
        pytest.skip("SQLite has one writer at a time by design")
    sealed_first = append_events(vault, 3)
    with vault.unit_of_work() as sealer:
        assert seal_batch(sealer, settle_seconds=0, batch_size=100) == 3
        appended = within(10, lambda: append_events(vault, 1))
        sealer.commit()
    assert seal_pending(vault, settle_seconds=0) == 1
    assert chain_order(vault) == sealed_first + appended


def run_audit(settings: Settings, *args: str) -> Any:
    return CliRunner().invoke(audit, list(args), obj=settings, catch_exceptions=False)


def test_cli_seals_and_verifies_an_intact_log_with_exit_0(vault: Vault, settings: Settings) -> None:
    append_events(vault, 4)
    sealed = run_audit(settings, "seal", "--settle-seconds", "0", "--json")
    assert sealed.exit_code == 0, sealed.output
    assert json.loads(sealed.stdout) == {"sealed": 4}
    result = run_audit(settings, "verify", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["ok"], report["checked"], report["unsealed"]) == (True, 4, 0)
    assert "intact" in run_audit(settings, "verify").stdout


def test_cli_verify_exits_1_and_names_the_altered_event(
    vault: Vault, sealed: list[int], settings: Settings
) -> None:
    tamper(vault, update(AccessEvent).where(AccessEvent.seq == sealed[1]).values(actor="x"))
    result = run_audit(settings, "verify", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["ok"], report["first_bad_seq"], report["first_bad_position"]) == (
        False,
        sealed[1],
        2,
    )
    plain = run_audit(settings, "verify")
    assert plain.exit_code == 1
    assert f"event {sealed[1]} (position 2) was altered" in plain.stderr


def test_altering_the_last_sealed_event_names_it_as_altered(
    vault: Vault, sealed: list[int]
) -> None:
    tamper(vault, update(AccessEvent).where(AccessEvent.seq == sealed[-1]).values(detail="x"))
    report = verify_chain(vault)
    assert (report.ok, report.first_bad_seq, report.first_bad_position) == (
        False,
        sealed[-1],
        len(sealed),
    )
    assert report.problem == (
        f"event {sealed[-1]} (position {len(sealed)}) was altered: "
        "its hash does not match its contents"
    )
