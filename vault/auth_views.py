"""Sign in, sign up and sign out of the web vault."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from schemas.field_errors import FieldValueError
from vault.accounts.passwords import PasswordPolicyError
from vault.accounts.services import EmailTakenError, authenticate, create_customer
from vault.forms import LoginForm, SignupForm
from vault.web_session import current_vault, safe_next, sign_in, sign_out

blueprint = Blueprint("vault_auth", __name__, template_folder="templates")


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    """Sign a customer in."""
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        with current_vault().unit_of_work(write=False) as uow:
            customer_id = authenticate(uow, form.email.data or "", form.password.data or "")
        if customer_id is not None:
            sign_in(customer_id)
            return redirect(safe_next(form.next.data, url_for("vault.index")), 303)
        form.password.errors.append(_("The e-mail address or the password is not right."))
    return render_template("vault/login.html", form=form)


@blueprint.route("/signup", methods=["GET", "POST"])
def signup() -> str | Response:
    """Open a new vault."""
    form = SignupForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            with current_vault().unit_of_work() as uow:
                customer_id = create_customer(
                    uow,
                    form.email.data or "",
                    form.password.data or "",
                    locale=str(request.cookies.get("lang") or "en")
                    if request.cookies.get("lang") in ("en", "az", "tr")
                    else "en",
                )
        except FieldValueError:
            form.email.errors.append(_("This is not an e-mail address we can use."))
        except EmailTakenError:
            form.email.errors.append(_("An account with this e-mail address already exists."))
        except PasswordPolicyError:
            form.password.errors.append(
                _("Use at least 12 characters; a few words make a strong one.")
            )
        else:
            sign_in(customer_id)
            return redirect(safe_next(form.next.data, url_for("vault.index")), 303)
    return render_template("vault/signup.html", form=form)


@blueprint.post("/logout")
def logout() -> Response:
    """Sign out."""
    sign_out()
    return redirect(url_for("vault.index"), 303)
