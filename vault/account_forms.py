"""Forms of the account pages and of the second sign-in step (each with its CSRF token).

Forms that share the account page carry a prefix, so their ids and names never collide.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length

from emanet.i18n import LANGUAGE_NAMES
from vault.accounts.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

CODE_HINT = _l("The 6-digit code your authenticator app shows now.")


def _code_field(label: object) -> StringField:
    return StringField(
        label,
        validators=[InputRequired(message=_l("Enter the 6-digit code.")), Length(max=16)],
        description=CODE_HINT,
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": "16"},
    )


class SignInCodeForm(FlaskForm):
    """The second step of signing in: a code from the authenticator app."""

    code = _code_field(_l("Code from your authenticator app"))
    submit = SubmitField(_l("Sign in"))


class LanguageForm(FlaskForm):
    """The language the vault is shown in."""

    locale = SelectField(
        _l("Language of your vault"),
        choices=[SelectChoice(code, name, {"lang": code}) for code, name in LANGUAGE_NAMES.items()],
        validators=[InputRequired()],
    )
    submit = SubmitField(_l("Save language"))


class PasswordChangeForm(FlaskForm):
    """The current password, and the new one twice."""

    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired(message=_l("Enter your current password.")), Length(max=1024)],
    )
    new = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(message=_l("Enter a new password.")),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=MAX_PASSWORD_LENGTH,
                message=_l("Use at least 12 characters; a few words make a strong one."),
            ),
        ],
        description=_l("At least 12 characters; a few words make a strong one."),
    )
    repeat = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(message=_l("Enter the new password again.")),
            EqualTo("new", message=_l("The two new passwords are not the same.")),
        ],
    )
    submit = SubmitField(_l("Change password"))


class TwoFactorStartForm(FlaskForm):
    """Start setting up two-factor sign-in."""

    submit = SubmitField(_l("Set up two-factor sign-in"))


class TwoFactorConfirmForm(FlaskForm):
    """The first code from the app, which proves the set-up worked."""

    code = _code_field(_l("Code from your authenticator app"))
    submit = SubmitField(_l("Turn on two-factor sign-in"))


class TwoFactorDisableForm(FlaskForm):
    """Turn two-factor sign-in off, with a current code or the password."""

    proof = PasswordField(
        _l("A code from your app, or your password"),
        validators=[DataRequired(message=_l("Enter a code or your password.")), Length(max=1024)],
    )
    submit = SubmitField(_l("Turn off two-factor sign-in"))


class DeleteAccountForm(FlaskForm):
    """The password, confirming that the account is to be erased for good."""

    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(message=_l("Enter your password.")), Length(max=1024)],
    )
    submit = SubmitField(_l("Delete my account for good"))
