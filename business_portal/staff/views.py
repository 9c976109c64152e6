"""Staff sign-in and sign-out at /portal/login and /portal/logout."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from business_portal.staff.forms import StaffLoginForm
from business_portal.staff.services import authenticate_staff
from business_portal.staff.session import sign_in_staff, sign_out_staff
from vault.web_session import current_vault, safe_next

# Carries the portal's templates and static files for every portal blueprint.
blueprint = Blueprint(
    "portal_staff",
    __name__,
    url_prefix="/portal",
    template_folder="../templates",
    static_folder="../static",
    static_url_path="/static",
)


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    """Sign a staff member in with their work e-mail and password."""
    form = StaffLoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        with current_vault().unit_of_work() as uow:
            member = authenticate_staff(uow, form.email.data or "", form.password.data or "")
        if member is not None:
            sign_in_staff(member)
            return redirect(safe_next(form.next.data, url_for("portal_dashboard.dashboard")), 303)
        form.password.errors = [_("The e-mail address or the password is not right.")]
    return render_template("portal/login.html", form=form)


@blueprint.route("/logout", methods=["POST"])
def logout() -> Response:
    """End the staff member's session."""
    sign_out_staff()
    return redirect(url_for("portal_staff.login"), 303)
