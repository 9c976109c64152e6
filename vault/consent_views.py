"""The consent screen: a customer answers a business's request field by field."""

from __future__ import annotations

import uuid

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from schemas.agreements import AgreementStatus, AgreementTerms
from vault.agreement_words import business_view, decision_words, terms_view
from vault.agreements.services import AgreementError, Context, customer_agreement, decide_request
from vault.connection_forms import DecisionForm
from vault.connection_screens import changes_of
from vault.web_session import (
    content_security_policy,
    current_customer,
    current_vault,
    customer_required,
    safe_next,
)

blueprint = Blueprint("vault_consent", __name__, template_folder="templates")


@blueprint.route("/consent/<uuid:agreement_id>", methods=["GET", "POST"])
@customer_required
def consent(agreement_id: uuid.UUID) -> Response:
    """Show a request and record the customer's answer."""
    customer_id = current_customer()
    assert customer_id is not None
    vault = current_vault()
    form = DecisionForm(next=request.args.get("next", ""))
    with vault.unit_of_work(write=False) as uow:
        try:
            agreement = customer_agreement(uow, agreement_id, customer_id, lock=False)
        except AgreementError:
            abort(404)
        terms = AgreementTerms.model_validate(agreement.terms)
        business = business_view(agreement.business)
        status = agreement.status
        changes = changes_of(uow, agreement)
        is_amendment = agreement.supersedes_id is not None
    # Without a return address the answer is shown where its receipt is: the connection page.
    given_next = form.next.data
    back = safe_next(given_next, url_for("vault_connections.connection", agreement_id=agreement_id))
    if status != AgreementStatus.REQUESTED:
        return redirect(back, 303)
    error = None
    modes = terms.field_modes()
    ticked = set(modes)
    if form.validate_on_submit():
        ticked = set(request.form.getlist("fields")) & set(modes)
        granted = {key: modes[key] for key in ticked}
        if form.grant.data and not granted:
            error = _("Tick at least one field to share, or choose Decline.")
        else:
            try:
                with vault.unit_of_work() as uow:
                    decide_request(
                        uow,
                        agreement_id,
                        customer_id,
                        None if form.decline.data else granted,
                        Context(
                            actor="customer",
                            ip=request.remote_addr,
                            user_agent=request.user_agent.string,
                            language=str(get_locale()),
                        ),
                    )
            except AgreementError:
                # Answered meanwhile (another tab): the first answer stands.
                return redirect(back, 303)
            if not given_next:
                flash(decision_words(business.name, 0 if form.decline.data else len(granted)))
            return redirect(back, 303)
    page = make_response(
        render_template(
            "vault/consent.html",
            form=form,
            business=business,
            terms=terms_view(terms),
            ticked=ticked,
            changes=changes,
            is_amendment=is_amendment,
            error=error,
            agreement_id=agreement_id,
        )
    )
    lookup = current_app.config.get("EMANET_CONSENT_RETURN_ORIGINS")
    if lookup is not None:
        with vault.unit_of_work(write=False) as uow:
            page.headers["Content-Security-Policy"] = content_security_policy(
                lookup(uow, agreement_id)
            )
    return page
