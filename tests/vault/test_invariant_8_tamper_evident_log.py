"""Invariant 8: the access log is an RFC 9162 Merkle tree with signed checkpoints; verification
finds any altered, removed or reordered event and any forged checkpoint, and names the first;
sealing never makes the read path wait, and concurrent sealers never fork the tree."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Executable, delete, func, select, text, update

from emanet.cli_audit import audit
from emanet.settings import Settings
from tests.conftest import make_customer
from tests.factories import make_business
from vault.access_log.checkpoints import checkpoint_note, public_keys
from vault.access_log.leaves import (
    ENTRY_COLUMNS,
    ENTRY_SELECT,
    LEAF_INDEX_KEY,
    RAW_SELECT,
    entry_bytes,
)
from vault.access_log.models import AccessCheckpoint, AccessEvent, AccessTreeNode, TreeHead
from vault.access_log.sealer import TreeHeadMissingError, seal_batch, seal_pending
from vault.access_log.services import LogEntry, append_event
from vault.access_log.verify import VerifyReport, verify_log
from vault.unit_of_work import Vault

T = TypeVar("T")
LEAF_COLUMNS = {"chain_position", "entry_hash"}
EVERY = 4  # a checkpoint every four leaves in these tests
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


def seal(vault: Vault, **options: Any) -> int:
    """Seal everything now, with a checkpoint every EVERY leaves and one over the tail."""
    options = {"settle_seconds": 0, "checkpoint_every": EVERY, "checkpoint_seconds": 0, **options}
    return seal_pending(vault, **options)


def leaf_order(vault: Vault) -> list[int]:
    """Return the sequence numbers of sealed events, by leaf index."""
    with vault.unit_of_work(write=False) as uow:
        query = select(AccessEvent.seq, AccessEvent.chain_position).where(
            AccessEvent.chain_position.is_not(None)
        )
        rows = uow.session.execute(query.order_by(AccessEvent.chain_position)).all()
    assert [r.chain_position for r in rows] == list(range(len(rows)))
    return [r.seq for r in rows]


def checkpoint_sizes(vault: Vault) -> list[int]:
    with vault.unit_of_work(write=False) as uow:
        query = select(AccessCheckpoint.tree_size).order_by(AccessCheckpoint.tree_size)
        return list(uow.session.scalars(query))


def tamper(vault: Vault, *statements: Executable) -> None:
    """Change the tables behind the services' backs, as someone with database access could."""
    with vault.unit_of_work() as uow:
        for statement in statements:
            uow.session.execute(statement)
        uow.commit()


def rewrite_leaf_hash(vault: Vault, seq: int) -> None:
    """Recompute an event's leaf hash from its (changed) contents, as a careful forger would."""
    with vault.unit_of_work() as uow:
        event = uow.session.get(AccessEvent, seq)
        assert event is not None and event.chain_position is not None
        entry = entry_bytes(event, event.chain_position)
        event.entry_hash = hashlib.sha256(b"\x00" + entry).digest()
        uow.commit()


def within(seconds: float, work: Callable[[], T]) -> T:
    """Run work on another thread and fail if it has to wait longer than `seconds`."""
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(work).result(timeout=seconds)
    finally:
        pool.shutdown(wait=False)


def failed(report: VerifyReport) -> tuple[Any, ...]:
    return (report.ok, report.first_bad_seq, report.first_bad_leaf, report.first_bad_checkpoint)


def rfc_root(leaves: list[bytes]) -> bytes:
    """MTH of RFC 9162 §2.1.1, over leaf hashes, written from the RFC."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + rfc_root(leaves[:k]) + rfc_root(leaves[k:])).digest()


@pytest.fixture
def sealed(vault: Vault) -> list[int]:
    """A log written by real use cases and by the gate's service, sealed under checkpoints
    every four leaves and one over the tail; seqs by leaf index (at least 17 leaves)."""
    make_customer(vault)
    make_business(vault)
    make_customer(vault)
    append_events(vault, 14)
    assert seal(vault) >= 17
    order = leaf_order(vault)
    expected = [*range(EVERY, len(order), EVERY), len(order)]
    assert checkpoint_sizes(vault) == sorted(set(expected))
    return order


def test_the_leaf_encoding_covers_every_column_and_the_leaf_index(sealed: list[int]) -> None:
    columns = {c.name for c in AccessEvent.__table__.columns} - LEAF_COLUMNS
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
    decoded = json.loads(entry_bytes(event, 41))
    assert set(decoded) == columns | {LEAF_INDEX_KEY} and decoded[LEAF_INDEX_KEY] == 41
    assert decoded["at"] == "2024-05-01T16:00:00.000000Z"
    assert decoded["customer_id"] == str(uuid.UUID(int=9)) and decoded["seq"] == 7
    assert entry_bytes(event, 41) == entry_bytes(event, 41) != entry_bytes(event, 42)


def test_the_leaf_bytes_are_canonical_json_however_the_event_is_read(vault: Vault) -> None:
    awkward = [
        LogEntry(kind="gate.read", actor="business:x"),  # every optional column empty
        LogEntry(
            kind="profile.read",
            actor='client:"quoted" \\ back\nslash',
            customer_id=uuid.uuid4(),
            business_id=uuid.uuid4(),
            agreement_id=uuid.uuid4(),
            purpose="CustomerCare",
            fields=[],
            detail="Ağ şəhər — İstanbul\u2028 \x1f \U0001f600",
        ),
        LogEntry(kind="interaction.append", actor="customer", fields=["b", "a", "ç"]),
    ]
    with vault.unit_of_work() as uow:
        seqs = [append_event(uow, entry) for entry in awkward]
        uow.commit()
    with vault.unit_of_work(write=False) as uow:
        where = AccessEvent.seq.in_(seqs)
        order = AccessEvent.seq
        mapped = list(uow.session.scalars(select(AccessEvent).where(where).order_by(order)))
        typed = uow.session.execute(select(*ENTRY_SELECT).where(where).order_by(order)).all()
        raw = uow.session.execute(select(*RAW_SELECT).where(where).order_by(order)).all()
    for index, (event, row, raw_row) in enumerate(zip(mapped, typed, raw, strict=True)):
        record = {name: getattr(event, name) for name in ENTRY_COLUMNS}
        record["at"] = event.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        for name in ("customer_id", "business_id", "agreement_id"):
            record[name] = str(record[name]) if record[name] is not None else None
        record[LEAF_INDEX_KEY] = index
        canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        expected = canonical.encode("utf-8")
        assert entry_bytes(event, index) == entry_bytes(row, index) == expected
        assert entry_bytes(raw_row, index) == expected


def test_an_intact_log_verifies_and_every_event_is_a_leaf_in_sequence_order(
    vault: Vault, sealed: list[int]
) -> None:
    assert sealed == sorted(sealed)
    with vault.unit_of_work(write=False) as uow:
        kinds = list(uow.session.scalars(select(AccessEvent.kind).order_by(AccessEvent.seq)))
        head = uow.session.get(TreeHead, 1)
        assert head is not None and head.size == len(sealed)
    assert kinds.count("customer.created") == 2 and "business.created" in kinds
    report = verify_log(vault)
    checkpoints = checkpoint_sizes(vault)
    assert (report.ok, report.checked, report.unsealed, report.problem) == (
        True,
        len(sealed),
        0,
        None,
    )
    assert (report.checkpoints, report.latest_checkpoint, report.unsigned) == (
        len(checkpoints),
        len(sealed),
        0,
    )
    assert report.root_hash == base64.b64encode(head.root_hash).decode()


def test_leaves_head_and_checkpoints_hold_the_rfc_9162_hashes(
    vault: Vault, sealed: list[int]
) -> None:
    with vault.unit_of_work(write=False) as uow:
        events = list(uow.session.scalars(select(AccessEvent).order_by(AccessEvent.chain_position)))
        leaves = []
        for event in events:
            assert event.chain_position is not None  # every event is sealed
            leaf = b"\x00" + entry_bytes(event, event.chain_position)
            leaves.append(hashlib.sha256(leaf).digest())
        assert [e.entry_hash for e in events] == leaves
        head = uow.session.get(TreeHead, 1)
        assert head is not None and head.root_hash == rfc_root(leaves)
        checkpoints = list(uow.session.scalars(select(AccessCheckpoint)))
        keys = public_keys(vault.provider.public_jwks())
        for checkpoint in checkpoints:
            assert checkpoint.root_hash == rfc_root(leaves[: checkpoint.tree_size])
            note = checkpoint_note(checkpoint.tree_size, checkpoint.root_hash, checkpoint.signed_at)
            root = base64.b64encode(checkpoint.root_hash).decode()
            when = checkpoint.signed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
            assert note == f"emanet-access-log\n{checkpoint.tree_size}\n{root}\n{when}\n".encode()
            keys[checkpoint.kid].verify(checkpoint.signature, note)  # raises if it does not hold
        # The kept subtree of the first sixteen leaves is their RFC hash.
        node = uow.session.get(AccessTreeNode, (4, 0))
        assert node is not None and node.hash == rfc_root(leaves[:16])


@pytest.mark.parametrize("column", sorted(ALTERATIONS))
def test_altering_any_column_of_an_event_names_that_event(
    vault: Vault, sealed: list[int], column: str
) -> None:
    target = sealed[2]
    value = target + 1_000_000 if column == "seq" else ALTERATIONS[column]
    tamper(vault, update(AccessEvent).where(AccessEvent.seq == target).values({column: value}))
    report = verify_log(vault)
    named = value if column == "seq" else target
    assert failed(report) == (False, named, 2, None)
    assert report.checked == 2
    assert report.problem == (
        f"event {named} (leaf 2) does not match its leaf hash: it was altered, or moved from "
        "another place in the log"
    )


def test_contents_no_event_could_hold_are_named_as_altered(
    vault: Vault, sealed: list[int], backend: Any
) -> None:
    if backend.name != "sqlite":
        pytest.skip("PostgreSQL's column types refuse such values")
    tamper(
        vault,
        text(
            "UPDATE access_events SET at = 'not a time', kind = x'00ff' WHERE seq = :seq"
        ).bindparams(seq=sealed[3]),
    )
    assert failed(verify_log(vault)) == (False, sealed[3], 3, None)


def test_removing_an_event_names_the_missing_leaf(vault: Vault, sealed: list[int]) -> None:
    tamper(vault, delete(AccessEvent).where(AccessEvent.seq == sealed[5]))
    report = verify_log(vault)
    assert failed(report) == (False, None, 5, None)
    assert report.checked == 5
    assert report.problem == (
        f"leaf 5 is missing: the log jumps from event {sealed[4]} (leaf 4) to event "
        f"{sealed[6]} (leaf 6); an event was removed"
    )


@pytest.mark.parametrize("batch_size", [1, 2, 3, 7])
def test_removal_is_found_across_verification_batches(
    vault: Vault, sealed: list[int], batch_size: int
) -> None:
    tamper(vault, delete(AccessEvent).where(AccessEvent.seq == sealed[0]))
    report = verify_log(vault, batch_size=batch_size)
    assert report.first_bad_leaf == 0
    assert report.problem is not None
    assert report.problem.startswith("leaf 0 is missing: the log jumps from the start")


def test_swapping_two_events_places_names_the_first(vault: Vault, sealed: list[int]) -> None:
    first, second = sealed[1], sealed[6]
    tamper(
        vault,
        update(AccessEvent).where(AccessEvent.seq == first).values(chain_position=-1),
        update(AccessEvent).where(AccessEvent.seq == second).values(chain_position=1),
        update(AccessEvent).where(AccessEvent.seq == first).values(chain_position=6),
    )
    report = verify_log(vault)
    assert failed(report) == (False, second, 1, None)
    assert report.problem is not None and "moved from another place" in report.problem


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
    assert failed(verify_log(vault)) == (False, first, 2, None)


def test_an_event_altered_with_its_leaf_hash_rewritten_fails_its_checkpoint(
    vault: Vault, sealed: list[int]
) -> None:
    target = sealed[5]  # leaf 5, under checkpoint 8 (checkpoint 4 still holds)
    tamper(vault, update(AccessEvent).where(AccessEvent.seq == target).values(actor="nobody"))
    rewrite_leaf_hash(vault, target)
    report = verify_log(vault)
    assert failed(report) == (False, None, None, 8)
    assert (report.checked, report.checkpoints) == (8, 1)
    assert report.problem == (
        "checkpoint 8 does not match the tree rebuilt from the events: one of leaves 4 to 7 "
        "was altered and its leaf hash rewritten, or events were reordered"
    )


def test_events_swapped_with_their_leaf_hashes_rewritten_fail_the_checkpoint(
    vault: Vault, sealed: list[int]
) -> None:
    first, second = sealed[9], sealed[10]
    tamper(
        vault,
        update(AccessEvent).where(AccessEvent.seq == first).values(chain_position=-1),
        update(AccessEvent).where(AccessEvent.seq == second).values(chain_position=9),
        update(AccessEvent).where(AccessEvent.seq == first).values(chain_position=10),
    )
    rewrite_leaf_hash(vault, first)
    rewrite_leaf_hash(vault, second)
    report = verify_log(vault)
    assert failed(report) == (False, None, None, 12)
    assert report.problem is not None and "one of leaves 8 to 11" in report.problem


def test_truncating_the_tail_names_the_checkpoint_that_covered_it(
    vault: Vault, sealed: list[int]
) -> None:
    tamper(vault, delete(AccessEvent).where(AccessEvent.seq.in_(sealed[-2:])))
    report = verify_log(vault)
    length = len(sealed)
    assert failed(report) == (False, None, length - 2, length)
    assert report.checked == length - 2
    assert report.problem == (
        f"checkpoint {length} covers leaves 0 to {length - 1} but the log ends at leaf "
        f"{length - 3}: leaves {length - 2} to {length - 1} were removed"
    )


def test_truncating_a_tail_no_checkpoint_covers_yet_is_found_by_the_head(vault: Vault) -> None:
    append_events(vault, 6)
    seal(vault, checkpoint_every=1000, checkpoint_seconds=3600)  # one checkpoint, at 6
    append_events(vault, 3)
    seal(vault, checkpoint_every=1000, checkpoint_seconds=3600)
    assert checkpoint_sizes(vault) == [6] and verify_log(vault).unsigned == 3
    order = leaf_order(vault)
    tamper(vault, delete(AccessEvent).where(AccessEvent.seq == order[-1]))
    report = verify_log(vault)
    assert failed(report) == (False, None, 8, None)
    assert report.problem == (
        "the tree head counts 9 leaves but the log ends at leaf 7: leaves 8 to 8 were removed"
    )


def test_a_checkpoint_with_a_bad_signature_is_named(vault: Vault, sealed: list[int]) -> None:
    with vault.unit_of_work(write=False) as uow:
        checkpoint = uow.session.get(AccessCheckpoint, 8)
        assert checkpoint is not None
        signature = checkpoint.signature
    bent = bytes([signature[0] ^ 1]) + signature[1:]
    tamper(
        vault,
        update(AccessCheckpoint).where(AccessCheckpoint.tree_size == 8).values(signature=bent),
    )
    report = verify_log(vault)
    assert failed(report) == (False, None, None, 8)
    assert report.problem is not None
    assert report.problem.startswith("checkpoint 8 is forged: its signature does not verify")


@pytest.mark.parametrize("change", ["root", "size", "time"])
def test_a_checkpoint_with_a_changed_root_size_or_time_is_named(
    vault: Vault, sealed: list[int], change: str
) -> None:
    with vault.unit_of_work(write=False) as uow:
        other = uow.session.get(AccessCheckpoint, 4)
        assert other is not None
        values: dict[str, Any] = {
            "root": {"root_hash": other.root_hash},
            "size": {"tree_size": 9},
            "time": {"signed_at": other.signed_at + timedelta(days=1)},
        }[change]
    tamper(vault, update(AccessCheckpoint).where(AccessCheckpoint.tree_size == 8).values(values))
    report = verify_log(vault)
    bad = 9 if change == "size" else 8
    assert failed(report) == (False, None, None, bad)
    assert report.problem is not None and report.problem.startswith(f"checkpoint {bad} is forged")


def test_a_checkpoint_signed_with_another_key_is_named(vault: Vault, sealed: list[int]) -> None:
    kid, _ = vault.provider.signing_key()
    with vault.unit_of_work(write=False) as uow:
        head = uow.session.get(TreeHead, 1)
        assert head is not None
        root, when = head.root_hash, datetime(2030, 1, 1, tzinfo=UTC)
    # The forger signs the real tree with a key of their own, under the published key id.
    forged_key = Ed25519PrivateKey.generate()
    size = len(sealed)
    tamper(
        vault,
        update(AccessCheckpoint)
        .where(AccessCheckpoint.tree_size == size)
        .values(signed_at=when, signature=forged_key.sign(checkpoint_note(size, root, when))),
    )
    assert failed(verify_log(vault)) == (False, None, None, size)
    tamper(vault, update(AccessCheckpoint).values(kid="sig-forged"))
    report = verify_log(vault)
    assert failed(report) == (False, None, None, EVERY)
    assert report.problem == (
        f"checkpoint {EVERY} is forged: it names signing key 'sig-forged', which the JWKS "
        "does not publish"
    )
    assert kid != "sig-forged"


def test_checkpoints_signed_before_a_key_rotation_still_verify(
    vault: Vault, sealed: list[int]
) -> None:
    old_kid, _ = vault.provider.signing_key()
    new_kid = vault.provider.rotate_signing_key()
    append_events(vault, 3)
    seal(vault)
    with vault.unit_of_work(write=False) as uow:
        rows = uow.session.execute(select(AccessCheckpoint.tree_size, AccessCheckpoint.kid))
        kids = {size: kid for size, kid in rows}
    assert kids[len(sealed)] == old_kid and kids[len(sealed) + 3] == new_kid
    assert verify_log(vault).ok


def test_a_changed_kept_subtree_hash_is_named(vault: Vault, sealed: list[int]) -> None:
    tamper(vault, update(AccessTreeNode).values(hash=bytes(32)))
    report = verify_log(vault)
    assert (report.ok, report.first_bad_checkpoint) == (False, None)
    assert report.problem == "the kept hash of leaves 0 to 15 (level 4) does not match them"


def test_a_removed_kept_subtree_hash_is_named(vault: Vault, sealed: list[int]) -> None:
    tamper(vault, delete(AccessTreeNode))
    report = verify_log(vault)
    assert report.problem == "the kept hash of leaves 0 to 15 (level 4) is missing"


def test_a_rewritten_head_root_is_detected(vault: Vault, sealed: list[int]) -> None:
    tamper(vault, update(TreeHead).values(root_hash=bytes(32)))
    report = verify_log(vault)
    assert report.ok is False
    assert report.problem == "the tree head's root does not match the tree rebuilt from the events"


def test_a_rolled_back_head_is_detected(vault: Vault, sealed: list[int]) -> None:
    tamper(vault, update(TreeHead).values(size=len(sealed) - 1))
    report = verify_log(vault)
    assert failed(report) == (False, sealed[-1], len(sealed) - 1, None)
    assert report.problem is not None and "rolled back" in report.problem


def test_an_event_taken_out_of_the_tree_is_detected(vault: Vault, sealed: list[int]) -> None:
    tamper(
        vault,
        update(AccessEvent).where(AccessEvent.seq == sealed[-1]).values(chain_position=None),
    )
    report = verify_log(vault)
    # The last checkpoint still counts it.
    assert failed(report) == (False, None, len(sealed) - 1, len(sealed))


def test_a_missing_tree_head_is_detected_and_sealing_refuses_to_restart(
    vault: Vault, sealed: list[int]
) -> None:
    tamper(vault, delete(TreeHead))
    report = verify_log(vault)
    assert failed(report) == (False, sealed[0], 0, None)
    assert report.problem is not None and report.problem.startswith("the tree head is missing")
    append_events(vault, 1)
    with pytest.raises(TreeHeadMissingError):
        seal(vault)


def test_a_leaf_index_without_a_hash_is_detected(vault: Vault, sealed: list[int]) -> None:
    tamper(vault, update(AccessEvent).where(AccessEvent.seq == sealed[4]).values(entry_hash=None))
    report = verify_log(vault)
    assert failed(report) == (False, sealed[4], 4, None)
    assert report.problem == f"event {sealed[4]} (leaf 4) has a leaf index but no leaf hash"
    assert report.unsealed == 0
    assert seal(vault) == 0  # the sealer does not paper over it


def test_a_leaf_hash_without_an_index_is_detected(vault: Vault) -> None:
    append_events(vault, 3)
    seal(vault)
    order = leaf_order(vault)
    tamper(
        vault,
        update(AccessEvent).where(AccessEvent.seq == order[-1]).values(chain_position=None),
        delete(AccessCheckpoint).where(AccessCheckpoint.tree_size == 3),
        update(TreeHead).values(size=0, root_hash=hashlib.sha256().digest(), frontier=b""),
    )
    tamper(vault, delete(AccessEvent).where(AccessEvent.seq.in_(order[:-1])))
    report = verify_log(vault)
    assert failed(report) == (False, order[-1], None, None)
    assert report.problem == f"event {order[-1]} has a leaf hash but no leaf index"


def test_events_appended_after_sealing_are_unsealed_not_tampering(
    vault: Vault, sealed: list[int]
) -> None:
    fresh = append_events(vault, 3)
    report = verify_log(vault)
    assert (report.ok, report.checked, report.unsealed) == (True, len(sealed), 3)
    assert seal(vault) == 3
    assert leaf_order(vault) == sealed + fresh
    assert verify_log(vault).unsealed == 0


def test_sealing_twice_seals_and_signs_nothing_new(vault: Vault, sealed: list[int]) -> None:
    before = checkpoint_sizes(vault)
    assert seal(vault) == 0
    assert leaf_order(vault) == sealed and checkpoint_sizes(vault) == before
    assert verify_log(vault).ok


def test_events_younger_than_the_settle_time_wait_for_the_next_seal(vault: Vault) -> None:
    seqs = append_events(vault, 5)
    assert seal(vault, settle_seconds=3600) == 0
    assert verify_log(vault).unsealed == 5 and checkpoint_sizes(vault) == []
    assert seal(vault, batch_size=2) == 5
    assert leaf_order(vault) == seqs


def test_checkpoints_fall_every_n_leaves_or_after_t_seconds(vault: Vault) -> None:
    start = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    now = [start]
    vault.clock = lambda: now[0]
    append_events(vault, 10)
    assert seal_pending(vault, settle_seconds=0, checkpoint_every=4, checkpoint_seconds=60) == 10
    # The first checkpoint is signed at once; then one every four leaves; the tail waits.
    assert checkpoint_sizes(vault) == [4, 8]
    assert verify_log(vault).unsigned == 2
    now[0] = start + timedelta(seconds=59)
    seal_pending(vault, settle_seconds=0, checkpoint_every=4, checkpoint_seconds=60)
    assert checkpoint_sizes(vault) == [4, 8]
    now[0] = start + timedelta(seconds=60)
    assert seal_pending(vault, settle_seconds=0, checkpoint_every=4, checkpoint_seconds=60) == 0
    assert checkpoint_sizes(vault) == [4, 8, 10]
    with vault.unit_of_work(write=False) as uow:
        latest = uow.session.get(AccessCheckpoint, 10)
        assert latest is not None and latest.signed_at == start + timedelta(seconds=60)
    report = verify_log(vault)
    assert (report.ok, report.checkpoints, report.unsigned) == (True, 3, 0)


def test_verification_streams_in_pages_and_reports_progress(vault: Vault) -> None:
    append_events(vault, 150)
    seal(vault, checkpoint_every=16, batch_size=64)
    seen: list[tuple[int, int]] = []
    report = verify_log(
        vault, batch_size=7, progress=lambda done, total: seen.append((done, total))
    )
    assert (report.ok, report.checked, report.checkpoints) == (True, 150, 10)
    assert seen[-1] == (150, 150) and len(seen) == 22
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_concurrent_sealers_build_one_tree(vault: Vault) -> None:
    threads, rounds = 4, 8
    start = threading.Barrier(threads)
    errors: list[BaseException] = []
    counts: list[int] = []

    def worker(number: int) -> None:
        start.wait()
        try:
            for _ in range(rounds):
                # Sealing first: every thread races to create the missing tree head.
                counts.append(seal(vault, batch_size=3))
                append_events(vault, 2, kind=f"thread{number}")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    counts.append(seal(vault))
    assert errors == []
    total = threads * rounds * 2
    assert sum(counts) == total and len(leaf_order(vault)) == total
    with vault.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(func.count()).select_from(TreeHead)) == 1
    report = verify_log(vault)
    assert (report.ok, report.checked, report.unsealed, report.unsigned) == (True, total, 0, 0)


def test_an_event_committed_late_is_sealed_later_and_verifies(vault: Vault) -> None:
    # Reserve a lower sequence number, as a transaction still in flight would hold it.
    (late,) = append_events(vault, 1)
    early = append_events(vault, 3)
    tamper(vault, delete(AccessEvent).where(AccessEvent.seq == late))
    assert seal(vault) == 3
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
    assert verify_log(vault).unsealed == 1 and verify_log(vault).ok
    assert seal_pending(vault, checkpoint_seconds=0) == 1  # older than the default settle time
    assert leaf_order(vault) == [*early, late]
    assert verify_log(vault).ok


def test_a_transaction_in_flight_neither_blocks_sealing_nor_is_skipped(
    vault: Vault, backend: Any
) -> None:
    if backend.name == "sqlite":
        pytest.skip("SQLite has one writer at a time, so no append is in flight while sealing")
    with vault.unit_of_work() as reader:
        in_flight = append_event(reader, LogEntry(kind="gate.read", actor="business:slow"))
        after = append_events(vault, 2)
        assert within(10, lambda: seal(vault)) == 2
        reader.commit()
    assert seal(vault) == 1
    assert in_flight < after[0] and leaf_order(vault) == [*after, in_flight]
    assert verify_log(vault).ok


def test_appending_does_not_wait_for_a_sealer_holding_the_head(vault: Vault, backend: Any) -> None:
    if backend.name == "sqlite":
        pytest.skip("SQLite has one writer at a time by design")
    sealed_first = append_events(vault, 3)
    with vault.unit_of_work() as sealer:
        assert seal_batch(sealer, settle_seconds=0, batch_size=100) == 3
        appended = within(10, lambda: append_events(vault, 1))
        sealer.commit()
    assert seal(vault) == 1
    assert leaf_order(vault) == sealed_first + appended


def run_audit(settings: Settings, *args: str) -> Any:
    return CliRunner().invoke(audit, list(args), obj=settings, catch_exceptions=False)


def test_cli_seals_and_verifies_an_intact_log_with_exit_0(vault: Vault, settings: Settings) -> None:
    append_events(vault, 4)
    sealed = run_audit(settings, "seal", "--settle-seconds", "0", "--json")
    assert sealed.exit_code == 0, sealed.output
    answer = json.loads(sealed.stdout)
    assert answer["sealed"] == 4 and answer["checkpoint"]["tree_size"] == 4
    assert answer["checkpoint"]["note"].startswith("emanet-access-log\n4\n")
    result = run_audit(settings, "verify", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["ok"], report["checked"], report["unsealed"], report["checkpoints"]) == (
        True,
        4,
        0,
        1,
    )
    assert "intact" in run_audit(settings, "verify").stdout


def test_cli_verify_exits_1_and_names_the_altered_event(
    vault: Vault, sealed: list[int], settings: Settings
) -> None:
    tamper(vault, update(AccessEvent).where(AccessEvent.seq == sealed[1]).values(actor="x"))
    result = run_audit(settings, "verify", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["ok"], report["first_bad_seq"], report["first_bad_leaf"]) == (
        False,
        sealed[1],
        1,
    )
    plain = run_audit(settings, "verify")
    assert plain.exit_code == 1
    assert f"event {sealed[1]} (leaf 1) does not match its leaf hash" in plain.stderr


def test_cli_verify_exits_1_and_names_a_forged_checkpoint(
    vault: Vault, sealed: list[int], settings: Settings
) -> None:
    tamper(
        vault, update(AccessCheckpoint).where(AccessCheckpoint.tree_size == 4).values(tree_size=5)
    )
    result = run_audit(settings, "verify", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["first_bad_checkpoint"] == 5
    assert "checkpoint 5 is forged" in run_audit(settings, "verify").stderr


def test_cli_prints_an_inclusion_proof(vault: Vault, sealed: list[int], settings: Settings) -> None:
    result = run_audit(settings, "proof", str(sealed[3]))
    assert result.exit_code == 0, result.output
    bundle = json.loads(result.stdout)
    assert (bundle["seq"], bundle["leaf_index"], bundle["tree_size"]) == (
        sealed[3],
        3,
        len(sealed),
    )
    missing = run_audit(settings, "proof", str(max(sealed) + 100))
    assert missing.exit_code == 1 and "has no proof yet" in missing.stderr


def test_altering_the_last_sealed_event_names_it(vault: Vault, sealed: list[int]) -> None:
    tamper(vault, update(AccessEvent).where(AccessEvent.seq == sealed[-1]).values(detail="x"))
    report = verify_log(vault)
    assert failed(report) == (False, sealed[-1], len(sealed) - 1, None)
