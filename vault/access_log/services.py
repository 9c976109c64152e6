"""Appending to the access log and reading it back."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from vault.access_log.models import AccessEvent
from vault.unit_of_work import UnitOfWork

ALLOWED = "allowed"


@dataclass(frozen=True)
class LogEntry:
    """What to write in the log; the time and sequence number are added on append."""

    kind: str
    actor: str
    outcome: str = ALLOWED
    customer_id: uuid.UUID | None = None
    business_id: uuid.UUID | None = None
    agreement_id: uuid.UUID | None = None
    purpose: str | None = None
    fields: Sequence[str] | None = None
    detail: str | None = None


def append_event(uow: UnitOfWork, entry: LogEntry) -> int:
    """Append an event in the current transaction and return its sequence number."""
    event = AccessEvent(
        at=uow.now(),
        kind=entry.kind,
        outcome=entry.outcome,
        actor=entry.actor,
        customer_id=entry.customer_id,
        business_id=entry.business_id,
        agreement_id=entry.agreement_id,
        purpose=entry.purpose,
        fields=sorted(entry.fields) if entry.fields is not None else None,
        detail=entry.detail,
    )
    uow.session.add(event)
    uow.session.flush()
    return event.seq


def customer_access_log(
    uow: UnitOfWork, customer_id: uuid.UUID, *, limit: int = 200, before_seq: int | None = None
) -> list[AccessEvent]:
    """Return the customer's log, newest first."""
    query = select(AccessEvent).where(AccessEvent.customer_id == customer_id)
    if before_seq is not None:
        query = query.where(AccessEvent.seq < before_seq)
    return list(uow.session.scalars(query.order_by(AccessEvent.seq.desc()).limit(limit)))


def customer_log_page(
    uow: UnitOfWork,
    customer_id: uuid.UUID,
    *,
    kinds: Sequence[str],
    business_id: uuid.UUID | None = None,
    field: str | None = None,
    before_seq: int | None = None,
    limit: int = 50,
) -> list[AccessEvent]:
    """Return one page of the customer's log of these kinds, newest first, filtered if asked.

    Keyset paging on `seq` walks `ix_access_events_customer_seq` backwards, so a page costs
    the same on the first screen as on the hundredth, however long the log is.
    """
    # Imported here so that this reader could be appended without touching the module head.
    from sqlalchemy import Text, cast

    query = select(AccessEvent).where(
        AccessEvent.customer_id == customer_id, AccessEvent.kind.in_(kinds)
    )
    if business_id is not None:
        query = query.where(AccessEvent.business_id == business_id)
    if field is not None:
        # `fields` is a JSON list of catalogue keys; its text holds each key in quotes on
        # SQLite and PostgreSQL alike, and no key contains a quote.
        query = query.where(cast(AccessEvent.fields, Text).contains(f'"{field}"', autoescape=True))
    if before_seq is not None:
        query = query.where(AccessEvent.seq < before_seq)
    return list(uow.session.scalars(query.order_by(AccessEvent.seq.desc()).limit(limit)))
