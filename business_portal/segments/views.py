"""RFM segments at /portal/segments: counts, recompute, member lists and CSV export."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import ngettext
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response as BaseResponse

from business_portal.segments.labels import SEGMENT_DESCRIPTIONS, segment_label
from business_portal.segments.read_model import segment_export, segment_members, segment_summary
from business_portal.segments.rfm import SEGMENT_CODES
from business_portal.segments.services import recompute_segments
from business_portal.staff.session import change_required, signed_in_staff, staff_required
from vault.web_session import current_vault

blueprint = Blueprint("portal_segments", __name__, url_prefix="/portal")


def customer_url(subject: str) -> str:
    """Return the address of a customer's card."""
    try:
        return url_for("portal_card.card", subject=subject)
    except BuildError:  # the card's page is another area's; its address is agreed on
        return f"{request.script_root}/portal/customers/{subject}"


@blueprint.get("/segments")
@staff_required
def segments() -> str:
    """Show how many customers each segment holds now."""
    member = signed_in_staff()
    with current_vault().unit_of_work(write=False) as uow:
        summary = segment_summary(uow, member.business_id)
    return render_template(
        "portal/segments/segments.html",
        member=member,
        summary=summary,
        codes=SEGMENT_CODES,
        label=segment_label,
        descriptions=SEGMENT_DESCRIPTIONS,
    )


@blueprint.post("/segments", endpoint="recompute")
@change_required
def recompute() -> BaseResponse:
    """Score the customers again from the purchases logged so far."""
    member = signed_in_staff()
    with current_vault().unit_of_work() as uow:
        scored = recompute_segments(uow, member.caller, member.business_id)
    flash(ngettext("Scored %(num)s customer.", "Scored %(num)s customers.", scored))
    return redirect(url_for("portal_segments.segments"), 303)


@blueprint.get("/segments/<code>", endpoint="segment_members")
@staff_required
def segment_members_page(code: str) -> str:
    """List a segment's customers with their scores."""
    if code not in SEGMENT_CODES:
        abort(404)
    member = signed_in_staff()
    page = request.args.get("page", 1, type=int)
    with current_vault().unit_of_work(write=False) as uow:
        listing = segment_members(uow, member.business_id, code, page)
    return render_template(
        "portal/segments/members.html",
        code=code,
        name=segment_label(code),
        description=SEGMENT_DESCRIPTIONS[code],
        listing=listing,
        customer_url=customer_url,
    )


@blueprint.get("/segments/<code>.csv")
@staff_required
def segment_csv(code: str) -> Response:
    """Download a segment's pairwise ids and granted fields, read through the gate."""
    if code not in SEGMENT_CODES:
        abort(404)
    member = signed_in_staff()
    with current_vault().unit_of_work() as uow:
        export = segment_export(uow, member.caller, member.business_id, code)
    response = Response(export.csv(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="segment-{code}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response
