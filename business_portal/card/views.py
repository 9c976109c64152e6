"""The customer card at /portal/customers/<subject> and its quick actions.

Every route first finds the customer connected to the staff member's business now; anyone
else's customer, or one whose agreement ended, is "not found". Changes need an owner or an
agent; a form with a problem comes back with the input kept and the message beside it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, to_user_timezone
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from broker.gate import AccessDenied
from business_portal.card import amendments, services
from business_portal.card.forms import (
    TERM_CHOICES,
    AmendmentForm,
    LogInteractionForm,
    NoteForm,
    RemoveTagForm,
    TagForm,
    currency_choices,
    log_entry,
    text_message,
)
from business_portal.card.links import deal_link, new_record_link, task_list_link
from business_portal.card.screens import card_view, field_label
from business_portal.card.services import InteractionsNotGrantedError, NotConnectedError
from business_portal.card.timeline import timeline_items
from business_portal.notes import services as notes
from business_portal.records.connections import visible_subjects
from business_portal.staff.services import StaffMember
from business_portal.staff.session import change_required, signed_in_staff, staff_required
from schemas.agreements import INTERACTIONS, AgreementTerms
from schemas.field_catalogue import FIELD_CATALOGUE
from vault.agreement_words import duration_words, purpose_words
from vault.agreements.services import Context
from vault.web_session import current_vault

blueprint = Blueprint("portal_card", __name__, url_prefix="/portal")


def _card_url(subject: str, anchor: str | None = None) -> str:
    return url_for("portal_card.card", subject=subject, _anchor=anchor)


def _connected(subject: str) -> StaffMember:
    """Return the staff member if the customer is connected to their business, else 404."""
    member = signed_in_staff()
    with current_vault().unit_of_work(write=False) as uow:
        if not visible_subjects(uow, member.business_id, {subject}):
            abort(404)
    return member


def _log_form(formdata: bool = True) -> LogInteractionForm:
    form = LogInteractionForm() if formdata else LogInteractionForm(formdata=None)
    form.set_currencies(currency_choices(str(get_locale())))
    if not formdata:
        now = to_user_timezone(current_vault().clock())
        form.occurred_at.data = now.replace(second=0, microsecond=0, tzinfo=None)
    return form


def _offer(form: AmendmentForm, agreements: Iterable[tuple[uuid.UUID, AgreementTerms]]) -> None:
    labels = {key: field_label(key) for key in [*FIELD_CATALOGUE, INTERACTIONS]}
    terms = {code: duration_words(code) for code in TERM_CHOICES}
    offered = [(a_id, purpose_words(t.purpose.value), t.field_modes()) for a_id, t in agreements]
    form.offer(offered, terms, labels)


def _render(subject: str, **forms: FlaskForm) -> str:
    """Show the card with these forms as submitted, and fresh ones for the rest."""
    member = signed_in_staff()
    vault = current_vault()
    with vault.unit_of_work() as uow:
        try:
            facts = services.card_facts(uow, member.caller, subject)
        except NotConnectedError:
            abort(404)
    amend = forms.get("amend") or AmendmentForm(formdata=None)
    _offer(amend, [(a.id, a.terms) for a in facts.agreements])
    timeline, truncated = timeline_items(facts, deal_link, task_list_link())
    return render_template(
        "portal/card/card.html",
        card=card_view(facts, to_user_timezone(vault.clock()).date(), deal_link),
        timeline=timeline,
        truncated=truncated,
        can_change=member.can_change,
        can_log=facts.can_log_interactions,
        log=forms.get("log") or _log_form(formdata=False),
        note=forms.get("note") or NoteForm(formdata=None),
        tag=forms.get("tag") or TagForm(formdata=None),
        amend=amend,
        untag=RemoveTagForm(formdata=None),
        open_section=next(iter(forms), None),
        new_task_url=new_record_link(
            "portal_tasks.new_task", "/portal/tasks/new", subject, _card_url(subject)
        ),
        new_deal_url=new_record_link("portal_deals.new_deal", "/portal/deals/new", subject),
    )


@blueprint.get("/customers/<subject>")
@staff_required
def card(subject: str) -> str:
    """Show one connected customer: fields, agreement, timeline and quick actions."""
    return _render(subject)


@blueprint.post("/customers/<subject>/interactions")
@change_required
def log_interaction(subject: str) -> str | Response:
    """Log a call, visit, e-mail, ticket or purchase in the customer's vault, through the gate."""
    member = _connected(subject)
    form = _log_form()
    entry = log_entry(form) if form.validate_on_submit() else None
    if entry is not None:
        try:
            with current_vault().unit_of_work() as uow:
                services.log_contact(uow, member.caller, subject, entry)
        except NotConnectedError:
            abort(404)
        except (InteractionsNotGrantedError, AccessDenied):
            form.kind.errors = [_("The customer's agreement does not let you add interactions.")]
        else:
            flash(_("Logged in the customer's vault."))
            return redirect(_card_url(subject, "timeline"), 303)
    return _render(subject, log=form)


@blueprint.post("/customers/<subject>/notes")
@change_required
def add_note(subject: str) -> str | Response:
    """Add a note about the customer, sealed under the business's key."""
    member = _connected(subject)
    form = NoteForm()
    if form.validate_on_submit():
        try:
            with current_vault().unit_of_work() as uow:
                notes.add_note(
                    uow, member.business_id, subject, form.body.data or "", author_id=member.id
                )
        except notes.NotConnectedError:
            abort(404)
        except notes.NoteInputError as error:
            form.body.errors = [text_message(error.code, "body")]
        else:
            flash(_("Note added."))
            return redirect(_card_url(subject, "timeline"), 303)
    return _render(subject, note=form)


@blueprint.post("/customers/<subject>/tags")
@change_required
def add_tag(subject: str) -> str | Response:
    """Put a tag on the customer (one spelling per tag, whatever the case)."""
    member = _connected(subject)
    form = TagForm()
    if form.validate_on_submit():
        try:
            with current_vault().unit_of_work() as uow:
                notes.add_tag(uow, member.business_id, subject, form.tag.data or "")
        except notes.NotConnectedError:
            abort(404)
        except notes.NoteInputError as error:
            form.tag.errors = [text_message(error.code, "tag")]
        else:
            flash(_("Tag added."))
            return redirect(_card_url(subject, "tags"), 303)
    return _render(subject, tag=form)


@blueprint.post("/customers/<subject>/tags/remove")
@change_required
def remove_tag(subject: str) -> Response:
    """Take a tag off the customer."""
    member = _connected(subject)
    form = RemoveTagForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with current_vault().unit_of_work() as uow:
            removed = notes.remove_tag(uow, member.business_id, subject, form.tag.data or "")
    except notes.NotConnectedError:
        abort(404)
    if removed:
        flash(_("Tag removed."))
    return redirect(_card_url(subject, "tags"), 303)


@blueprint.post("/customers/<subject>/amendments")
@change_required
def request_amendment(subject: str) -> str | Response:
    """Ask the customer for more fields or a longer term; it waits in their inbox."""
    member = _connected(subject)
    with current_vault().unit_of_work(write=False) as uow:
        try:
            current = amendments.amendable_agreements(uow, member.business_id, subject)
        except NotConnectedError:
            abort(404)
    form = AmendmentForm()
    _offer(form, current)
    amendment = form.amendment() if form.validate_on_submit() else None
    if amendment is not None:
        context = Context(
            actor=member.caller.actor,
            ip=request.remote_addr,
            user_agent=request.user_agent.string,
        )
        agreement_id = uuid.UUID(form.agreement.data or "")
        try:
            with current_vault().unit_of_work() as uow:
                amendments.request_amendment(
                    uow, member.business_id, subject, agreement_id, amendment, context
                )
        except NotConnectedError:
            abort(404)
        except amendments.AmendmentError as error:
            form.refused(error)
        else:
            flash(_("Sent. The request waits in the customer's inbox until they answer."))
            return redirect(_card_url(subject, "agreement"), 303)
    return _render(subject, amend=form)


@blueprint.get("/customers/<subject>/receipts/<uuid:receipt_id>.jws")
@staff_required
def download_receipt(subject: str, receipt_id: uuid.UUID) -> Response:
    """Download a consent receipt exactly as signed: a compact JWS, checkable with our JWKS."""
    member = signed_in_staff()
    with current_vault().unit_of_work(write=False) as uow:
        try:
            receipt = services.customer_receipt(uow, member.business_id, subject, receipt_id)
        except (NotConnectedError, services.ReceiptNotFoundError):
            abort(404)
        jws = receipt.jws
    response = Response(jws, mimetype="application/jose")
    response.headers["Content-Disposition"] = f'attachment; filename="receipt-{receipt_id}.jws"'
    response.headers["Cache-Control"] = "no-store"
    return response
