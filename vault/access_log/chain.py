"""Seal the access log into a hash chain and verify it (DESIGN.md invariant 8).

Readers append events without touching the chain ("The audit log on the hot path"); the
sealer links settled events shortly after, in sequence order, and the verifier walks the
links again. Each link is SHA-256(previous link || entry_bytes(event)), starting from 32 zero
bytes. A later version replaces the chain with an RFC 9162 Merkle tree over the same leaves.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vault.access_log.models import AccessEvent, ChainHead
from vault.unit_of_work import UnitOfWork, Vault

HEAD_ID = 1
GENESIS_HASH = bytes(32)
# Listed rather than read from the table: a new column must not silently change the bytes of
# events sealed before it existed. A test checks this list against the table.
ENTRY_COLUMNS = (
    "seq",
    "at",
    "kind",
    "outcome",
    "actor",
    "customer_id",
    "business_id",
    "agreement_id",
    "purpose",
    "fields",
    "detail",
)
_SEALED_COLUMNS = [getattr(AccessEvent, name) for name in ENTRY_COLUMNS] + [
    AccessEvent.chain_position,
    AccessEvent.entry_hash,
]
_UNSEALED = (AccessEvent.entry_hash.is_(None), AccessEvent.chain_position.is_(None))


class ChainHeadMissingError(RuntimeError):
    """Sealed events exist but the chain head does not, so the chain cannot be extended."""


@dataclass(frozen=True)
class VerifyReport:
    """What verification found: the first problem, if any, and how much it covered."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    first_bad_position: int | None = None
    problem: str | None = None
    unsealed: int = 0


def entry_bytes(event: AccessEvent | Row[Any]) -> bytes:
    """Encode an event's contents canonically: the leaf its chain link hashes."""
    record: dict[str, Any] = {}
    for name in ENTRY_COLUMNS:
        value = getattr(event, name)
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValueError(f"event {event.seq} has a naive time; the log keeps UTC")
            value = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        elif isinstance(value, uuid.UUID):
            value = str(value)
        record[name] = value
    encoded = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return encoded.encode("utf-8")


def link_hash(previous: bytes, event: AccessEvent | Row[Any]) -> bytes:
    """Return the chain link of an event that follows the link `previous`."""
    return hashlib.sha256(previous + entry_bytes(event)).digest()


def lock_head(uow: UnitOfWork) -> ChainHead:
    """Lock the chain head for this transaction, creating it on the very first seal."""
    session = uow.session
    query = select(ChainHead).where(ChainHead.id == HEAD_ID).with_for_update()
    head = session.scalar(query)
    if head is not None:
        return head
    sealed = session.scalar(select(func.count()).where(AccessEvent.chain_position.is_not(None)))
    if sealed:
        # Starting again from zero would hide whatever removed the head.
        raise ChainHeadMissingError(
            f"The chain head is missing but {sealed} events are sealed; "
            "run `emanet audit verify` and restore the head from a backup."
        )
    try:
        with session.begin_nested():
            session.add(
                ChainHead(id=HEAD_ID, length=0, head_hash=GENESIS_HASH, sealed_at=uow.now())
            )
    except IntegrityError:
        pass  # another sealer created it first; the locking read below waits for it
    head = session.scalar(query)
    if head is None:
        raise ChainHeadMissingError("The chain head could not be created.")
    return head


def seal_batch(uow: UnitOfWork, *, settle_seconds: float, batch_size: int) -> int:
    """Chain up to `batch_size` settled unsealed events in this unit of work (no commit)."""
    head = lock_head(uow)
    # Events younger than the settle time may still have lower-numbered neighbours in flight;
    # waiting a little keeps the chain close to sequence order. A later commit simply gets a
    # later position.
    cutoff = uow.now() - timedelta(seconds=settle_seconds)
    events = uow.session.scalars(
        select(AccessEvent)
        .where(*_UNSEALED, AccessEvent.at <= cutoff)
        .order_by(AccessEvent.seq)
        .limit(batch_size)
    ).all()
    previous, length = head.head_hash, head.length
    for event in events:
        length += 1
        previous = link_hash(previous, event)
        event.chain_position, event.entry_hash = length, previous
    if events:
        head.length, head.head_hash, head.sealed_at = length, previous, uow.now()
    uow.session.flush()
    return len(events)


def seal_pending(vault: Vault, *, settle_seconds: float = 2.0, batch_size: int = 1000) -> int:
    """Chain every settled unsealed event, one transaction per batch; return how many."""
    total = 0
    while True:
        # Only the head row is locked (plus the rows being sealed): appends never wait for it.
        with vault.unit_of_work() as uow:
            sealed = seal_batch(uow, settle_seconds=settle_seconds, batch_size=batch_size)
            uow.commit()
        total += sealed
        if sealed < batch_size:
            return total


def verify_chain(vault: Vault, *, batch_size: int = 1000) -> VerifyReport:
    """Walk every sealed event by chain position and report the first broken link."""
    with vault.unit_of_work(write=False) as uow:
        session = uow.session
        if session.get_bind().dialect.name == "postgresql":
            # One snapshot for every batch: a sealer committing midway must not look like
            # tampering. A SQLite read transaction is one snapshot already.
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return _verify(session, batch_size)


def _verify(session: Session, batch_size: int) -> VerifyReport:
    head = session.execute(
        select(ChainHead.length, ChainHead.head_hash).where(ChainHead.id == HEAD_ID)
    ).first()
    unsealed = session.scalar(select(func.count()).where(*_UNSEALED)) or 0

    def bad(problem: str, seq: int | None, position: int | None) -> VerifyReport:
        return VerifyReport(False, checked, seq, position, problem, unsealed)

    previous, checked = GENESIS_HASH, 0
    last: Row[Any] | None = None
    for row in _sealed_rows(session, batch_size):
        position, where = row.chain_position, f"event {row.seq} (position {row.chain_position})"
        if head is None:
            return bad(f"the chain head is missing but {where} is sealed", row.seq, position)
        if position < checked + 1:
            return bad(f"{where} lies outside the chain", row.seq, position)
        if position > checked + 1:
            before = f"event {last.seq}" if last is not None else "the start"
            return bad(
                f"position {checked + 1} is missing: the chain jumps from {before} to {where}; "
                "an event was removed",
                None,
                checked + 1,
            )
        if row.entry_hash is None:
            return bad(f"{where} has a chain position but no hash", row.seq, position)
        if link_hash(previous, row) != row.entry_hash:
            return bad(_broken_link(session, row, head.head_hash), row.seq, position)
        previous, checked, last = row.entry_hash, checked + 1, row
    if head is not None and head.length != checked:
        return _head_mismatch(session, head.length, checked, unsealed)
    if head is not None and head.head_hash != previous:
        if last is None:
            return bad("the chain head's hash does not match an empty chain", None, None)
        end = f"event {last.seq} (position {checked})"
        return bad(f"the chain head's hash does not match its last event, {end}", last.seq, checked)
    orphan = session.scalar(
        select(func.min(AccessEvent.seq)).where(
            AccessEvent.entry_hash.is_not(None), AccessEvent.chain_position.is_(None)
        )
    )
    if orphan is not None:
        return bad(f"event {orphan} has a hash but no chain position", orphan, None)
    return VerifyReport(True, checked, unsealed=unsealed)


def _sealed_rows(session: Session, batch_size: int) -> Iterator[Row[Any]]:
    """Yield sealed events by chain position, one keyset page at a time."""
    after: int | None = None
    while True:
        query = select(*_SEALED_COLUMNS).where(AccessEvent.chain_position.is_not(None))
        if after is not None:
            query = query.where(AccessEvent.chain_position > after)
        page = session.execute(query.order_by(AccessEvent.chain_position).limit(batch_size)).all()
        yield from page
        if len(page) < batch_size:
            return
        after = page[-1].chain_position


def _broken_link(session: Session, row: Row[Any], head_hash: bytes) -> str:
    """Say whether a bad link looks like altered contents or events out of their places."""
    following = session.execute(
        select(*_SEALED_COLUMNS)
        .where(AccessEvent.chain_position > row.chain_position)
        .order_by(AccessEvent.chain_position)
        .limit(1)
    ).first()
    if following is None:
        rest_holds = head_hash == row.entry_hash
    else:
        rest_holds = link_hash(row.entry_hash, following) == following.entry_hash
    where = f"event {row.seq} (position {row.chain_position})"
    if rest_holds:
        # The stored hash still carries the chain on, so only this event's contents changed.
        return f"{where} was altered: its hash does not match its contents"
    return (
        f"{where} does not follow from the event before it: events were reordered, "
        "or it was altered and its hash rewritten"
    )


def _head_mismatch(session: Session, length: int, checked: int, unsealed: int) -> VerifyReport:
    """Report a chain head that counts more, or fewer, events than the chain holds."""
    if length > checked:
        problem = (
            f"the chain head counts {length} sealed events but the chain ends at position "
            f"{checked}: positions {checked + 1} to {length} were removed"
        )
        return VerifyReport(False, checked, None, checked + 1, problem, unsealed)
    seq = session.scalar(select(AccessEvent.seq).where(AccessEvent.chain_position == length + 1))
    problem = (
        f"the chain head counts {length} sealed events but the chain runs on to position "
        f"{checked} from event {seq} (position {length + 1}): the head was rolled back"
    )
    return VerifyReport(False, checked, seq, length + 1, problem, unsealed)
