"""Forms of the deals area: a deal, a move, the list's filters, and the pipeline's stages."""

from __future__ import annotations

from decimal import InvalidOperation
from typing import Any

from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectChoice, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from vault.timeline_forms import ChoiceField, parse_amount

OUTCOME_WORDS: dict[str, LazyString] = {
    "open": _l("In progress"),
    "won": _l("Won"),
    "lost": _l("Lost"),
}
TEXT_LIMITS = {"title": 200, "details": 5000, "name": 60}


def outcome_choices() -> list[SelectChoice]:
    """Return what a stage can count as, for a select."""
    return [SelectChoice(value, words) for value, words in OUTCOME_WORDS.items()]


class CloseDateField(DateField):
    """A date picker whose parse error says how to write the date, in the page language."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter a date, for example 2025-06-30.")) from None


class DealForm(FlaskForm):
    """A deal's values, as the detail page edits them."""

    title = StringField(
        _l("Title"),
        validators=[
            InputRequired(message=_l("Give the deal a title.")),
            Length(max=200, message=_l("Use at most 200 characters.")),
        ],
        description=_l("For example: Two Kuba carpets for the new shop."),
    )
    details = TextAreaField(
        _l("Details"),
        validators=[Optional(), Length(max=5000, message=_l("Use at most 5000 characters."))],
    )
    amount = StringField(
        _l("Amount"),
        validators=[Optional(), Length(max=20, message=_l("The amount is too large."))],
        description=_l("For example 1250.00. Leave it empty if you do not know it yet."),
        render_kw={"inputmode": "decimal"},
    )
    currency = ChoiceField(_l("Currency"), validators=[Optional()], default="")
    expected_close = CloseDateField(_l("Expected close date"), validators=[Optional()])
    owner = ChoiceField(_l("Deal owner"))
    stage = ChoiceField(_l("Stage"))
    submit = SubmitField(_l("Save the deal"))

    def validate_amount(self, field: StringField) -> None:
        """Refuse an amount that is not a number before the deal is even built."""
        if field.data and field.data.strip():
            try:
                parse_amount(field.data)
            except InvalidOperation:
                raise ValidationError(
                    _l("Write the amount in digits, for example 1250.00.")
                ) from None


class NewDealForm(DealForm):
    """A new deal: the same values and the customer it is with."""

    subject = ChoiceField(
        _l("Customer"),
        validators=[InputRequired(message=_l("Choose the customer."))],
        description=_l("The customer's pairwise id at your business."),
    )
    submit = SubmitField(_l("Open the deal"))


class MoveForm(FlaskForm):
    """Where a deal goes: a stage, and optionally its place in that stage's column."""

    stage_id = StringField(validators=[InputRequired()])
    position = IntegerField(validators=[Optional(), NumberRange(min=0, max=100_000)])


class DealFilterForm(FlaskForm):
    """Which stage and owner the deal list shows; read from the query string, no token."""

    class Meta:
        csrf = False

    stage = ChoiceField(_l("Stage"), default="")
    owner = ChoiceField(_l("Deal owner"), default="")


class StageForm(FlaskForm):
    """One stage's row on the settings page: its name and outcome, and which button."""

    stage_id = StringField(validators=[InputRequired()])
    name = StringField(
        _l("Name"),
        validators=[Optional(), Length(max=60, message=_l("Use at most 60 characters."))],
    )
    outcome = ChoiceField(_l("Counts as"), choices=outcome_choices(), default="open")


class AddStageForm(FlaskForm):
    """A new stage: its name and outcome."""

    name = StringField(
        _l("Name of the new stage"),
        validators=[
            InputRequired(message=_l("Give the stage a name.")),
            Length(max=60, message=_l("Use at most 60 characters.")),
        ],
        description=_l("For example: Sample sent."),
    )
    outcome = ChoiceField(_l("Counts as"), choices=outcome_choices(), default="open")
    submit = SubmitField(_l("Add the stage"))


def problem_message(code: str, field: str, count: int = 0, hidden: int = 0) -> str:
    """Say in the page language what is wrong with one value."""
    messages: dict[str, Any] = {
        "not_connected": _("This customer is not connected to your business now."),
        "stage_unknown": _("Choose one of the stages in the list."),
        "owner_unknown": _("Choose one of your staff in the list."),
        "amount_currency_pair": _("Give the amount together with its currency, or neither."),
        "close_date_out_of_range": _("Choose a date between the years 2000 and 2100."),
        "currency_unknown": _("Choose a currency from the list."),
        "greater_than": _("The amount must be more than zero."),
        "decimal_max_digits": _("The amount is too large."),
        "decimal_whole_digits": _("The amount is too large."),
        "decimal_max_places": _("Use at most two digits after the decimal point."),
        "text_required": _("This cannot be empty."),
        "text_line_break": _("Must be a single line. Remove the line breaks."),
        "text_control_character": _(
            "Contains an invisible control character. Type the text again instead of pasting it."
        ),
        "name_required": _("Give the stage a name."),
        "last_open_stage": _("The pipeline needs at least one open stage: new deals start in one."),
    }
    if code == "stage_has_deals":
        message = ngettext(
            "This stage still holds %(num)d deal. Move it to another stage first.",
            "This stage still holds %(num)d deals. Move them to another stage first.",
            count,
        )
        if hidden:
            message += " " + ngettext(
                "%(num)d of them is about a customer who is no longer connected; it is "
                "deleted when the agreement's retention ends.",
                "%(num)d of them are about customers who are no longer connected; they are "
                "deleted when the agreements' retention ends.",
                hidden,
            )
        return message
    if code in ("text_too_long", "string_too_long") and field in TEXT_LIMITS:
        return _("Too long: use at most %(n)s characters.", n=format_decimal(TEXT_LIMITS[field]))
    return str(messages.get(code, _("This value is not accepted.")))
