"""In-app notifications, derived from the customer's agreements at read time (no table).

A notification exists while its situation lasts: a request is news until it is answered, an
agreement is about to expire until it expires or ends, and an expiry stays in view for a while.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from schemas.agreements import AgreementStatus
from vault.agreements.models import Agreement
from vault.agreements.services import customer_agreements
from vault.agreements.status import current_status
from vault.unit_of_work import UnitOfWork

__all__ = [
    "EXPIRED_SHOWN_FOR",
    "EXPIRY_WARNING",
    "Notification",
    "NotificationKind",
    "customer_notifications",
    "derive_notifications",
]

# How long before its end an agreement is announced, and how long an expiry stays in view.
EXPIRY_WARNING = timedelta(days=14)
EXPIRED_SHOWN_FOR = timedelta(days=30)


class NotificationKind(StrEnum):
    """What the customer is told about."""

    NEW_REQUEST = "new_request"
    AMENDMENT = "amendment"
    EXPIRING = "expiring"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Notification:
    """One thing to tell the customer about one agreement; `at` is when it happened or ends."""

    kind: NotificationKind
    agreement_id: uuid.UUID
    business_id: uuid.UUID
    business_name: str
    at: datetime


def _notification_of(agreement: Agreement, now: datetime) -> Notification | None:
    status = current_status(agreement, now)
    kind: NotificationKind | None = None
    at = agreement.created_at
    if status is AgreementStatus.REQUESTED:
        kind = (
            NotificationKind.AMENDMENT if agreement.supersedes_id else NotificationKind.NEW_REQUEST
        )
    elif agreement.valid_until is not None:
        at = agreement.valid_until
        if status is AgreementStatus.ACTIVE and at <= now + EXPIRY_WARNING:
            kind = NotificationKind.EXPIRING
        elif status is AgreementStatus.EXPIRED and now - EXPIRED_SHOWN_FOR < at <= now:
            kind = NotificationKind.EXPIRED
    if kind is None:
        return None
    return Notification(
        kind=kind,
        agreement_id=agreement.id,
        business_id=agreement.business_id,
        business_name=str(agreement.business.get("legal_name", "")),
        at=at,
    )


# Waiting decisions first, then what ends soonest, then what ended most recently.
_ORDER = {
    NotificationKind.AMENDMENT: 0,
    NotificationKind.NEW_REQUEST: 0,
    NotificationKind.EXPIRING: 1,
    NotificationKind.EXPIRED: 2,
}


def _sort_key(notification: Notification) -> tuple[int, float]:
    stamp = notification.at.timestamp()
    rank = _ORDER[notification.kind]
    return (rank, stamp if notification.kind is NotificationKind.EXPIRING else -stamp)


def derive_notifications(agreements: Iterable[Agreement], now: datetime) -> list[Notification]:
    """Return the notifications these agreements call for at `now`, most pressing first."""
    found = [n for a in agreements if (n := _notification_of(a, now)) is not None]
    return sorted(found, key=_sort_key)


def customer_notifications(uow: UnitOfWork, customer_id: uuid.UUID) -> list[Notification]:
    """Return the customer's notifications as of the unit of work's clock."""
    return derive_notifications(customer_agreements(uow, customer_id), uow.now())
