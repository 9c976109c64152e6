"""Use cases of webhook endpoints: register, disable, fan events out, read the delivery log."""

from __future__ import annotations

import ipaddress
import socket
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import and_, exists, func, or_, select, update

from broker.businesses.models import Business
from broker.businesses.services import BusinessNotFoundError
from broker.webhooks.models import FAILED, PENDING, WebhookDelivery, WebhookEndpoint
from broker.webhooks.signing import new_secret, seal_secret
from vault.access_log.services import LogEntry, append_event
from vault.outbox.models import OutboxEvent
from vault.outbox.services import EVENT_TYPES
from vault.unit_of_work import UnitOfWork

MAX_URL_LENGTH = 2000
FAN_OUT_BATCH = 500
# Outbox seqs are handed out at insert but become visible at commit, so a slow transaction
# can commit an event below the cursor; events this recent are looked at again.
LATE_COMMIT_WINDOW = timedelta(minutes=2)


class WebhookError(ValueError):
    """An endpoint cannot be registered as asked; the message says why."""


class EndpointNotFoundError(LookupError):
    """No such webhook endpoint (for this business)."""


@dataclass(frozen=True)
class DeliveryView:
    """One line of an endpoint's delivery log."""

    id: uuid.UUID
    outbox_event_id: uuid.UUID
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


def _ip_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        # Legacy spellings such as 2130706433 or 0x7f.1 still connect to an IPv4 address.
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def check_url(url: str, *, allow_loopback: bool) -> str:
    """Return the URL if events may be sent there, or raise WebhookError saying why not."""
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise WebhookError(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        _ = parts.port  # reading the port is what validates it
    except ValueError:
        raise WebhookError("The URL is not valid.") from None
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme not in ("https", "http") or not host:
        raise WebhookError("The URL must be an absolute https:// address.")
    if parts.username is not None or parts.password is not None:
        raise WebhookError("Put no credentials in the URL; receivers check the signature.")
    if parts.fragment:
        raise WebhookError("A webhook URL cannot have a #fragment.")
    address = _ip_address(host)
    if host == "localhost" or host.endswith(".localhost") or (address and address.is_loopback):
        if not allow_loopback:
            raise WebhookError("Loopback addresses are accepted only in test and demo mode.")
        return url
    if parts.scheme != "https":
        raise WebhookError("The URL must use https:// (events carry customers' data).")
    # Keep businesses from aiming the worker at the operator's own network.
    if address is not None and not address.is_global:
        raise WebhookError("The URL points at a private or reserved address.")
    return url


def check_event_types(event_types: Iterable[str] | None) -> list[str]:
    """Return the subscribed types (all of them when none are named)."""
    if event_types is None:
        return list(EVENT_TYPES)
    chosen = sorted(set(event_types))
    unknown = [t for t in chosen if t not in EVENT_TYPES]
    if unknown:
        raise WebhookError(
            f"Unknown event types: {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}."
        )
    if not chosen:
        raise WebhookError("Subscribe to at least one event type.")
    return chosen


def register_endpoint(
    uow: UnitOfWork,
    business_id: uuid.UUID,
    url: str,
    event_types: Iterable[str] | None = None,
    *,
    allow_loopback: bool,
    actor: str = "operator",
) -> tuple[uuid.UUID, str]:
    """Add an endpoint for the business's events from now on; commit; return id and secret."""
    checked_url = check_url(url, allow_loopback=allow_loopback)
    types = check_event_types(event_types)
    if uow.session.get(Business, business_id) is None:
        raise BusinessNotFoundError(f"No business {business_id}.")
    endpoint_id, secret = uuid.uuid4(), new_secret()
    latest = uow.session.scalar(
        select(func.max(OutboxEvent.seq)).where(OutboxEvent.business_id == business_id)
    )
    uow.session.add(
        WebhookEndpoint(
            id=endpoint_id,
            business_id=business_id,
            url=checked_url,
            sealed_secret=seal_secret(uow, endpoint_id, business_id, secret),
            event_types=types,
            created_at=uow.now(),
            last_outbox_seq=latest or 0,
        )
    )
    _log(uow, "webhook.created", actor, business_id, f"{endpoint_id} {checked_url}")
    uow.commit()
    return endpoint_id, secret


def _log(uow: UnitOfWork, kind: str, actor: str, business_id: uuid.UUID, detail: str) -> None:
    # Where a business's events go is security-relevant: it is kept in the access log.
    append_event(
        uow, LogEntry(kind=kind, actor=actor, business_id=business_id, detail=detail[:400])
    )


def _endpoint(
    uow: UnitOfWork, endpoint_id: uuid.UUID, business_id: uuid.UUID | None, *, lock: bool = False
) -> WebhookEndpoint:
    endpoint = uow.session.get(WebhookEndpoint, endpoint_id, with_for_update=lock)
    if endpoint is None or business_id not in (None, endpoint.business_id):
        raise EndpointNotFoundError(f"No webhook endpoint {endpoint_id}.")
    return endpoint


def disable_endpoint(
    uow: UnitOfWork,
    endpoint_id: uuid.UUID,
    *,
    business_id: uuid.UUID | None = None,
    actor: str = "operator",
) -> None:
    """Stop sending to an endpoint; what was still pending is marked failed; commit."""
    # Locked, so a fan-out in flight finishes first and what it adds is marked failed too.
    endpoint = _endpoint(uow, endpoint_id, business_id, lock=True)
    if endpoint.disabled_at is not None:
        return
    endpoint.disabled_at = uow.now()
    uow.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == PENDING)
        .values(status=FAILED, last_error="endpoint disabled")
    )
    _log(uow, "webhook.disabled", actor, endpoint.business_id, str(endpoint_id))
    uow.commit()


def deliveries_for(
    uow: UnitOfWork,
    endpoint_id: uuid.UUID,
    limit: int = 50,
    *,
    business_id: uuid.UUID | None = None,
) -> list[DeliveryView]:
    """Return an endpoint's delivery log, newest event first."""
    _endpoint(uow, endpoint_id, business_id)
    rows = uow.session.scalars(
        select(WebhookDelivery)
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.outbox_event_id)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(OutboxEvent.seq.desc())
        .limit(limit)
    )
    names = [f.name for f in fields(DeliveryView)]
    return [DeliveryView(**{name: getattr(row, name) for name in names}) for row in rows]


def _fan_out_endpoint(uow: UnitOfWork, endpoint: WebhookEndpoint) -> int:
    now = uow.now()
    already = exists().where(
        WebhookDelivery.endpoint_id == endpoint.id,
        WebhookDelivery.outbox_event_id == OutboxEvent.id,
    )
    events = list(
        uow.session.scalars(
            select(OutboxEvent)
            .where(
                OutboxEvent.business_id == endpoint.business_id,
                OutboxEvent.created_at >= endpoint.created_at,
                or_(
                    OutboxEvent.seq > endpoint.last_outbox_seq,
                    and_(
                        OutboxEvent.created_at >= now - LATE_COMMIT_WINDOW,
                        OutboxEvent.type.in_(endpoint.event_types),
                    ),
                ),
                ~already,
            )
            .order_by(OutboxEvent.seq)
            .limit(FAN_OUT_BATCH)
        )
    )
    created = 0
    for event in events:
        if event.type in endpoint.event_types:
            uow.session.add(
                WebhookDelivery(
                    id=uuid.uuid4(),
                    endpoint_id=endpoint.id,
                    outbox_event_id=event.id,
                    event_type=event.type,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
            created += 1
    if events:
        endpoint.last_outbox_seq = max(endpoint.last_outbox_seq, events[-1].seq)
    return created


def fan_out(uow: UnitOfWork) -> int:
    """Create a pending delivery per new event and subscribed endpoint; commit; return how many."""
    # SKIP LOCKED: a second worker passes over endpoints the first is fanning out
    # (SQLite renders no FOR UPDATE; its writers are serialised anyway).
    endpoints = uow.session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.disabled_at.is_(None))
        .order_by(WebhookEndpoint.id)
        .with_for_update(skip_locked=True)
    ).all()
    created = sum(_fan_out_endpoint(uow, endpoint) for endpoint in endpoints)
    uow.commit()
    return created
