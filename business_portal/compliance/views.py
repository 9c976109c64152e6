"""The compliance console at /portal/compliance/: the registry and each agreement's record.

Officers read, flag, comment and sign off; no route here changes an agreement or customer
data. Sign-in, verification and reports are routed from `auth_views` and `report_views`.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from pydantic import ValidationError
from werkzeug.wrappers import Response as BaseResponse

from business_portal.compliance import auth_views, report_views, words
from business_portal.compliance.access import (
    Officer,
    compliance_required,
    current_officer,
    signed_in_officer,
)
from business_portal.compliance.forms import (
    REVIEW_MESSAGES,
    DayField,
    RegistryFilterForm,
    ReviewForm,
)
from business_portal.compliance.screens import (
    agreement_screen,
    business_choices,
    field_choices,
    iso,
    registry_csv_header,
)
from business_portal.compliance.services.dossier import check_receipt, find_agreement
from business_portal.compliance.services.flags import agreement_flags
from business_portal.compliance.services.registry import (
    RegistryFilter,
    registry_page,
    registry_rows,
)
from business_portal.compliance.services.reviews import (
    ReviewIn,
    business_templates,
    record_review,
)
from schemas.spreadsheet_cells import csv_cell
from vault.web_session import current_vault

blueprint = Blueprint("portal_compliance", __name__, url_prefix="/portal/compliance")
auth_views.register(blueprint)
report_views.register(blueprint)
MAX_SEQ = 2**63 - 1


@blueprint.context_processor
def console_context() -> dict[str, object]:
    """Give every console page the officer and the console's words."""
    return {"officer": current_officer(), "cw": words}


def _chosen(form: RegistryFilterForm, name: str) -> str | None:
    item = form[name]
    return None if item.errors or not item.data else str(item.data)


def _day(item: DayField) -> date | None:
    return None if item.errors else item.data


def _filters(form: RegistryFilterForm, officer: Officer) -> RegistryFilter:
    """Return the filters the form holds; a value with an error beside it filters nothing."""
    form.validate()
    business = _chosen(form, "business") if officer.is_auditor else None
    return RegistryFilter(
        status=_chosen(form, "status"),
        purpose=_chosen(form, "purpose"),
        field=_chosen(form, "field"),
        business_id=uuid.UUID(business) if business else None,
        granted_from=_day(form.granted_from),
        granted_to=_day(form.granted_to),
        review=_chosen(form, "review"),
    )


def _filter_form(officer: Officer) -> RegistryFilterForm:
    form = RegistryFilterForm(request.args)
    with current_vault().unit_of_work(write=False) as uow:
        businesses = business_choices(uow) if officer.is_auditor else []
    form.offer(field_choices(), businesses)
    return form


@blueprint.get("/")
@compliance_required
def registry() -> str:
    """List the agreements in the officer's scope, filtered and paged."""
    officer = signed_in_officer()
    form = _filter_form(officer)
    filters = _filters(form, officer)
    with current_vault().unit_of_work(write=False) as uow:
        page = registry_page(uow, officer.business_id, filters, request.args.get("page", 1, int))
    query = {k: v for k, v in request.args.items() if v and k != "page"}
    return render_template("portal/compliance/registry.html", form=form, page=page, query=query)


@blueprint.get("/agreements.csv")
@compliance_required
def registry_csv() -> Response:
    """Export the filtered registry as CSV (no cell can run as a formula)."""
    officer = signed_in_officer()
    filters = _filters(_filter_form(officer), officer)
    vault = current_vault()

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(registry_csv_header())
        with vault.unit_of_work(write=False) as uow:
            for row in registry_rows(uow, officer.business_id, filters):
                writer.writerow(
                    csv_cell(value)
                    for value in (
                        row.agreement_id,
                        row.subject or "",
                        row.business_name,
                        row.purpose,
                        " ".join(row.granted),
                        " ".join(row.requested),
                        "paused" if row.restricted and row.status == "active" else row.status,
                        row.version,
                        iso(row.granted_at),
                        iso(row.valid_until),
                        row.retention,
                        iso(row.last_access),
                        row.review,
                    )
                )
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    response = Response(stream_with_context(lines()), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="agreements.csv"'
    return response


def _agreement_page(agreement_id: uuid.UUID, form: ReviewForm | None = None) -> str:
    officer = signed_in_officer()
    before = request.args.get("before", type=int)
    before = before if before is not None and 0 < before <= MAX_SEQ else None
    with current_vault().unit_of_work(write=False) as uow:
        agreement = find_agreement(uow, officer.business_id, agreement_id)
        if agreement is None:
            abort(404)
        screen = agreement_screen(uow, agreement, before)
    if form is None:
        form = ReviewForm()
    form.offer(screen.templates)
    return render_template("portal/compliance/agreement.html", s=screen, form=form)


@blueprint.get("/agreements/<uuid:agreement_id>")
@compliance_required
def agreement(agreement_id: uuid.UUID) -> str:
    """Show one agreement's whole record."""
    return _agreement_page(agreement_id)


@blueprint.post("/agreements/<uuid:agreement_id>/reviews")
@compliance_required
def review(agreement_id: uuid.UUID) -> str | BaseResponse:
    """Add a comment, a change request or a sign-off to the agreement's review."""
    officer = signed_in_officer()
    form = ReviewForm()
    with current_vault().unit_of_work() as uow:
        agreement = find_agreement(uow, officer.business_id, agreement_id)
        if agreement is None:
            abort(404)
        form.offer([(str(i), n) for i, n in business_templates(uow, agreement.business_id)])
        if form.validate_on_submit():
            try:
                step = ReviewIn(
                    kind=form.kind.data,
                    comment=(form.comment.data or "").strip() or None,
                    template_id=uuid.UUID(form.template.data) if form.template.data else None,
                )
            except ValidationError as error:
                for problem in error.errors():
                    target = form.template if "template" in problem["type"] else form.comment
                    target.errors = [REVIEW_MESSAGES.get(problem["type"], problem["msg"])]
            else:
                flags = [flag.code for flag in agreement_flags(uow, agreement)]
                record_review(
                    uow, agreement, step, actor=officer.actor, actor_name=officer.name, flags=flags
                )
                flash(_("Added to the review."))
                url = url_for(".agreement", agreement_id=agreement_id, _anchor="review")
                return redirect(url, 303)
    return _agreement_page(agreement_id, form)


@blueprint.post("/agreements/<uuid:agreement_id>/receipts/<uuid:receipt_id>/verify")
@compliance_required
def verify_receipt(agreement_id: uuid.UUID, receipt_id: uuid.UUID) -> str:
    """Check a receipt's signature against the published JWKS and show what was found."""
    officer = signed_in_officer()
    with current_vault().unit_of_work(write=False) as uow:
        agreement = find_agreement(uow, officer.business_id, agreement_id)
        check = check_receipt(uow, agreement, receipt_id) if agreement is not None else None
        if agreement is None or check is None:
            abort(404)
    jwks_url = current_vault().issuer.rstrip("/") + "/.well-known/jwks.json"
    return render_template(
        "portal/compliance/receipt.html", agreement=agreement, check=check, jwks_url=jwks_url
    )
