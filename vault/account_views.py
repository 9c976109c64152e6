"""The account page: sign-in e-mail, language, password, two-factor sign-in, deleting it all.

Also the check every signed-in request passes: the session must carry the account's current
session stamp (a password change moves it, ending every older session) and the account must
still exist. The check leaves the saved language in `g` for `emanet.i18n.select_locale`.
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from vault.account_forms import (
    DeleteAccountForm,
    LanguageForm,
    PasswordChangeForm,
    TwoFactorConfirmForm,
    TwoFactorDisableForm,
    TwoFactorStartForm,
)
from vault.accounts import two_factor
from vault.accounts.deletion import delete_account, verify_erasure
from vault.accounts.passwords import PasswordPolicyError
from vault.accounts.services import (
    WrongPasswordError,
    account_summary,
    change_password,
    session_facts,
    set_locale,
)
from vault.accounts.two_factor import CodeResult, TwoFactorStateError
from vault.auth_views import STAMP_KEY, start_session
from vault.web_session import current_customer, current_vault, customer_required, sign_out

blueprint = Blueprint("vault_account", __name__, template_folder="templates")

ERASURE_KEY = "erasure_receipt"
ERASURE_SECONDS = 3600
COOKIE_BUDGET = 3800
LANG_COOKIE_SECONDS = 365 * 24 * 3600
DESTROYED_WORDS = {
    "data_key": _l("The key that encrypted your vault"),
    "profile_fields": _l("Your profile"),
    "profile_history": _l("The history of your profile"),
    "interactions": _l("Your interactions with businesses"),
    "login_email": _l("Your sign-in e-mail address"),
    "password_hash": _l("Your password"),
    "two_factor_secret": _l("Your two-factor key"),
}


@blueprint.before_app_request
def check_session() -> None:
    """End a session made before the password changed, or whose account is gone."""
    customer_id = current_customer()
    if customer_id is None or (request.endpoint or "").endswith("static"):
        return
    with current_vault().unit_of_work(write=False) as uow:
        facts = session_facts(uow, customer_id)
    if facts is None or facts.stamp != session.get(STAMP_KEY, ""):
        sign_out()
        if facts is not None:
            with force_locale(facts.locale):
                flash(_("Your password was changed, so you were signed out here."))
        return
    g.customer_locale = facts.locale


def _customer() -> uuid.UUID:
    customer_id = current_customer()
    assert customer_id is not None  # customer_required let the request in
    return customer_id


def _account_page(status: int = 200, **forms: Any) -> tuple[str, int]:
    customer_id = _customer()
    with current_vault().unit_of_work(write=False) as uow:
        summary = account_summary(uow, customer_id)
        pending = two_factor.pending_setup(uow, customer_id) is not None
    defaults = {
        "language_form": LanguageForm(prefix="language", locale=summary.locale),
        "password_form": PasswordChangeForm(prefix="password"),
        "start_form": TwoFactorStartForm(prefix="twofactor"),
        "disable_form": TwoFactorDisableForm(prefix="twofactoroff"),
    }
    defaults.update(forms)
    html = render_template("vault/account.html", summary=summary, setup_waiting=pending, **defaults)
    return html, status


@blueprint.get("/account")
@customer_required
def account() -> tuple[str, int]:
    """Show the account's e-mail, language, password and two-factor settings."""
    return _account_page()


@blueprint.post("/account/language")
@customer_required
def language() -> Response | tuple[str, int]:
    """Save the language the vault is shown in, for this account and this browser."""
    form = LanguageForm(prefix="language")
    if not form.validate_on_submit():
        return _account_page(language_form=form)
    code = str(form.locale.data)
    with current_vault().unit_of_work() as uow:
        set_locale(uow, _customer(), code)
    with force_locale(code):
        flash(_("Your vault is now shown in this language."))
    response = redirect(url_for("vault_account.account"), 303)
    response.set_cookie(
        "lang", code, max_age=LANG_COOKIE_SECONDS, secure=True, httponly=True, samesite="Lax"
    )
    return response


@blueprint.post("/account/password")
@customer_required
def password() -> Response | tuple[str, int]:
    """Change the password; every other session of the account ends."""
    form = PasswordChangeForm(prefix="password")
    if form.validate_on_submit():
        customer_id = _customer()
        try:
            with current_vault().unit_of_work() as uow:
                stamp = change_password(
                    uow, customer_id, form.current.data or "", form.new.data or ""
                )
        except WrongPasswordError:
            form.current.errors.append(_("This is not your current password."))
        except PasswordPolicyError:
            form.new.errors.append(_("Use at least 12 characters; a few words make a strong one."))
        else:
            start_session(customer_id, stamp)
            flash(_("Your password is changed. Every other session was signed out."))
            return redirect(url_for("vault_account.account"), 303)
    return _account_page(password_form=form)


@blueprint.post("/account/two-factor/start")
@customer_required
def two_factor_start() -> Response | tuple[str, int]:
    """Make a new secret for the authenticator app and show it."""
    form = TwoFactorStartForm(prefix="twofactor")
    if not form.validate_on_submit():
        return _account_page(start_form=form)
    try:
        with current_vault().unit_of_work() as uow:
            two_factor.begin_two_factor(uow, _customer())
    except TwoFactorStateError:
        return redirect(url_for("vault_account.account"), 303)
    return redirect(url_for("vault_account.two_factor_setup"), 303)


@blueprint.route("/account/two-factor", methods=["GET", "POST"])
@customer_required
def two_factor_setup() -> Response | str:
    """Show the QR code and the secret; turn two-factor sign-in on with the app's first code."""
    customer_id = _customer()
    form = TwoFactorConfirmForm()
    with current_vault().unit_of_work(write=False) as uow:
        setup = two_factor.pending_setup(uow, customer_id)
    if setup is None:
        return redirect(url_for("vault_account.account"), 303)
    if form.validate_on_submit():
        try:
            with current_vault().unit_of_work() as uow:
                result = two_factor.confirm_two_factor(uow, customer_id, form.code.data or "")
        except TwoFactorStateError:
            return redirect(url_for("vault_account.account"), 303)
        if result is CodeResult.ACCEPTED:
            flash(_("Two-factor sign-in is on. You will need a code each time you sign in."))
            return redirect(url_for("vault_account.account"), 303)
        form.code.errors.append(_code_error(result))
    return render_template("vault/totp_setup.html", form=form, setup=setup)


def _code_error(result: CodeResult) -> str:
    if result is CodeResult.LOCKED:
        return _("Too many wrong codes. Wait 15 minutes, then try again.")
    return _("This code is not right. Enter the newest code your app shows.")


@blueprint.post("/account/two-factor/off")
@customer_required
def two_factor_off() -> Response | tuple[str, int]:
    """Turn two-factor sign-in off, given a current code or the password."""
    form = TwoFactorDisableForm(prefix="twofactoroff")
    if form.validate_on_submit():
        try:
            with current_vault().unit_of_work() as uow:
                result = two_factor.disable_two_factor(uow, _customer(), form.proof.data or "")
        except TwoFactorStateError:
            return redirect(url_for("vault_account.account"), 303)
        if result is CodeResult.ACCEPTED:
            flash(_("Two-factor sign-in is off. Your password alone now opens your vault."))
            return redirect(url_for("vault_account.account"), 303)
        if result is CodeResult.LOCKED:
            form.proof.errors.append(_code_error(result))
        else:
            form.proof.errors.append(_("This is neither a current code nor your password."))
    return _account_page(disable_form=form)


@blueprint.route("/account/delete", methods=["GET", "POST"])
@customer_required
def delete() -> Response | str:
    """Explain what deleting the account does; erase it once the password confirms."""
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            receipt = delete_account(current_vault(), _customer(), form.password.data or "")
        except WrongPasswordError:
            form.password.errors.append(_("This is not your password. Nothing was deleted."))
        else:
            sign_out()
            session[ERASURE_KEY] = {
                "jws": receipt.jws,
                "until": int(current_vault().clock().timestamp()) + ERASURE_SECONDS,
            }
            if _fits_in_cookie():
                return redirect(url_for("vault_account.erased"), 303)
            # Too many businesses for a cookie: show the page now, the file inline.
            session.pop(ERASURE_KEY)
            href = "data:application/jose;base64," + base64.b64encode(receipt.jws.encode()).decode()
            return _erased_page(receipt.jws, download_href=href)
    export = "vault_export.export_page"
    export_url = url_for(export) if export in current_app.view_functions else None
    return render_template("vault/delete.html", form=form, export_url=export_url)


def _erasure_receipt() -> str | None:
    kept = session.get(ERASURE_KEY)
    if not isinstance(kept, dict) or not isinstance(kept.get("until"), int):
        return None
    if kept["until"] < int(current_vault().clock().timestamp()):
        session.pop(ERASURE_KEY, None)
        return None
    return str(kept.get("jws", ""))


@blueprint.get("/account/erased")
def erased() -> Response | str:
    """The last page of a deleted account: what happened, and the receipt to keep."""
    found = _erasure_receipt()
    if found is None:
        return redirect(url_for("vault.index"), 303)
    return _erased_page(found, url_for("vault_account.erasure_receipt"))


def _fits_in_cookie() -> bool:
    # Browsers drop cookies over 4096 bytes; measure the session as it will be sent.
    interface = current_app.session_interface
    serializer = getattr(interface, "get_signing_serializer", lambda app: None)(current_app)
    if serializer is None:
        return True  # a server-side session has no such limit
    return len(serializer.dumps(dict(session))) <= COOKIE_BUDGET


def _erased_page(jws: str, download_href: str) -> str:
    claims = verify_erasure(jws, current_vault().provider.public_jwks())
    return render_template(
        "vault/erased.html",
        jws=jws,
        claims=claims,
        download_href=download_href,
        erased_at=datetime.fromisoformat(claims["emanet:erased_at"].replace("Z", "+00:00")),
        businesses=claims["emanet:businesses_notified"],
        destroyed=[DESTROYED_WORDS.get(code, code) for code in claims["emanet:destroyed"]],
        jwks_url=current_vault().issuer.rstrip("/") + "/.well-known/jwks.json",
    )


@blueprint.get("/account/erased/erasure-receipt.jws")
def erasure_receipt() -> Response:
    """Download the erasure receipt (only in the browser that deleted the account)."""
    found = _erasure_receipt()
    if found is None:
        return redirect(url_for("vault.index"), 303)
    response = make_response(found)
    response.headers["Content-Type"] = "application/jose; charset=us-ascii"
    response.headers["Content-Disposition"] = 'attachment; filename="erasure-receipt.jws"'
    response.headers["Cache-Control"] = "no-store"
    return response
