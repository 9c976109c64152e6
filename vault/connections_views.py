"""Connections: every business the customer has an agreement with, and revoking one."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from schemas.agreements import AgreementStatus
from vault.agreements.services import (
    AgreementError,
    Context,
    current_status,
    customer_agreement,
    customer_agreements,
    revoke_agreement,
)
from vault.forms import ConfirmForm
from vault.web_session import current_customer, current_vault, customer_required

blueprint = Blueprint("vault_connections", __name__, template_folder="templates")


@blueprint.get("/connections")
@customer_required
def connections() -> str:
    """List the customer's agreements, newest first, with what each one shares."""
    customer_id = current_customer()
    assert customer_id is not None
    with current_vault().unit_of_work(write=False) as uow:
        agreements = customer_agreements(uow, customer_id)
        rows = [
            {"agreement": a, "status": current_status(a, uow.now()).value}
            for a in agreements
            if a.status != AgreementStatus.REQUESTED
        ]
    return render_template("vault/connections.html", rows=rows, form=ConfirmForm())


@blueprint.route("/connections/<uuid:agreement_id>/revoke", methods=["GET", "POST"])
@customer_required
def revoke(agreement_id: uuid.UUID) -> str | Response:
    """Ask once, then revoke: from this moment the business reads nothing more."""
    customer_id = current_customer()
    assert customer_id is not None
    vault = current_vault()
    form = ConfirmForm()
    with vault.unit_of_work(write=False) as uow:
        try:
            agreement = customer_agreement(uow, agreement_id, customer_id, lock=False)
        except AgreementError:
            abort(404)
        business = dict(agreement.business)
    if form.validate_on_submit():
        try:
            with vault.unit_of_work() as uow:
                revoke_agreement(
                    uow,
                    agreement_id,
                    customer_id,
                    Context(
                        actor="customer",
                        ip=request.remote_addr,
                        user_agent=request.user_agent.string,
                        language=str(get_locale()),
                    ),
                )
        except AgreementError as error:
            flash(str(error))
        else:
            flash(_("Revoked. %(name)s can no longer read your data.", name=business["legal_name"]))
        return redirect(url_for("vault_connections.connections"), 303)
    return render_template(
        "vault/revoke.html", form=form, business=business, agreement_id=agreement_id
    )
