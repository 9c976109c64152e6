"""Auditors sign in to the console at /portal/compliance/login and out at …/logout.

Staff of a business sign in at the portal's own sign-in page; the console lets in those of
them with the compliance or owner role.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from business_portal.compliance.access import sign_in_auditor
from business_portal.compliance.forms import AuditorLoginForm
from business_portal.compliance.services.auditors import authenticate_auditor
from vault.web_session import current_vault, safe_next


def login() -> str | Response:
    """Sign an auditor in with their e-mail and password."""
    form = AuditorLoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        with current_vault().unit_of_work() as uow:
            auditor = authenticate_auditor(uow, form.email.data or "", form.password.data or "")
        if auditor is not None:
            sign_in_auditor(auditor)
            target = safe_next(form.next.data, url_for("portal_compliance.registry"))
            return redirect(target, 303)
        form.password.errors = [_("The e-mail address or the password is not right.")]
    return render_template("portal/compliance/login.html", form=form)


def logout() -> Response:
    """End the auditor's session."""
    session.clear()
    return redirect(url_for("portal_compliance.login"), 303)


def register(blueprint: Blueprint) -> None:
    """Route the sign-in pages on the console's blueprint."""
    blueprint.add_url_rule("/login", "login", login, methods=["GET", "POST"])
    blueprint.add_url_rule("/logout", "logout", logout, methods=["POST"])
