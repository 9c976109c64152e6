"""The consent screen: a customer answers a business's request field by field."""

from __future__ import annotations

import uuid

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from schemas.agreements import INTERACTIONS, AccessMode, AgreementStatus, AgreementTerms
from schemas.field_catalogue import FIELD_CATALOGUE, Sensitivity
from vault.agreements.services import AgreementError, Context, customer_agreement, decide_request
from vault.forms import ConsentForm
from vault.web_session import (
    content_security_policy,
    current_customer,
    current_vault,
    customer_required,
    safe_next,
)

blueprint = Blueprint("vault_consent", __name__, template_folder="templates")


def _field_rows(terms: AgreementTerms, locale: str) -> list[dict[str, object]]:
    rows = []
    for requested in terms.fields:
        if requested.key == INTERACTIONS:
            label = _("Your interactions with this business")
            sensitive = False
        else:
            spec = FIELD_CATALOGUE[requested.key]
            label = spec.label(locale)
            sensitive = spec.sensitivity is Sensitivity.HIGH
        rows.append(
            {
                "key": requested.key,
                "label": label,
                "mode": requested.mode.value,
                "sensitive": sensitive,
            }
        )
    return rows


@blueprint.route("/consent/<uuid:agreement_id>", methods=["GET", "POST"])
@customer_required
def consent(agreement_id: uuid.UUID) -> Response:
    """Show a request and record the customer's answer."""
    customer_id = current_customer()
    assert customer_id is not None
    vault = current_vault()
    form = ConsentForm(next=request.args.get("next", ""))
    with vault.unit_of_work(write=False) as uow:
        try:
            agreement = customer_agreement(uow, agreement_id, customer_id, lock=False)
        except AgreementError:
            abort(404)
        terms = AgreementTerms.model_validate(agreement.terms)
        business = dict(agreement.business)
        status = agreement.status
    back = safe_next(form.next.data, url_for("vault.index"))
    if status != AgreementStatus.REQUESTED:
        return redirect(back, 303)
    error = None
    if form.validate_on_submit():
        ticked = set(request.form.getlist("fields"))
        modes = terms.field_modes()
        granted = {key: modes[key] for key in ticked if key in modes}
        if form.grant.data and not granted:
            error = _("Tick at least one field to share, or choose Decline.")
        else:
            with vault.unit_of_work() as uow:
                decide_request(
                    uow,
                    agreement_id,
                    customer_id,
                    None if form.decline.data else {k: AccessMode(m) for k, m in granted.items()},
                    Context(
                        actor="customer",
                        ip=request.remote_addr,
                        user_agent=request.user_agent.string,
                        language=str(get_locale()),
                    ),
                )
            return redirect(back, 303)
    page = make_response(
        render_template(
            "vault/consent.html",
            form=form,
            business=business,
            terms=terms,
            fields=_field_rows(terms, str(get_locale())),
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
