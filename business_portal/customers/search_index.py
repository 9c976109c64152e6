"""The keyed blind index of the customer list, kept fresh from the business's outbox.

Searching encrypted values: each granted value is read through the gate (logged, as the
actor "portal:search-index"), cut into folded words (`search_words`), and stored only as the
business key's HMAC of each word, per agreement and field. A search hashes its words the
same way and looks them up; nothing is decrypted to search, and a field that is not granted
is never read, so it can never be found.

Freshness without touching every customer: the vault writes an outbox event in the same
transaction as every change a business must hear of (granted, amended, revoked, expired,
erased, profile.updated). A cursor per business remembers the last event read; a refresh
reads only the events after it, so its cost follows the changes, not the customers. Outbox
numbers are handed out at insert and become visible at commit, so a slow transaction can
commit an event below the cursor: events above `floor_seq` that were never handled are
looked for again, and the floor only rises past events older than LATE_COMMIT_WINDOW.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, func, insert, select
from sqlalchemy.exc import IntegrityError

from broker.businesses.models import Business, PairwiseSubject
from broker.gate import Caller, read_profiles
from broker.pairwise import subjects_for
from business_portal.customers import index_rows
from business_portal.customers.models import ListedCustomer, SearchCursor, SearchSeenEvent
from business_portal.records.keys import business_cipher
from business_portal.records.planner_hints import unindexed
from schemas.agreements import AgreementStatus
from vault.agreements.models import Agreement
from vault.agreements.status import current_status
from vault.outbox.models import OutboxEvent
from vault.unit_of_work import UnitOfWork, Vault

__all__ = ["INDEX_ACTOR", "refresh_all_search_indexes", "refresh_search_index"]

INDEX_ACTOR = "portal:search-index"
DEFAULT_LIMIT = 200
# Longer than any transaction that writes an outbox event takes to commit.
LATE_COMMIT_WINDOW = timedelta(minutes=2)
LATE_CHECK_EVERY = timedelta(seconds=10)
# A refresh that dies keeps others out this long, no longer.
LEASE = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class _Event:
    seq: int
    agreement_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class _State:
    id: uuid.UUID
    customer_id: uuid.UUID | None
    status: str
    restricted: bool
    valid_until: datetime | None
    granted_fields: dict[str, str]
    supersedes_id: uuid.UUID | None


def refresh_search_index(
    uow: UnitOfWork, business_id: uuid.UUID, *, limit: int = DEFAULT_LIMIT
) -> int:
    """Index the business's changes since the last refresh (at most `limit` events); commit.

    Returns how many agreements were indexed again or removed. A refresh already under way
    for the business (another request, the worker) makes this one return 0 at once.
    """
    cursor = _cursor(uow, business_id)
    now = uow.now()
    late_due = cursor.late_checked_at is None or cursor.late_checked_at <= now - LATE_CHECK_EVERY
    if not late_due and not _has_events_after(uow, business_id, cursor.last_seq):
        uow.rollback()  # nothing to do: end the read without holding anything
        return 0
    token = _take_lease(uow, business_id, now)
    if token is None:
        return 0
    try:
        return _refresh(uow, business_id, token, limit, late_due)
    except Exception:
        uow.rollback()
        _release(uow, business_id, token)
        raise


def refresh_all_search_indexes(vault: Vault, *, limit: int = 1000) -> int:
    """Refresh every business's index once (a worker pass); return agreements touched."""
    with vault.unit_of_work(write=False) as uow:
        businesses = list(uow.session.scalars(select(Business.id).order_by(Business.id)))
    touched = 0
    for business_id in businesses:
        with vault.unit_of_work() as uow:
            touched += refresh_search_index(uow, business_id, limit=limit)
    return touched


def _cursor(uow: UnitOfWork, business_id: uuid.UUID) -> SearchCursor:
    cursor = uow.session.get(SearchCursor, business_id)
    if cursor is not None:
        return cursor
    try:
        with uow.session.begin_nested():
            uow.session.add(SearchCursor(business_id=business_id, last_seq=0, floor_seq=0))
        uow.commit()
    except IntegrityError:
        uow.rollback()  # another request made it first: use theirs
    found = uow.session.get(SearchCursor, business_id)
    assert found is not None
    return found


def _has_events_after(uow: UnitOfWork, business_id: uuid.UUID, seq: int) -> bool:
    query = select(OutboxEvent.seq).where(
        OutboxEvent.business_id == business_id, OutboxEvent.seq > seq
    )
    return uow.session.scalar(query.limit(1)) is not None


def _locked_cursor(uow: UnitOfWork, business_id: uuid.UUID) -> SearchCursor | None:
    # SKIP LOCKED: a refresh that finds another writing the cursor leaves it to them.
    return uow.session.scalar(
        select(SearchCursor)
        .where(SearchCursor.business_id == business_id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )


def _take_lease(uow: UnitOfWork, business_id: uuid.UUID, now: datetime) -> str | None:
    cursor = _locked_cursor(uow, business_id)
    if cursor is None or (cursor.lease_until is not None and cursor.lease_until > now):
        uow.rollback()
        return None
    cursor.lease_token = secrets.token_hex(16)
    cursor.lease_until = now + LEASE
    token = cursor.lease_token
    uow.commit()
    return token


def _release(uow: UnitOfWork, business_id: uuid.UUID, token: str) -> None:
    cursor = _locked_cursor(uow, business_id)
    if cursor is not None and cursor.lease_token == token:
        cursor.lease_token, cursor.lease_until = None, None
        uow.commit()


def _events(
    uow: UnitOfWork, business_id: uuid.UUID, cursor: SearchCursor, limit: int, late: bool
) -> tuple[list[_Event], list[_Event]]:
    """Return the events after the cursor, and older ones committed late (when it is time)."""
    columns = select(OutboxEvent.seq, OutboxEvent.agreement_id).where(
        OutboxEvent.business_id == business_id
    )
    new = uow.session.execute(
        columns.where(OutboxEvent.seq > cursor.last_seq).order_by(OutboxEvent.seq).limit(limit)
    ).all()
    if not late:
        return [_Event(*row) for row in new], []
    seen = exists().where(
        SearchSeenEvent.business_id == business_id, SearchSeenEvent.seq == OutboxEvent.seq
    )
    missed = uow.session.execute(
        columns.where(OutboxEvent.seq > cursor.floor_seq, OutboxEvent.seq <= cursor.last_seq, ~seen)
        .order_by(OutboxEvent.seq)
        .limit(limit)
    ).all()
    return [_Event(*row) for row in new], [_Event(*row) for row in missed]


def _states(uow: UnitOfWork, business_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[_State]:
    if not ids:
        return []
    rows = uow.session.execute(
        select(
            Agreement.id,
            Agreement.customer_id,
            Agreement.status,
            Agreement.restricted,
            Agreement.valid_until,
            Agreement.granted_fields,
            Agreement.supersedes_id,
        ).where(Agreement.id.in_(ids), Agreement.business_id == business_id)
    )
    return [_State(*row) for row in rows]


def _readable(state: _State, now: datetime) -> bool:
    active = current_status(state, now) is AgreementStatus.ACTIVE
    return active and not state.restricted and state.customer_id is not None


def _refresh(uow: UnitOfWork, business_id: uuid.UUID, token: str, limit: int, late: bool) -> int:
    now = uow.now()
    cursor = uow.session.get(SearchCursor, business_id)
    assert cursor is not None
    new, missed = _events(uow, business_id, cursor, limit, late)
    ids = list(dict.fromkeys(e.agreement_id for e in (*new, *missed) if e.agreement_id))
    states = _states(uow, business_id, ids)
    ended = {s.supersedes_id for s in states if s.supersedes_id} - set(ids)
    states += _states(uow, business_id, sorted(ended))
    to_read = [s.id for s in states if _readable(s, now)]
    # The gate decides again, logs each read, and commits; what it refuses is dropped.
    profiles = read_profiles(uow, Caller(business_id, INDEX_ACTOR), to_read)
    cursor = _locked_cursor(uow, business_id)
    if cursor is None or cursor.lease_token != token:
        uow.rollback()  # the lease ran out and another refresh took over: leave it to them
        return 0
    cipher = business_cipher(uow, business_id)
    read = {p.agreement_id for p in profiles}
    index_rows.write_terms(uow, cipher, profiles, now)
    index_rows.forget_agreements(uow, [s.id for s in states if s.id not in read])
    customers = {s.customer_id for s in states if s.customer_id is not None}
    # subjects_for also records a pairwise id the business has not been given yet.
    index_rows.rebuild_listed(uow, business_id, subjects_for(uow, business_id, customers))
    keys = set(cursor.field_keys.split())
    for state in states:
        if state.id in read:
            keys |= index_rows.readable_keys(state.granted_fields)
    cursor.field_keys = " ".join(sorted(keys))
    _mark_seen(uow, business_id, [*new, *missed], now)
    if new:
        cursor.last_seq = max(cursor.last_seq, new[-1].seq)
    if late:
        _advance_floor(uow, cursor, missed, limit, now)
        _drop_ended(uow, business_id, limit, now)
        cursor.late_checked_at = now
    cursor.lease_token, cursor.lease_until = None, None
    uow.commit()
    return len(states)


def _mark_seen(
    uow: UnitOfWork, business_id: uuid.UUID, events: Sequence[_Event], now: datetime
) -> None:
    if events:
        rows = [{"business_id": business_id, "seq": e.seq, "seen_at": now} for e in events]
        uow.session.execute(insert(SearchSeenEvent), rows)


def _advance_floor(
    uow: UnitOfWork, cursor: SearchCursor, missed: Sequence[_Event], limit: int, now: datetime
) -> None:
    """Raise the floor past events handled long enough ago that nothing can commit below them."""
    settled = uow.session.scalar(
        select(func.max(SearchSeenEvent.seq)).where(
            SearchSeenEvent.business_id == cursor.business_id,
            SearchSeenEvent.seen_at <= now - LATE_COMMIT_WINDOW,
        )
    )
    if settled is None:
        return
    if len(missed) >= limit:
        settled = min(settled, missed[-1].seq)  # late events beyond this batch wait their turn
    if settled > cursor.floor_seq:
        cursor.floor_seq = settled
        uow.session.execute(
            delete(SearchSeenEvent).where(
                SearchSeenEvent.business_id == cursor.business_id,
                SearchSeenEvent.seq <= settled,
            )
        )


def _drop_ended(uow: UnitOfWork, business_id: uuid.UUID, limit: int, now: datetime) -> None:
    """Rebuild the rows of customers whose every agreement has run out without an event."""
    ended = list(
        uow.session.scalars(
            select(ListedCustomer.subject)
            .where(ListedCustomer.business_id == business_id, ListedCustomer.ends_at <= now)
            .order_by(ListedCustomer.ends_at)
            .limit(limit)
        )
    )
    found = uow.session.execute(
        select(PairwiseSubject.customer_id, PairwiseSubject.subject).where(
            unindexed(PairwiseSubject.business_id) == business_id,
            PairwiseSubject.subject.in_(ended),
        )
    )
    owners = {customer_id: subject for customer_id, subject in found}
    index_rows.rebuild_listed(uow, business_id, owners)
    gone = set(ended) - set(owners.values())  # no pairwise id: nothing else to rebuild from
    if gone:
        uow.session.execute(
            delete(ListedCustomer).where(
                ListedCustomer.business_id == business_id, ListedCustomer.subject.in_(gone)
            )
        )
