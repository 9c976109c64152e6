"""Forms of the customer card's quick actions, and how their problems read beside the fields.

Field names differ from form to form, so the forms share one page without prefixes and
each control keeps a unique id.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from babel.numbers import format_decimal, get_currency_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from pydantic import ValidationError
from wtforms import (
    HiddenField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional
from wtforms.validators import ValidationError as FieldError

from broker.amendments import AmendmentError
from schemas.agreements import INTERACTIONS, AccessMode
from schemas.api import AmendmentIn
from schemas.field_catalogue import FIELD_CATALOGUE
from schemas.interactions import InteractionEntry, InteractionKind
from schemas.text_types import CURRENCY_CODES
from vault.timeline_forms import KIND_WORDS, ChoiceField, InteractionForm, interaction_entry

__all__ = [
    "AmendmentForm",
    "LogInteractionForm",
    "NoteForm",
    "RemoveTagForm",
    "TagForm",
    "currency_choices",
    "log_entry",
    "requested_mode",
    "text_message",
]

# Offered first in the currency list, as in the vault.
COMMON_CURRENCIES = ("AZN", "TRY", "EUR", "USD", "GBP")
# What a business logs; a note is the business's own record, sealed, not the customer's.
LOGGED_KINDS = (
    InteractionKind.CALL,
    InteractionKind.VISIT,
    InteractionKind.EMAIL,
    InteractionKind.SUPPORT_TICKET,
    InteractionKind.PURCHASE,
)
TERM_CHOICES = ("P6M", "P1Y", "P2Y", "P3Y", "P5Y")
TEXT_LIMITS = {"summary": 200, "details": 5000, "body": 5000, "tag": 40, "purpose_description": 500}


def currency_choices(locale: str) -> list[SelectChoice]:
    """Return every accepted currency, the common ones first, as "AZN · Azerbaijani Manat"."""
    rest = sorted(CURRENCY_CODES.difference(COMMON_CURRENCIES))
    return [
        SelectChoice(code, f"{code} · {get_currency_name(code, locale=locale)}")
        for code in (*COMMON_CURRENCIES, *rest)
    ]


class LogInteractionForm(InteractionForm):
    """A call, visit, e-mail, support ticket or purchase, logged in the customer's vault."""

    kind = ChoiceField(
        _l("Kind"),
        choices=[SelectChoice(kind.value, KIND_WORDS[kind]) for kind in LOGGED_KINDS],
        default=InteractionKind.CALL.value,
    )
    submit = SubmitField(_l("Log it in the customer's vault"))


class NoteForm(FlaskForm):
    """A note about the customer, for the business's eyes only."""

    body = TextAreaField(
        _l("Note"),
        validators=[
            InputRequired(message=_l("Write the note first.")),
            Length(max=5000, message=_l("Use at most 5000 characters.")),
        ],
        description=_l("Only your business sees it; it is stored encrypted."),
    )
    submit = SubmitField(_l("Add the note"))


class TagForm(FlaskForm):
    """A tag to put on the customer."""

    tag = StringField(
        _l("New tag"),
        validators=[
            InputRequired(message=_l("Write the tag first.")),
            Length(max=40, message=_l("Use at most 40 characters.")),
        ],
        description=_l("A word or two, for example: collector."),
    )
    submit = SubmitField(_l("Add the tag"))


class RemoveTagForm(FlaskForm):
    """Take one tag off the customer."""

    tag = HiddenField(validators=[InputRequired()])


class CheckboxesField(SelectMultipleField):
    """Ticked boxes of one question; a value not offered is refused in the page language."""

    def pre_validate(self, form: Any) -> None:
        offered = {str(choice[0]) for choice in self.choices or []}
        if any(value not in offered for value in self.data or []):
            raise FieldError(_l("Choose only fields from the list."))


class AmendmentForm(FlaskForm):
    """More fields or a longer term, sent to the customer's inbox."""

    agreement = ChoiceField(_l("Agreement"))
    fields = CheckboxesField(_l("Also ask for"), choices=[])
    duration = ChoiceField(_l("New term"), default="")
    purpose_description = StringField(
        _l("Why you ask (optional)"),
        validators=[Optional(), Length(max=500, message=_l("Use at most 500 characters."))],
        description=_l("The customer reads this with the request. Leave it empty to keep it."),
    )
    submit = SubmitField(_l("Send the request to the customer"))

    def offer(
        self,
        agreements: Iterable[tuple[uuid.UUID, str, Mapping[str, AccessMode]]],
        terms: Mapping[str, str],
        field_labels: Mapping[str, str],
    ) -> None:
        """Offer these agreements (id, purpose, asked) and every field one of them lacks."""
        listed = list(agreements)
        self.agreement.choices = [SelectChoice(str(a_id), words) for a_id, words, _m in listed]
        if self.agreement.data is None and listed:
            self.agreement.data = str(listed[0][0])
        keys = [*FIELD_CATALOGUE, INTERACTIONS]
        self.fields.choices = [
            (key, field_labels[key])
            for key in keys
            if any(asked.get(key) is not requested_mode(key) for _i, _w, asked in listed)
        ]
        self.duration.choices = [SelectChoice("", _l("Keep the current term"))] + [
            SelectChoice(code, terms[code]) for code in TERM_CHOICES
        ]

    def amendment(self) -> AmendmentIn | None:
        """Build the amendment, or put the problem beside its field and return None."""
        try:
            return AmendmentIn.model_validate(
                {
                    "fields": [
                        {"key": key, "mode": requested_mode(key).value}
                        for key in self.fields.data or []
                    ],
                    "duration": self.duration.data or None,
                    "purpose_description": (self.purpose_description.data or "").strip() or None,
                }
            )
        except ValidationError as error:
            problem = error.errors(include_url=False, include_input=False)[0]
            self.purpose_description.errors = [text_message(problem["type"], "purpose_description")]
            return None

    def refused(self, error: AmendmentError) -> None:
        """Put the reason an amendment was refused beside the field where the fix is."""
        messages = {
            "nothing_to_amend": _("Tick at least one more field, or choose a longer term."),
            "too_many_fields": _("An agreement can ask for at most 40 fields."),
            "term_not_longer": _(
                "The current agreement already lasts that long. Choose a longer term."
            ),
            "change_waiting": _(
                "A change is already waiting for the customer's answer. Wait for it first."
            ),
        }
        target = self.duration if error.field == "duration" else self.fields
        target.errors = [messages.get(error.code, _("This value is not accepted."))]


def requested_mode(key: str) -> AccessMode:
    """Return the access an amendment asks for a field: interactions are added to, not read."""
    return AccessMode.APPEND if key == INTERACTIONS else AccessMode.READ


def text_message(code: str, field: str) -> str:
    """Say in the page language what is wrong with a text the staff member wrote."""
    if code in ("text_too_long", "string_too_long") and field in TEXT_LIMITS:
        return _("Too long: use at most %(n)s characters.", n=format_decimal(TEXT_LIMITS[field]))
    messages = {
        "text_required": _("This is required."),
        "text_line_break": _("Must be a single line. Remove the line breaks."),
        "text_control_character": _(
            "Contains an invisible control character. Type the text again instead of pasting it."
        ),
        "tag_comma": _("A tag cannot contain a comma. Use commas only between tags."),
    }
    return messages.get(code, _("This value is not accepted."))


def _interaction_message(code: str, field: str) -> str:
    messages = {
        "interaction_in_future": _("This is in the future. Add it once it has happened."),
        "purchase_amount_required": _(
            "A purchase needs an amount and a currency, for example 25.00 AZN."
        ),
        "amount_only_for_purchases": _(
            "Only a purchase has an amount. Remove it, or choose the kind Purchase."
        ),
        "currency_unknown": _("Choose a currency from the list."),
        "greater_than": _("The amount must be more than zero."),
        "less_than": _("The amount is too large."),
        "decimal_max_digits": _("The amount is too large."),
        "decimal_whole_digits": _("The amount is too large."),
        "decimal_max_places": _("Use at most two digits after the decimal point."),
    }
    return messages.get(code) or text_message(code, field)


def log_entry(form: LogInteractionForm) -> InteractionEntry | None:
    """Build the entry from a validated form, or put each problem beside its field."""
    return interaction_entry(form, _interaction_message)
