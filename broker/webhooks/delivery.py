"""Sending due webhook deliveries with retries, and the worker loop that drives it.

Each delivery is claimed in a short transaction, sent with no transaction open, and its
outcome recorded in another: a slow receiver never holds a database lock. A worker that dies
mid-send leaves a claim that runs out, and the event is sent again with the same webhook-id
(at-least-once, as Standard Webhooks expects receivers to handle).
"""

from __future__ import annotations

import http.client
import logging
import secrets
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from broker.webhooks.models import DELIVERED, FAILED, PENDING, WebhookDelivery, WebhookEndpoint
from broker.webhooks.services import fan_out
from broker.webhooks.signing import event_body, open_secret, signed_headers
from vault.access_log.sealer import seal_pending
from vault.keys.aead import DecryptionError
from vault.outbox.models import OutboxEvent
from vault.unit_of_work import Vault

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
BASE_DELAY = timedelta(seconds=10)
MAX_DELAY = timedelta(hours=6)
MAX_ATTEMPTS = 12
# Longer than any one send can take, so a live worker's claim never runs out under it.
CLAIM_LEASE = timedelta(seconds=TIMEOUT_SECONDS * 6)
USER_AGENT = "Emanet-Webhooks/1"


@dataclass(frozen=True)
class SendResult:
    """What one HTTP attempt came to: a status code, or an error before any answer."""

    status_code: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


Sender = Callable[[str, Mapping[str, str], bytes], SendResult]


@dataclass
class DeliveryReport:
    """How many deliveries one pass settled, put off, or gave up on."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.failed


@dataclass(frozen=True)
class _Claim:
    delivery_id: uuid.UUID
    endpoint_id: uuid.UUID
    attempts: int
    url: str
    headers: dict[str, str]
    body: bytes


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Refuse redirects: a receiver is reached at the URL it registered or not at all."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post_webhook(url: str, headers: Mapping[str, str], body: bytes) -> SendResult:
    """POST a signed event; any 2xx answer counts as received."""
    if not url.startswith(("https://", "http://")):
        return SendResult(None, "unsupported URL scheme")
    # The scheme is checked above and at registration: no file:// or ftp:// here.
    request = urllib.request.Request(  # noqa: S310
        url, data=body, headers={**headers, "user-agent": USER_AGENT}, method="POST"
    )
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return SendResult(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return SendResult(exc.code, f"HTTP {exc.code} {exc.reason}"[:200])
    except (OSError, ValueError, http.client.HTTPException) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        return SendResult(None, f"{type(reason).__name__}: {reason}"[:200])


def retry_delay(attempts: int, fraction: float | None = None) -> timedelta:
    """Return the wait after the nth failed attempt: doubling from 10 s, at most 6 h."""
    capped = min(BASE_DELAY * 2 ** min(attempts, 20), MAX_DELAY)
    if fraction is None:
        fraction = secrets.randbelow(1001) / 1000
    # Jitter spreads the retries of a receiver that comes back; it never exceeds the cap.
    return capped * (0.75 + 0.25 * fraction)


def _claim(vault: Vault, now: datetime, skip: set[uuid.UUID]) -> _Claim | None:
    with vault.unit_of_work() as uow:
        query = (
            select(WebhookDelivery, WebhookEndpoint, OutboxEvent)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.outbox_event_id)
            .where(
                WebhookDelivery.status == PENDING,
                WebhookDelivery.next_attempt_at <= now,
                WebhookEndpoint.disabled_at.is_(None),
                WebhookDelivery.endpoint_id.not_in(skip),
            )
            .order_by(WebhookDelivery.next_attempt_at, OutboxEvent.seq)
            .limit(1)
            # Another worker skips a row this one holds (SQLite serialises writers anyway).
            .with_for_update(skip_locked=True, of=WebhookDelivery)
        )
        while (row := uow.session.execute(query).first()) is not None:
            delivery, endpoint, event = row
            try:
                secret = open_secret(uow, endpoint)
            except DecryptionError:
                # A keyring that cannot open the secret will not open it on a retry either.
                delivery.status, delivery.last_error = FAILED, "signing secret does not open"
                log.error("webhook endpoint %s: its signing secret does not open", endpoint.id)
                continue
            body = event_body(event.type, event.created_at, event.payload)
            # The wall clock, not `now`: receivers refuse timestamps far from their own time.
            timestamp = int(uow.now().timestamp())
            delivery.next_attempt_at = now + CLAIM_LEASE
            delivery.last_attempt_at = now
            claim = _Claim(
                delivery.id,
                endpoint.id,
                delivery.attempts,
                endpoint.url,
                signed_headers(secret, str(event.id), timestamp, body),
                body,
            )
            uow.commit()
            return claim
        uow.commit()
        return None


def _record(vault: Vault, claim: _Claim, result: SendResult, now: datetime) -> str | None:
    with vault.unit_of_work() as uow:
        delivery = uow.session.get(WebhookDelivery, claim.delivery_id, with_for_update=True)
        if delivery is None or (delivery.status, delivery.attempts) != (PENDING, claim.attempts):
            return None
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.last_status_code = result.status_code
        if result.ok:
            delivery.status, delivery.delivered_at, delivery.last_error = DELIVERED, now, None
        else:
            delivery.last_error = (result.error or "no answer")[:200]
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.status = FAILED
            else:
                delivery.next_attempt_at = now + retry_delay(delivery.attempts)
        uow.commit()
        return delivery.status


def deliver_due(
    vault: Vault,
    *,
    now: datetime | None = None,
    send: Sender = post_webhook,
    limit: int = 100,
    stop_event: threading.Event | None = None,
) -> DeliveryReport:
    """Send deliveries whose time has come (`now` drives the schedule; tests move it)."""

    def clock() -> datetime:
        return vault.clock() if now is None else now

    report = DeliveryReport()
    # An endpoint that failed once in this pass is left for the next, so a dead receiver
    # costs one attempt (one timeout at most) per pass, not one per pending event.
    down: set[uuid.UUID] = set()
    for _ in range(limit):
        if stop_event is not None and stop_event.is_set():
            break
        claim = _claim(vault, clock(), down)
        if claim is None:
            break
        result = send(claim.url, claim.headers, claim.body)
        status = _record(vault, claim, result, clock())
        if status is None:
            continue  # our claim ran out and another worker settled the row meanwhile
        if status == DELIVERED:
            report.delivered += 1
            continue
        down.add(claim.endpoint_id)
        log.warning("webhook %s to %s: %s", claim.delivery_id, claim.url, result.error)
        if status == FAILED:
            report.failed += 1
        else:
            report.retrying += 1
    return report


def run_worker(
    vault: Vault,
    *,
    once: bool,
    interval: float,
    stop_event: threading.Event,
    passes: Sequence[Callable[[Vault], None]] = (),
) -> None:
    """Seal the access log, fan the outbox out and deliver, every `interval` seconds.

    `passes` are further jobs of each round (the business portal's retention and indexing),
    given by the wiring so the broker need not know them.
    """
    log.info("worker started")
    while not stop_event.is_set():
        try:
            sealed = seal_pending(vault)
            with vault.unit_of_work() as uow:
                fanned = fan_out(uow)
            report = deliver_due(vault, stop_event=stop_event)
            for job in passes:
                job(vault)
        except Exception:
            if once:
                raise
            # A database or network hiccup must not end the worker; the next pass retries.
            log.exception("webhook pass failed; trying again in %.1f s", interval)
        else:
            if sealed:
                log.info("access log: %d events sealed", sealed)
            if fanned or report.attempted:
                log.info(
                    "webhooks: %d new, %d delivered, %d to retry, %d failed",
                    fanned,
                    report.delivered,
                    report.retrying,
                    report.failed,
                )
        if once or stop_event.wait(interval):
            break
    log.info("worker stopped")
