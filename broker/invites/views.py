"""The customer opens an invite: sign in, then the consent screen."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from broker.invites.services import InviteUnavailableError, open_invite
from vault.agreements.services import Context
from vault.unit_of_work import Vault
from vault.web_session import current_customer, customer_required

blueprint = Blueprint("invites", __name__)


@blueprint.get("/invite/<code>")
@customer_required
def open_link(code: str) -> Response | tuple[str, int]:
    """Turn the invite into this customer's request and show it."""
    vault: Vault = current_app.extensions["emanet"].vault
    customer_id = current_customer()
    assert customer_id is not None
    try:
        with vault.unit_of_work() as uow:
            agreement = open_invite(
                uow,
                code,
                customer_id,
                Context(
                    actor="customer", ip=request.remote_addr, user_agent=request.user_agent.string
                ),
            )
            agreement_id = agreement.id
    except InviteUnavailableError:
        return render_template(
            "oauth/error.html", message=_("This invitation is no longer valid.")
        ), 404
    return redirect(
        url_for(
            "vault_consent.consent",
            agreement_id=agreement_id,
            next=url_for("vault_connections.connections"),
        ),
        303,
    )
