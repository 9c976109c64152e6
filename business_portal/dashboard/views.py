"""The portal's front page: the business's day at a glance."""

from __future__ import annotations

from flask import Blueprint, render_template

from business_portal.staff.session import signed_in_staff, staff_required

blueprint = Blueprint("portal_dashboard", __name__, url_prefix="/portal")


@blueprint.route("/")
@staff_required
def dashboard() -> str:
    """Show the dashboard."""
    return render_template("portal/dashboard.html", member=signed_in_staff())
