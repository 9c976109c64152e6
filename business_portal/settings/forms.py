"""Forms of the settings pages, and the broker's refusals put in words beside each field."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from pydantic import TypeAdapter, ValidationError
from wtforms import (
    EmailField,
    Field,
    PasswordField,
    SelectChoice,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms import ValidationError as WTFormsValidationError

from business_portal.navigation import ROLE_LABELS
from business_portal.requests.forms import add_error, message_for
from schemas.businesses import StaffRole, TokenEndpointAuthMethod
from schemas.text_types import short_text
from vault.accounts.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from vault.timeline_forms import ChoiceField

AUTH_METHOD_WORDS: dict[str, LazyString] = {
    TokenEndpointAuthMethod.CLIENT_SECRET_BASIC.value: _l(
        "HTTP Basic authentication (client_secret_basic)"
    ),
    TokenEndpointAuthMethod.CLIENT_SECRET_POST.value: _l(
        "In the request body (client_secret_post)"
    ),
}
EVENT_WORDS: dict[str, LazyString] = {
    "agreement.granted": _l("A customer shared data with you"),
    "agreement.amended": _l("A customer accepted a change you asked for"),
    "agreement.revoked": _l("A customer stopped sharing"),
    "agreement.expired": _l("An agreement ran out"),
    "customer.erased": _l("A customer deleted their vault"),
    "profile.updated": _l("A customer updated a field they share"),
}
# The schemas' and the broker's codes that need words of their own on these pages.
URL_MESSAGES: dict[str, LazyString] = {
    "url_invalid": _l("Write a full web address, for example https://shop.example/callback."),
    "url_not_https": _l("Use an https:// address; plain http is allowed only on this machine."),
    "redirect_uri_fragment": _l("A redirect URI must not have a #fragment."),
    "too_short": _l("Write at least one redirect URI."),
    "too_long": _l("Use at most 10 redirect URIs."),
}
# broker.webhooks.services.WebhookError says why in English; the start of each reason is stable.
WEBHOOK_MESSAGES: dict[str, LazyString] = {
    "The URL is longer": _l("The address is too long: use at most 2000 characters."),
    "The URL is not valid": _l("This is not a valid web address."),
    "The URL must be an absolute": _l("Write a full https:// address."),
    "Put no credentials": _l("Put no user name or password in the address."),
    "A webhook URL cannot have": _l("The address must not have a #fragment."),
    "Loopback addresses": _l("Addresses on this machine are accepted only in test and demo mode."),
    "The URL must use https": _l("Use an https:// address: events carry customers' data."),
    "The URL points at a private": _l("The address points at a private or reserved network."),
    "Unknown event types": _l("Choose events from the list."),
    "Subscribe to at least one": _l("Tick at least one event."),
}


# A NUL byte or a line break is no address; the broker's own checks are about where it points.
_URL_TEXT: TypeAdapter[str] = TypeAdapter(short_text(2000))


def role_choices() -> list[SelectChoice]:
    """Return the roles, in the page's language."""
    return [SelectChoice(role.value, ROLE_LABELS[role.value]) for role in StaffRole]


def password_problem(password: str) -> str | None:
    """Say what is wrong with a new password under the vault's policy, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("Use at least 12 characters; a few words make a strong one.")
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("Use at most %(n)s characters.", n=MAX_PASSWORD_LENGTH)
    return None


def place_errors(form: FlaskForm, error: ValidationError, *, lines: str | None = None) -> None:
    """Put each problem the schema found beside its field (`lines`: a one-per-line list field)."""
    for problem in error.errors(include_url=False, include_input=False):
        loc = problem["loc"]
        name = str(loc[0]) if loc else ""
        target: Field | None = getattr(form, name, None)
        if not isinstance(target, Field):
            continue
        code = problem["type"]
        own = URL_MESSAGES.get(code)
        message = str(own) if own is not None else message_for(code, problem["msg"])
        if name == lines and len(loc) > 1 and isinstance(loc[1], int):
            message = _("Line %(n)s: %(problem)s", n=loc[1] + 1, problem=message)
        add_error(target, message)


def webhook_message(reason: str) -> str:
    """Return the broker's reason for refusing an endpoint in the page's language."""
    for start, words in WEBHOOK_MESSAGES.items():
        if reason.startswith(start):
            return str(words)
    return _("This value is not accepted.")


class StaffForm(FlaskForm):
    """A new staff member and the first password the owner gives them."""

    display_name = StringField(_l("Name"))
    email = EmailField(_l("Work e-mail"), description=_l("They sign in with it."))
    role = ChoiceField(_l("Role"), default=StaffRole.AGENT.value)
    password = PasswordField(
        _l("First password"),
        description=_l("At least 12 characters. Tell it to them in person, not by e-mail."),
    )
    add = SubmitField(_l("Add staff member"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = role_choices()


class RoleForm(FlaskForm):
    """Another role for a staff member."""

    role = ChoiceField(_l("Role"))
    change = SubmitField(_l("Change the role"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = role_choices()


class ClientForm(FlaskForm):
    """A new OAuth client: its name, where it may send customers back, how it signs in."""

    name = StringField(_l("Name"), description=_l("For example: Web shop."))
    redirect_uris = TextAreaField(
        _l("Redirect URIs"),
        description=_l("One per line, exactly as your site sends them, with https://."),
    )
    token_endpoint_auth_method = ChoiceField(
        _l("How it proves who it is"),
        default=TokenEndpointAuthMethod.CLIENT_SECRET_BASIC.value,
    )
    create = SubmitField(_l("Create the client"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.token_endpoint_auth_method.choices = [
            SelectChoice(code, words) for code, words in AUTH_METHOD_WORDS.items()
        ]

    def client_input(self) -> dict[str, Any]:
        """Return what the form holds, shaped as `schemas.businesses.ClientIn` wants it."""
        lines = (self.redirect_uris.data or "").splitlines()
        return {
            "name": self.name.data or "",
            "redirect_uris": [line.strip() for line in lines if line.strip()],
            "token_endpoint_auth_method": self.token_endpoint_auth_method.data,
        }


class WebhookForm(FlaskForm):
    """A new webhook endpoint; the ticked events arrive apart, as `event_types`."""

    url = StringField(
        _l("Address"), description=_l("An https:// address of yours that accepts POST requests.")
    )
    add = SubmitField(_l("Add the endpoint"))

    def validate_url(self, field: StringField) -> None:
        """Refuse what is not one line of visible text before the broker looks at the address."""
        try:
            _URL_TEXT.validate_python(field.data or "")
        except ValidationError as error:
            problem = error.errors(include_url=False, include_input=False)[0]
            raise WTFormsValidationError(message_for(problem["type"], problem["msg"])) from None
