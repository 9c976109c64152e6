"""The portal's front page: the business's day at a glance."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, url_for

from business_portal.dashboard.services import RECENT, dashboard_figures
from business_portal.records.stages import stage_label
from business_portal.staff.session import portal_today, signed_in_staff, staff_required
from vault.web_session import current_vault

blueprint = Blueprint("portal_dashboard", __name__, url_prefix="/portal")


@blueprint.route("/")
@staff_required
def dashboard() -> str:
    """Show agreements, requests, recent endings, deals per stage and my due tasks."""
    member = signed_in_staff()
    with current_vault().unit_of_work(write=False) as uow:
        figures = dashboard_figures(uow, member.business_id, member.id, portal_today())
    # The deal board is another area's page; link to it once it is there.
    has_board = "portal_deals.board" in current_app.view_functions
    return render_template(
        "portal/dashboard.html",
        board_url=url_for("portal_deals.board") if has_board else None,
        member=member,
        figures=figures,
        days=RECENT.days,
        stage_label=stage_label,
    )
