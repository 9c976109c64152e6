"""Writing domain events to the outbox."""

from __future__ import annotations

import uuid
from typing import Any

from vault.outbox.models import OutboxEvent
from vault.unit_of_work import UnitOfWork

EVENT_TYPES = (
    "agreement.granted",
    "agreement.amended",
    "agreement.revoked",
    "agreement.expired",
    "customer.erased",
    "profile.updated",
)


def emit(
    uow: UnitOfWork,
    business_id: uuid.UUID,
    event_type: str,
    payload: dict[str, Any],
    *,
    agreement_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Record a domain event for a business in the current transaction."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    event = OutboxEvent(
        id=uuid.uuid4(),
        business_id=business_id,
        agreement_id=agreement_id,
        type=event_type,
        payload=payload,
        created_at=uow.now(),
    )
    uow.session.add(event)
    return event.id
