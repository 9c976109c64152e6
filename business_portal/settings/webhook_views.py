"""Webhook endpoints in the settings: list, add, switch off, delivery log (owners only)."""

from __future__ import annotations

import uuid

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from broker.webhooks.models import DELIVERED, FAILED, PENDING
from broker.webhooks.services import (
    EndpointNotFoundError,
    WebhookError,
    deliveries_for,
    disable_endpoint,
    register_endpoint,
)
from business_portal.settings.blueprint import blueprint, secret_page
from business_portal.settings.forms import EVENT_WORDS, WebhookForm, webhook_message
from business_portal.settings.services import get_endpoint, list_endpoints
from business_portal.staff.session import owner_required, signed_in_staff
from vault.outbox.services import EVENT_TYPES
from vault.web_session import current_vault

DELIVERY_LOG_LENGTH = 100
# The broker's reasons that are about the ticked events, not the address.
EVENT_REASONS = ("Unknown event types", "Subscribe to at least one")
DELIVERY_STATUS_WORDS = {
    PENDING: _l("Waiting"),
    DELIVERED: _l("Delivered"),
    FAILED: _l("Failed"),
}


def _webhooks_page(
    form: WebhookForm | None = None,
    ticked: list[str] | None = None,
    events_error: str | None = None,
) -> str:
    member = signed_in_staff()
    with current_vault().unit_of_work(write=False) as uow:
        rows = list_endpoints(uow, member.business_id)
    return render_template(
        "portal/settings/webhooks.html",
        rows=rows,
        form=form or WebhookForm(formdata=None),
        events=[(code, str(EVENT_WORDS.get(code, code))) for code in EVENT_TYPES],
        ticked=list(EVENT_TYPES) if ticked is None else ticked,
        events_error=events_error,
        event_words=EVENT_WORDS,
    )


@blueprint.get("/settings/webhooks")
@owner_required
def webhooks() -> str:
    """List the business's webhook endpoints."""
    return _webhooks_page()


@blueprint.post("/settings/webhooks", endpoint="add_webhook")
@owner_required
def new_webhook() -> str | Response:
    """Add an endpoint for the ticked events and show its signing secret this once."""
    member = signed_in_staff()
    form = WebhookForm()
    ticked = request.form.getlist("event_types")
    if not form.validate_on_submit():
        return _webhooks_page(form, ticked)
    # Loopback receivers are for tests and the demo; in production they would reach the host.
    mode = current_app.extensions["emanet"].settings.mode
    try:
        with current_vault().unit_of_work() as uow:
            endpoint_id, secret = register_endpoint(
                uow,
                member.business_id,
                form.url.data or "",
                ticked,
                allow_loopback=mode in ("test", "demo"),
                actor=member.caller.actor,
            )
    except WebhookError as error:
        reason = str(error)
        if reason.startswith(EVENT_REASONS):
            return _webhooks_page(form, ticked, webhook_message(reason))
        form.url.errors = [*form.url.errors, webhook_message(reason)]
        return _webhooks_page(form, ticked)
    return secret_page(kind="webhook", endpoint_id=endpoint_id, url=form.url.data, secret=secret)


@blueprint.get("/settings/webhooks/<uuid:endpoint_id>")
@owner_required
def webhook(endpoint_id: uuid.UUID) -> str:
    """Show an endpoint and its delivery log, newest event first."""
    member = signed_in_staff()
    with current_vault().unit_of_work(write=False) as uow:
        try:
            row = get_endpoint(uow, member.business_id, endpoint_id)
            deliveries = deliveries_for(
                uow, endpoint_id, DELIVERY_LOG_LENGTH, business_id=member.business_id
            )
        except EndpointNotFoundError:
            abort(404)
    return render_template(
        "portal/settings/webhook.html",
        row=row,
        deliveries=deliveries,
        event_words=EVENT_WORDS,
        status_words=DELIVERY_STATUS_WORDS,
    )


@blueprint.post("/settings/webhooks/<uuid:endpoint_id>/disable", endpoint="disable_webhook")
@owner_required
def disable(endpoint_id: uuid.UUID) -> Response:
    """Stop sending events to an endpoint; what was still waiting is given up."""
    member = signed_in_staff()
    try:
        with current_vault().unit_of_work() as uow:
            disable_endpoint(
                uow, endpoint_id, business_id=member.business_id, actor=member.caller.actor
            )
    except EndpointNotFoundError:
        abort(404)
    flash(_("The endpoint is switched off: no more events are sent to it."))
    return redirect(url_for(".webhook", endpoint_id=endpoint_id), 303)
