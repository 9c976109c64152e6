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
