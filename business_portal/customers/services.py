"""Use cases of the customer list: a page of customers with their granted values, the whole
view in batches (for CSV), the tags in use, and each staff member's saved views.

Values come only from the gate (`broker.gate.read_profiles`, logged per agreement) for the
customers of the page being shown; the list's own tables hold ids, dates and keyed hashes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select

from broker.businesses.models import PairwiseSubject
from broker.gate import Caller, read_profiles
from business_portal.customers.index_rows import readable_keys
from business_portal.customers.list_query import (
    EXPIRING_WITHIN,
    SEARCH_ID_LIMIT,
    CustomerQuery,
    active_by_key,
    found_statement,
    matching_subjects,
    page_statement,
)
from business_portal.customers.models import SearchCursor
from business_portal.customers.paging import Mark, mark_of, page_of_found
from business_portal.customers.search_index import refresh_search_index
from business_portal.customers.search_words import query_words
from business_portal.records.keys import business_cipher
from business_portal.records.models import CustomerTag
from business_portal.records.planner_hints import unindexed
from schemas.field_catalogue import FIELD_CATALOGUE
from vault.agreements.models import Agreement
from vault.profile.services import FieldValue
from vault.unit_of_work import UnitOfWork, Vault

PAGE_SIZE = 25
# A page brings the index up to date with this many changes before it searches; the worker
# does the rest in larger batches.
PAGE_REFRESH_LIMIT = 50
EXPORT_BATCH = 200
MAX_TAGS_OFFERED = 200


@dataclass
class CustomerEntry:
    """One customer of the list: agreements' terms, and the values the gate gave."""

    subject: str
    status: str  # "active", "paused" or "expiring"
    purposes: list[str]
    connected_since: datetime
    valid_until: datetime | None
    granted: set[str] = field(default_factory=set)  # readable now
    paused: set[str] = field(default_factory=set)  # granted, but the customer paused it
    values: dict[str, FieldValue] = field(default_factory=dict)
    agreement_ids: list[uuid.UUID] = field(default_factory=list)  # the readable ones


@dataclass(frozen=True)
class CustomerPage:
    """A page of the list: its customers, the field columns, and where the next pages start."""

    entries: list[CustomerEntry]
    columns: list[str]
    next_mark: str | None
    previous_mark: str | None
    searched: bool


def list_customers(
    uow: UnitOfWork,
    caller: Caller,
    query: CustomerQuery,
    *,
    after: str | None = None,
    before: str | None = None,
    page_size: int = PAGE_SIZE,
    refresh_limit: int = PAGE_REFRESH_LIMIT,
) -> CustomerPage:
    """Return one page of the business's connected customers, values read through the gate.

    Commits (the index refresh and the gate's access log). `after`/`before` are the marks a
    previous page gave; a malformed one starts from the beginning.
    """
    business_id = caller.business_id
    if refresh_limit:
        refresh_search_index(uow, business_id, limit=refresh_limit)
    now = uow.now()
    words = query_words(query.q)
    matched = _matched(uow, business_id, words, now) if words else None
    backwards = before is not None and Mark.decode(before, query.sort) is not None
    mark = Mark.decode(before if backwards else after, query.sort)

    if isinstance(matched, list):
        # A search that found few: fetch them all by key, then sort and cut in Python.
        found = list(uow.session.execute(found_statement(business_id, query, now, matched)))

        def fetch(start: Mark | None, reverse: bool, limit: int) -> list[Any]:
            return page_of_found(found, query.sort, start, reverse, limit)
    else:

        def fetch(start: Mark | None, reverse: bool, limit: int) -> list[Any]:
            statement = page_statement(
                business_id,
                query,
                now,
                matched=matched,
                mark=start,
                backwards=reverse,
                limit=limit,
            )
            return list(uow.session.execute(statement))

    rows = fetch(mark, backwards, page_size + 1)
    more = len(rows) > page_size
    rows = rows[:page_size]
    if backwards:
        rows.reverse()
    marks = [mark_of(row, query.sort) for row in rows]
    if not marks:
        has_previous = has_next = False
    elif backwards:
        has_previous, has_next = more, True
    else:
        has_next = more
        has_previous = mark is not None and bool(fetch(marks[0], True, 1))
    entries = _entries(uow, business_id, [row.subject for row in rows], now)
    _read_values(uow, caller, entries)
    return CustomerPage(
        entries=[entries[row.subject] for row in rows if row.subject in entries],
        columns=_columns(uow, business_id, entries.values()),
        next_mark=marks[-1].encode() if has_next else None,
        previous_mark=marks[0].encode() if has_previous else None,
        searched=bool(words),
    )


def customer_batches(
    vault: Vault, caller: Caller, query: CustomerQuery, *, batch_size: int = EXPORT_BATCH
) -> Iterator[CustomerPage]:
    """Yield the whole view a batch at a time, each batch in its own transaction."""
    after: str | None = None
    refresh_limit = PAGE_REFRESH_LIMIT
    while True:
        with vault.unit_of_work() as uow:
            page = list_customers(
                uow,
                caller,
                query,
                after=after,
                page_size=batch_size,
                refresh_limit=refresh_limit,
            )
        yield page
        if page.next_mark is None:
            return
        after, refresh_limit = page.next_mark, 0


def search_hashes(uow: UnitOfWork, business_id: uuid.UUID, words: list[str]) -> list[bytes]:
    """Return the business key's hash of each search word."""
    cipher = business_cipher(uow, business_id)
    return [cipher.search_term(word) for word in words]


def _matched(
    uow: UnitOfWork, business_id: uuid.UUID, words: list[str], now: datetime
) -> list[str] | Select[tuple[str]]:
    subjects = matching_subjects(business_id, search_hashes(uow, business_id, words), now)
    found = list(
        uow.session.scalars(select(subjects.subquery().c.subject).limit(SEARCH_ID_LIMIT + 1))
    )
    if len(found) <= SEARCH_ID_LIMIT:
        return found
    return select(subjects.subquery().c.subject)


def _entries(
    uow: UnitOfWork, business_id: uuid.UUID, subjects: list[str], now: datetime
) -> dict[str, CustomerEntry]:
    """Return each page customer's active agreements folded into one entry."""
    if not subjects:
        return {}
    owners = {
        customer_id: subject
        for customer_id, subject in uow.session.execute(
            select(PairwiseSubject.customer_id, PairwiseSubject.subject).where(
                unindexed(PairwiseSubject.business_id) == business_id,
                PairwiseSubject.subject.in_(subjects),
            )
        )
    }
    if not owners:
        return {}
    rows = uow.session.execute(
        select(
            Agreement.customer_id,
            Agreement.id,
            Agreement.restricted,
            Agreement.valid_from,
            Agreement.decided_at,
            Agreement.valid_until,
            Agreement.granted_fields,
            Agreement.terms["purpose"].as_string().label("purpose"),
        )
        .where(Agreement.customer_id.in_(list(owners)), active_by_key(business_id, now))
        .order_by(Agreement.valid_from, Agreement.id)
    ).all()
    grouped: dict[str, list[Any]] = {}
    for row in rows:
        grouped.setdefault(owners[row.customer_id], []).append(row)
    return {subject: _entry(subject, found, now) for subject, found in grouped.items()}


def _entry(subject: str, agreements: list[Any], now: datetime) -> CustomerEntry:
    open_ = [a for a in agreements if not a.restricted]
    ends = [a.valid_until for a in agreements]
    last = None if any(e is None for e in ends) else max(e for e in ends if e is not None)
    lasting = [a for a in open_ if a.valid_until is None or a.valid_until > now + EXPIRING_WITHIN]
    entry = CustomerEntry(
        subject=subject,
        status="paused" if not open_ else ("active" if lasting else "expiring"),
        purposes=list(dict.fromkeys(str(a.purpose) for a in agreements if a.purpose)),
        connected_since=min(a.valid_from or a.decided_at or now for a in agreements),
        valid_until=last,
    )
    for agreement in agreements:
        keys = readable_keys(agreement.granted_fields)
        (entry.paused if agreement.restricted else entry.granted).update(keys)
    entry.paused -= entry.granted
    entry.agreement_ids = [a.id for a in open_]
    return entry


def _read_values(uow: UnitOfWork, caller: Caller, entries: dict[str, CustomerEntry]) -> None:
    """Fill in the page's values through the gate: one logged read per readable agreement."""
    owner = {a: e for e in entries.values() for a in e.agreement_ids}
    for profile in read_profiles(uow, caller, list(owner)):
        entry = owner[profile.agreement_id]
        entry.values.update((k, v) for k, v in profile.fields.items() if k in entry.granted)


def _columns(
    uow: UnitOfWork, business_id: uuid.UUID, entries: Iterable[CustomerEntry]
) -> list[str]:
    keys = set(granted_columns(uow, business_id))
    for entry in entries:
        keys |= entry.granted | entry.paused
    return [key for key in FIELD_CATALOGUE if key in keys]


def granted_columns(uow: UnitOfWork, business_id: uuid.UUID) -> list[str]:
    """Return the fields the business's customers have granted it, in catalogue order."""
    seen = uow.session.scalar(
        select(SearchCursor.field_keys).where(SearchCursor.business_id == business_id)
    )
    keys = set((seen or "").split())
    return [key for key in FIELD_CATALOGUE if key in keys]


def tags_in_use(uow: UnitOfWork, business_id: uuid.UUID) -> list[str]:
    """Return the business's tags, each once, alphabetically (at most 200)."""
    # A skip scan: each step is one index lookup, so many tagged customers cost nothing.
    first = (
        select(func.min(CustomerTag.tag).label("tag"))
        .where(CustomerTag.business_id == business_id)
        .cte("tags_in_use", recursive=True)
    )
    following = (
        select(CustomerTag.tag)
        .where(CustomerTag.business_id == business_id, CustomerTag.tag > first.c.tag)
        .order_by(CustomerTag.tag)
        .limit(1)
        .scalar_subquery()
    )
    tags = first.union_all(select(following).where(first.c.tag.is_not(None)))
    query = select(tags.c.tag).where(tags.c.tag.is_not(None)).limit(MAX_TAGS_OFFERED)
    return list(uow.session.scalars(query))
