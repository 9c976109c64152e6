"""Sign in (with a second step when two-factor sign-in is on), sign up and sign out.

Between a right password and a right code the session holds only a "pending sign-in" (who,
where to go next, until when, and the account's session stamp) and no `customer_id`, so no
page treats the visitor as signed in until the code is right.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from schemas.field_errors import FieldValueError
from vault.account_forms import SignInCodeForm
from vault.accounts.passwords import PasswordPolicyError
from vault.accounts.services import (
    EmailTakenError,
    authenticate,
    create_customer,
    session_facts,
)
from vault.accounts.two_factor import (
    CodeResult,
    TwoFactorStateError,
    check_sign_in_code,
    two_factor_required,
)
from vault.errors import CustomerNotFoundError
from vault.forms import LoginForm, SignupForm
from vault.web_session import current_vault, safe_next, sign_in, sign_out

blueprint = Blueprint("vault_auth", __name__, template_folder="templates")

PENDING_KEY = "pending_sign_in"
STAMP_KEY = "auth_stamp"
PENDING_SECONDS = 300


@dataclass(frozen=True)
class PendingSignIn:
    """A sign-in whose password was right and whose code is still to come."""

    customer_id: uuid.UUID
    next: str
    stamp: str


def start_session(customer_id: uuid.UUID, stamp: str) -> None:
    """Sign the customer in on a fresh session that carries the account's session stamp."""
    sign_in(customer_id)
    session[STAMP_KEY] = stamp


def _now() -> int:
    return int(current_vault().clock().timestamp())


def _pending() -> PendingSignIn | None:
    raw = session.get(PENDING_KEY)
    if not isinstance(raw, dict) or not isinstance(raw.get("until"), int):
        return None
    if raw["until"] < _now():
        return None
    try:
        return PendingSignIn(
            uuid.UUID(str(raw["customer_id"])), str(raw["next"]), str(raw["stamp"])
        )
    except (KeyError, ValueError):
        return None


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    """Sign a customer in: the password, then a code if two-factor sign-in is on."""
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        needs_code, stamp = False, ""
        with current_vault().unit_of_work(write=False) as uow:
            customer_id = authenticate(uow, form.email.data or "", form.password.data or "")
            facts = session_facts(uow, customer_id) if customer_id else None
            if customer_id is not None and facts is not None:
                needs_code = two_factor_required(uow, customer_id)
                stamp = facts.stamp
        target = safe_next(form.next.data, url_for("vault.index"))
        if customer_id is not None and facts is not None:
            if not needs_code:
                start_session(customer_id, stamp)
                return redirect(target, 303)
            session.clear()
            session[PENDING_KEY] = {
                "customer_id": str(customer_id),
                "next": target,
                "stamp": stamp,
                "until": _now() + PENDING_SECONDS,
            }
            return redirect(url_for("vault_auth.two_factor"), 303)
        form.password.errors.append(_("The e-mail address or the password is not right."))
    return render_template("vault/login.html", form=form)


@blueprint.route("/login/code", methods=["GET", "POST"])
def two_factor() -> str | Response:
    """The second step of signing in: a code from the customer's authenticator app."""
    pending = _pending()
    if pending is None:
        session.pop(PENDING_KEY, None)
        return redirect(url_for("vault_auth.login"), 303)
    form = SignInCodeForm()
    if form.validate_on_submit():
        result = None
        try:
            with current_vault().unit_of_work() as uow:
                facts = session_facts(uow, pending.customer_id)
                if facts is not None and facts.stamp == pending.stamp:
                    result = check_sign_in_code(uow, pending.customer_id, form.code.data or "")
        except (CustomerNotFoundError, TwoFactorStateError):
            result = None  # two-factor sign-in was turned off meanwhile: start again
        if result is None:
            session.pop(PENDING_KEY, None)
            return redirect(url_for("vault_auth.login"), 303)
        if result is CodeResult.ACCEPTED:
            start_session(pending.customer_id, pending.stamp)
            return redirect(safe_next(pending.next, url_for("vault.index")), 303)
        if result is CodeResult.LOCKED:
            form.code.errors.append(_("Too many wrong codes. Wait 15 minutes, then try again."))
        else:
            form.code.errors.append(
                _("This code is not right. Enter the newest code your app shows.")
            )
    return render_template("vault/login_code.html", form=form)


@blueprint.route("/signup", methods=["GET", "POST"])
def signup() -> str | Response:
    """Open a new vault, in the language the page is shown in."""
    form = SignupForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            with current_vault().unit_of_work() as uow:
                customer_id = create_customer(
                    uow, form.email.data or "", form.password.data or "", locale=str(get_locale())
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
            start_session(customer_id, "")
            return redirect(safe_next(form.next.data, url_for("vault.index")), 303)
    return render_template("vault/signup.html", form=form)


@blueprint.post("/logout")
def logout() -> Response:
    """Sign out."""
    sign_out()
    return redirect(url_for("vault.index"), 303)
