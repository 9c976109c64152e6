"""Forms of the access log (its filters) and of the interactions timeline (a new entry)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import to_utc
from flask_wtf import FlaskForm
from pydantic import ValidationError as PydanticError
from wtforms import (
    DateTimeLocalField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from schemas.interactions import InteractionEntry, InteractionKind

# What each kind of interaction is called on the page.
KIND_WORDS: dict[InteractionKind, Any] = {
    InteractionKind.PURCHASE: _l("Purchase"),
    InteractionKind.VISIT: _l("Visit"),
    InteractionKind.CALL: _l("Call"),
    InteractionKind.EMAIL: _l("E-mail"),
    InteractionKind.SUPPORT_TICKET: _l("Support ticket"),
    InteractionKind.NOTE: _l("Note"),
}


class ChoiceField(SelectField):
    """A select that refuses a value not offered, saying so in the page language."""

    def pre_validate(self, form: Any) -> None:
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(_l("Choose one of the options in the list.")) from None


class AccessLogFilterForm(FlaskForm):
    """Which business and which field to show; read from the query string.

    It changes nothing, so it carries no CSRF token (a token in a URL would only leak it).
    """

    class Meta:
        csrf = False

    business = ChoiceField(_l("Business"), default="")
    field = ChoiceField(_l("Field"), default="")


class LocalDateTimeField(DateTimeLocalField):
    """A date and time picker whose parse error says how to write it, in the page language."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("format", ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"])
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(
                _l("Enter the date and the time, for example 2024-05-01 14:30.")
            ) from None


def parse_amount(text: str) -> Decimal:
    """Read an amount typed with a dot or a comma before the decimals ("25.50", "25,50")."""
    cleaned = text.replace(" ", "").replace("\u00a0", "")
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    if not cleaned or not all(c.isdigit() or c == "." for c in cleaned) or cleaned.count(".") > 1:
        raise InvalidOperation(text)
    return Decimal(cleaned)


class InteractionForm(FlaskForm):
    """The customer's own entry in their relationship record."""

    kind = ChoiceField(
        _l("Kind"),
        choices=[SelectChoice(kind.value, words) for kind, words in KIND_WORDS.items()],
        default=InteractionKind.NOTE.value,
    )
    occurred_at = LocalDateTimeField(
        _l("When"),
        validators=[InputRequired(message=_l("Enter the date and the time."))],
    )
    summary = StringField(
        _l("Summary"),
        validators=[Optional(), Length(max=200, message=_l("Use at most 200 characters."))],
        description=_l("A few words, for example: Bought a silk carpet."),
    )
    details = TextAreaField(
        _l("Details"),
        validators=[Optional(), Length(max=5000, message=_l("Use at most 5000 characters."))],
    )
    amount = StringField(
        _l("Amount"),
        validators=[Optional(), Length(max=20, message=_l("Use a smaller amount."))],
        description=_l("For purchases only, for example 25.50."),
        render_kw={"inputmode": "decimal"},
    )
    currency = ChoiceField(_l("Currency"), validators=[Optional()])
    submit = SubmitField(_l("Add to my timeline"))

    def set_currencies(self, choices: Iterable[SelectChoice]) -> None:
        """Offer these currencies, after an empty choice."""
        self.currency.choices = [SelectChoice("", _l("No amount")), *choices]

    def validate_amount(self, field: StringField) -> None:
        """Refuse an amount that is not a number before the entry is even built."""
        if field.data and field.data.strip():
            try:
                parse_amount(field.data)
            except InvalidOperation:
                raise ValidationError(
                    _l("Write the amount in digits, for example 25.50.")
                ) from None


def _place_errors(
    form: InteractionForm, error: PydanticError, message: Callable[[str, str], str]
) -> None:
    for problem in error.errors(include_url=False, include_input=False):
        code = problem["type"]
        name = str(problem["loc"][0]) if problem["loc"] else ""
        if not name:
            # A rule over the whole entry: put the message where the fix is.
            if code == "interaction_in_future":
                name = "occurred_at"
            elif code == "purchase_amount_required":
                name = "currency" if form.amount.data and not form.currency.data else "amount"
            else:
                name = "amount" if form.amount.data else "currency"
        target = getattr(form, name, form.kind)
        target.errors = [*target.errors, message(code, name)]


def interaction_entry(
    form: InteractionForm, message: Callable[[str, str], str]
) -> InteractionEntry | None:
    """Build the entry from a validated form, or put each problem beside its field (worded by
    `message(code, field)`) and return None."""
    occurred = form.occurred_at.data
    if occurred is None:
        return None
    try:
        raw_amount = (form.amount.data or "").strip()
        amount: Decimal | None = parse_amount(raw_amount) if raw_amount else None
    except InvalidOperation:  # the form's own check has already said so
        return None
    try:
        return InteractionEntry.model_validate(
            {
                "kind": form.kind.data,
                "occurred_at": to_utc(occurred).replace(tzinfo=UTC),
                "summary": (form.summary.data or "").strip() or None,
                "details": form.details.data if (form.details.data or "").strip() else None,
                "amount": amount,
                "currency": form.currency.data or None,
            }
        )
    except PydanticError as error:
        _place_errors(form, error, message)
        return None
