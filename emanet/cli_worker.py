"""`emanet worker` (webhook delivery) and `emanet webhook` (endpoints and their delivery log)."""

from __future__ import annotations

import signal
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from types import FrameType
from typing import Any

import click

from broker.businesses.services import BusinessNotFoundError
from broker.webhooks.delivery import run_worker
from broker.webhooks.services import (
    DeliveryView,
    EndpointNotFoundError,
    WebhookError,
    deliveries_for,
    disable_endpoint,
    register_endpoint,
)
from business_portal.worker_passes import portal_passes
from emanet.settings import Settings
from vault.outbox.services import EVENT_TYPES

json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not {what} (a UUID).") from None


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    # Finish the send in flight, record it, then leave: no delivery is left half-claimed.
    def handle(signum: int, _frame: FrameType | None) -> None:
        click.echo(f"{signal.Signals(signum).name}: stopping after the current delivery", err=True)
        stop.set()

    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@click.command()
@click.option("--once", is_flag=True, help="Make one pass, then stop.")
@click.option(
    "--interval",
    default=2.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds between passes.",
)
@click.pass_context
def worker(ctx: click.Context, once: bool, interval: float) -> None:
    """Deliver the outbox's events to businesses as signed webhooks."""
    from emanet.cli import opened  # emanet.cli registers this command: import it late

    stop = threading.Event()
    with _stop_on_signals(stop), opened(ctx) as runtime:
        run_worker(
            runtime.vault,
            once=once,
            interval=interval,
            stop_event=stop,
            passes=portal_passes(),
        )


@click.group()
def webhook() -> None:
    """Webhook endpoints of businesses."""


@webhook.command("add")
@click.option("--business", "business_id", required=True, help="The business's id.")
@click.option("--url", required=True, help="Where to POST events (https).")
@click.option(
    "--event",
    "events",
    multiple=True,
    type=click.Choice(EVENT_TYPES),
    help="An event type to subscribe to (repeat it; all types when left out).",
)
@json_option
@click.pass_context
def webhook_add(
    ctx: click.Context, business_id: str, url: str, events: tuple[str, ...], as_json: bool
) -> None:
    """Register an endpoint; its signing secret is printed this once."""
    from emanet.cli import emit, opened

    settings: Settings = ctx.obj
    bid = _uuid(business_id, "a business id")
    with opened(ctx) as runtime, runtime.vault.unit_of_work() as uow:
        try:
            endpoint_id, secret = register_endpoint(
                uow,
                bid,
                url,
                events or None,
                allow_loopback=settings.mode in ("test", "demo"),
            )
        except (WebhookError, BusinessNotFoundError) as exc:
            raise click.ClickException(str(exc)) from None
    emit(
        as_json,
        {
            "endpoint_id": str(endpoint_id),
            "business_id": str(bid),
            "url": url.strip(),
            "event_types": sorted(events) or list(EVENT_TYPES),
            "secret": secret,
        },
        f"Endpoint {endpoint_id} for {url.strip()}.\n"
        f"Signing secret (shown only now; keep it safe): {secret}",
    )


@webhook.command("disable")
@click.option("--endpoint", "endpoint_id", required=True, help="The endpoint's id.")
@json_option
@click.pass_context
def webhook_disable(ctx: click.Context, endpoint_id: str, as_json: bool) -> None:
    """Stop sending to an endpoint."""
    from emanet.cli import emit, opened

    eid = _uuid(endpoint_id, "an endpoint id")
    with opened(ctx) as runtime, runtime.vault.unit_of_work() as uow:
        try:
            disable_endpoint(uow, eid)
        except EndpointNotFoundError as exc:
            raise click.ClickException(str(exc)) from None
    emit(as_json, {"endpoint_id": str(eid), "disabled": True}, f"Endpoint {eid} disabled.")


LOG_COLUMNS = (
    "id",
    "outbox_event_id",
    "event_type",
    "status",
    "attempts",
    "next_attempt_at",
    "last_attempt_at",
    "last_status_code",
    "last_error",
    "delivered_at",
    "created_at",
)


def _row(delivery: DeliveryView) -> dict[str, Any]:
    row = {name: getattr(delivery, name) for name in LOG_COLUMNS}
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


@webhook.command("deliveries")
@click.option("--endpoint", "endpoint_id", required=True, help="The endpoint's id.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
@json_option
@click.pass_context
def webhook_deliveries(ctx: click.Context, endpoint_id: str, limit: int, as_json: bool) -> None:
    """Show an endpoint's delivery log, newest first."""
    from emanet.cli import emit, opened

    eid = _uuid(endpoint_id, "an endpoint id")
    with opened(ctx) as runtime, runtime.vault.unit_of_work(write=False) as uow:
        try:
            log = deliveries_for(uow, eid, limit)
        except EndpointNotFoundError as exc:
            raise click.ClickException(str(exc)) from None
    text = "\n".join(
        f"{d.created_at:%Y-%m-%d %H:%M:%S}  {d.event_type:20} {d.status:9} "
        f"attempts {d.attempts}  {d.last_status_code or ''} {d.last_error or ''}".rstrip()
        for d in log
    )
    rows = [_row(d) for d in log]
    emit(as_json, {"endpoint_id": str(eid), "deliveries": rows}, text or "No deliveries yet.")
