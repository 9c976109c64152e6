"""Connections: every business the customer has answered, and what they can do about each.

Narrow (untick fields), pause (GDPR Art. 18 restriction) and resume, revoke (one click and a
confirmation, as easy as granting), the agreement's history, and its signed receipts.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from schemas.agreements import AccessMode, AgreementStatus
from vault.agreements.models import Agreement
from vault.agreements.services import (
    AgreementError,
    Context,
    current_status,
    customer_agreement,
    narrow_agreement,
    restrict_agreement,
    resume_agreement,
    revoke_agreement,
)
from vault.connection_forms import NarrowForm, PauseForm, ResumeForm, RevokeForm
from vault.connection_screens import connection_cards, connection_detail, receipt_view
from vault.receipts.models import ConsentReceipt
from vault.unit_of_work import UnitOfWork
from vault.web_session import current_customer, current_vault, customer_required

blueprint = Blueprint("vault_connections", __name__, template_folder="templates")


def _ended() -> str:
    return _("This agreement has already ended, so it cannot change.")


def _customer() -> uuid.UUID:
    customer_id = current_customer()
    assert customer_id is not None  # customer_required ran first
    return customer_id


def _context() -> Context:
    return Context(
        actor="customer",
        ip=request.remote_addr,
        user_agent=request.user_agent.string,
        language=str(get_locale()),
    )


def _own(uow: UnitOfWork, agreement_id: uuid.UUID) -> Agreement:
    """Return the customer's answered agreement, or end the request with 404."""
    try:
        agreement = customer_agreement(uow, agreement_id, _customer(), lock=False)
    except AgreementError:
        abort(404)
    if agreement.status == AgreementStatus.REQUESTED or agreement.customer_id != _customer():
        abort(404)  # a pending request lives in the inbox, not here
    return agreement


def _page(agreement_id: uuid.UUID) -> str:
    return url_for("vault_connections.connection", agreement_id=agreement_id)


@blueprint.get("/connections")
@customer_required
def connections() -> str:
    """List every business the customer has answered: current ones first, then earlier ones."""
    with current_vault().unit_of_work(write=False) as uow:
        cards = connection_cards(uow, _customer())
    return render_template(
        "vault/connections.html",
        current=[c for c in cards if c.active],
        earlier=[c for c in cards if not c.active],
    )


def _render_detail(agreement_id: uuid.UUID, narrow: NarrowForm, error: str | None = None) -> str:
    with current_vault().unit_of_work(write=False) as uow:
        detail = connection_detail(uow, _own(uow, agreement_id))
    kept = set(request.form.getlist("fields")) if error else {f.key for f in detail.card.fields}
    return render_template(
        "vault/connection.html",
        detail=detail,
        narrow=narrow,
        kept=kept,
        error=error,
        pause=PauseForm(),
        resume=ResumeForm(),
    )


@blueprint.get("/connections/<uuid:agreement_id>")
@customer_required
def connection(agreement_id: uuid.UUID) -> str:
    """Show one agreement: terms, what is shared, controls, history and receipts."""
    return _render_detail(agreement_id, NarrowForm())


@blueprint.post("/connections/<uuid:agreement_id>/narrow")
@customer_required
def narrow(agreement_id: uuid.UUID) -> str | Response:
    """Keep only the ticked fields; unticking every one asks to revoke instead."""
    form = NarrowForm()
    if not form.validate_on_submit():
        abort(400)
    with current_vault().unit_of_work(write=False) as uow:
        agreement = _own(uow, agreement_id)
        granted = dict(agreement.granted_fields)
        business = agreement.business["legal_name"]
        active = current_status(agreement, uow.now()) is AgreementStatus.ACTIVE
    if not active:
        flash(_ended())
        return redirect(_page(agreement_id), 303)
    keep = {k: AccessMode(m) for k, m in granted.items() if k in request.form.getlist("fields")}
    if not keep:
        return render_template(
            "vault/revoke.html",
            form=RevokeForm(),
            business_name=business,
            agreement_id=agreement_id,
            unticked_all=True,
        )
    if keep.keys() == granted.keys():
        return _render_detail(agreement_id, form, _("Untick the fields you want to stop sharing."))
    try:
        with current_vault().unit_of_work() as uow:
            narrow_agreement(uow, agreement_id, _customer(), keep, _context())
    except AgreementError:
        flash(_ended())
    else:
        flash(_("Saved. %(name)s now sees only the fields you kept.", name=business))
    return redirect(_page(agreement_id), 303)


def _change(
    agreement_id: uuid.UUID,
    form_class: type[PauseForm] | type[ResumeForm],
    change: Callable[[UnitOfWork, uuid.UUID, uuid.UUID, Context], Agreement],
    done: Callable[[str], str],
) -> Response:
    if not form_class().validate_on_submit():
        abort(400)
    with current_vault().unit_of_work(write=False) as uow:
        business = _own(uow, agreement_id).business["legal_name"]
    try:
        with current_vault().unit_of_work() as uow:
            change(uow, agreement_id, _customer(), _context())
    except AgreementError:
        flash(_ended())
    else:
        flash(done(business))
    return redirect(_page(agreement_id), 303)


@blueprint.post("/connections/<uuid:agreement_id>/pause")
@customer_required
def pause(agreement_id: uuid.UUID) -> Response:
    """Pause the agreement (GDPR Art. 18 restriction): every read is refused until resumed."""
    return _change(
        agreement_id,
        PauseForm,
        restrict_agreement,
        lambda name: _("Paused. %(name)s cannot read anything until you resume.", name=name),
    )


@blueprint.post("/connections/<uuid:agreement_id>/resume")
@customer_required
def resume(agreement_id: uuid.UUID) -> Response:
    """Lift the pause: the agreement applies again as it stands."""
    return _change(
        agreement_id,
        ResumeForm,
        resume_agreement,
        lambda name: _("Resumed. %(name)s can read what you share again.", name=name),
    )


@blueprint.route("/connections/<uuid:agreement_id>/revoke", methods=["GET", "POST"])
@customer_required
def revoke(agreement_id: uuid.UUID) -> str | Response:
    """Ask once, then revoke: from this moment the business reads nothing more."""
    vault = current_vault()
    form = RevokeForm()
    with vault.unit_of_work(write=False) as uow:
        agreement = _own(uow, agreement_id)
        business = agreement.business["legal_name"]
        active = current_status(agreement, uow.now()) is AgreementStatus.ACTIVE
    if not active:
        flash(_ended())
        return redirect(_page(agreement_id), 303)
    if form.validate_on_submit():
        try:
            with vault.unit_of_work() as uow:
                revoke_agreement(uow, agreement_id, _customer(), _context())
        except AgreementError:
            flash(_ended())
        else:
            flash(_("Revoked. %(name)s can no longer read your data.", name=business))
        return redirect(_page(agreement_id), 303)
    return render_template(
        "vault/revoke.html", form=form, business_name=business, agreement_id=agreement_id
    )


def _receipt(uow: UnitOfWork, agreement_id: uuid.UUID, receipt_id: uuid.UUID) -> ConsentReceipt:
    _own(uow, agreement_id)
    receipt = uow.session.get(ConsentReceipt, receipt_id)
    if receipt is None or receipt.agreement_id != agreement_id:
        abort(404)
    return receipt


@blueprint.get("/connections/<uuid:agreement_id>/receipts/<uuid:receipt_id>")
@customer_required
def receipt(agreement_id: uuid.UUID, receipt_id: uuid.UUID) -> str:
    """Show a receipt's claims in words, checked against the published signing keys."""
    vault = current_vault()
    with vault.unit_of_work(write=False) as uow:
        view = receipt_view(_receipt(uow, agreement_id, receipt_id), vault.provider.public_jwks())
        business = _own(uow, agreement_id).business["legal_name"]
    return render_template(
        "vault/receipt.html", receipt=view, agreement_id=agreement_id, business_name=business
    )


@blueprint.get("/connections/<uuid:agreement_id>/receipts/<uuid:receipt_id>.jws")
@customer_required
def download_receipt(agreement_id: uuid.UUID, receipt_id: uuid.UUID) -> Response:
    """Download a receipt exactly as signed: a compact JWS anyone can check with our JWKS."""
    with current_vault().unit_of_work(write=False) as uow:
        receipt = _receipt(uow, agreement_id, receipt_id)
    response = Response(receipt.jws, mimetype="application/jose")
    response.headers["Content-Disposition"] = f'attachment; filename="receipt-{receipt.id}.jws"'
    response.headers["Cache-Control"] = "no-store"
    return response
