"""Forms of request templates and invites, and their problems placed beside each field.

The terms are checked by `schemas.agreements.AgreementTerms` alone; the form only gathers
the input and says in the page's language what the schema refused, where the fix is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from pydantic import ValidationError
from wtforms import Field, SelectChoice, StringField, SubmitField
from wtforms.validators import Optional

from business_portal.requests.field_picker import FieldPicker
from schemas.agreements import Frequency, LegalBasis, Purpose
from schemas.field_errors import FieldProblem
from vault.agreement_words import duration_words, frequency_words, purpose_words
from vault.profile_problems import problem_message
from vault.timeline_forms import ChoiceField

OTHER = "other"  # the preset that means "I typed my own ISO 8601 duration"
TERM_PRESETS = ("P1M", "P3M", "P6M", "P1Y", "P2Y", "P3Y")
RETENTION_PRESETS = ("P0D", "P30D", "P3M", "P6M", "P1Y", "P2Y")
VALIDITY_PRESETS = ("P1W", "P1M", "P3M", "P6M", "P1Y")

LEGAL_BASIS_WORDS: dict[str, LazyString] = {
    LegalBasis.CONSENT.value: _l("Consent (GDPR Art. 6(1)(a))"),
    LegalBasis.CONTRACT.value: _l("A contract with the customer (GDPR Art. 6(1)(b))"),
    LegalBasis.LEGAL_OBLIGATION.value: _l("A legal obligation (GDPR Art. 6(1)(c))"),
    LegalBasis.LEGITIMATE_INTEREST.value: _l("Legitimate interest (GDPR Art. 6(1)(f))"),
}
# The schema's codes that need words of their own here; the rest are the vault's.
MESSAGES: dict[str, LazyString] = {
    "missing": _l("This is required."),
    "enum": _l("Choose one of the options in the list."),
    "duration_type": _l("Write a duration such as P1Y, P6M or P30D."),
    "duration_format": _l(
        "Not a duration. Use ISO 8601 days, weeks, months or years: P1Y, P6M, P2W, P30D."
    ),
    "duration_too_long": _l("Too long: use at most 100 years."),
    "field_unknown": _l("Choose fields from the list."),
    "field_repeated": _l("Each field may be asked for once."),
    "append_only_for_interactions": _l(
        "Only interactions can be added to: choose Read or Read and update."
    ),
    "interactions_mode": _l("Interactions can be read or added to, not rewritten."),
    "too_short": _l("Tick at least one field to ask for."),
    "too_long": _l("Ask for at most 40 fields."),
    "term_zero": _l("An agreement must last at least one day."),
}


def message_for(code: str, english: str) -> str:
    """Return a schema problem in the page's language (the English words if none fit)."""
    own = MESSAGES.get(code)
    if own is not None:
        return str(own)
    return problem_message(FieldProblem((), code, english))


def add_error(target: Field, message: str) -> None:
    """Show a message beside a field, once."""
    if message not in target.errors:
        target.errors = [*target.errors, message]


def _duration_choices(presets: Iterable[str], *, none: Any = None) -> list[SelectChoice]:
    choices = [SelectChoice("", none)] if none is not None else []
    choices += [SelectChoice(p, duration_words(p)) for p in presets]
    return [*choices, SelectChoice(OTHER, _("Other (ISO 8601, for example P18M)"))]


def set_duration(select: ChoiceField, other: StringField, value: str | None) -> None:
    """Show a stored duration: as its preset when it is one, else typed out."""
    values = {choice[0] for choice in select.iter_choices()}
    if value is None or value in values:
        select.data = value or ""
    else:
        select.data, other.data = OTHER, value


def chosen_duration(select: ChoiceField, other: StringField) -> str | None:
    """Return the duration chosen or typed (None: nothing chosen)."""
    if select.data == OTHER:
        return (other.data or "").strip()
    return select.data or None


class TemplateForm(FlaskForm):
    """A request template: its name and terms; the fields arrive apart (see `FieldPicker`)."""

    name = StringField(
        _l("Name"), description=_l("For your staff, for example: Collectors' phone numbers.")
    )
    purpose = ChoiceField(_l("Purpose"))
    purpose_description = StringField(
        _l("Why you ask, in the customer's words"),
        description=_l(
            "The customer reads this, for example: To call you when a piece you collect comes in."
        ),
    )
    legal_basis = ChoiceField(_l("Legal basis"), default=LegalBasis.CONSENT.value)
    duration = ChoiceField(_l("How long the agreement lasts"), default="P1Y")
    duration_other = StringField(
        _l("Other length"), validators=[Optional()], description=_l("For example P18M or P90D.")
    )
    retention = ChoiceField(_l("How long you keep data after it ends"), default="P30D")
    retention_other = StringField(
        _l("Other keeping time"), validators=[Optional()], description=_l("For example P60D.")
    )
    frequency = ChoiceField(_l("How often you read"), default=Frequency.ONGOING.value)
    submit = SubmitField(_l("Save the template"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.purpose.choices = [SelectChoice("", _("Choose a purpose"))] + [
            SelectChoice(p.value, purpose_words(p.value)) for p in Purpose
        ]
        self.legal_basis.choices = [
            SelectChoice(code, words) for code, words in LEGAL_BASIS_WORDS.items()
        ]
        self.duration.choices = _duration_choices(TERM_PRESETS)
        self.retention.choices = _duration_choices(RETENTION_PRESETS)
        self.frequency.choices = [
            SelectChoice(f.value, frequency_words(f.value)) for f in Frequency
        ]

    def terms_input(self, fields: list[dict[str, str]]) -> dict[str, Any]:
        """Return what the form holds, shaped as `TemplateIn` wants it."""
        return {
            "name": self.name.data or "",
            "terms": {
                "purpose": self.purpose.data or None,
                "purpose_description": self.purpose_description.data or "",
                "legal_basis": self.legal_basis.data,
                "fields": fields,
                "duration": chosen_duration(self.duration, self.duration_other),
                "retention": chosen_duration(self.retention, self.retention_other),
                "frequency": self.frequency.data,
            },
        }

    def load(self, name: str, terms: Mapping[str, Any]) -> None:
        """Fill the form with a saved template."""
        self.name.data = name
        self.purpose.data = str(terms.get("purpose", ""))
        self.purpose_description.data = str(terms.get("purpose_description", ""))
        self.legal_basis.data = str(terms.get("legal_basis", LegalBasis.CONSENT.value))
        self.frequency.data = str(terms.get("frequency", Frequency.ONGOING.value))
        set_duration(self.duration, self.duration_other, terms.get("duration"))
        set_duration(self.retention, self.retention_other, terms.get("retention"))


def place_template_errors(form: TemplateForm, picker: FieldPicker, error: ValidationError) -> None:
    """Put each problem the schema found beside the field where it can be fixed."""
    for problem in error.errors(include_url=False, include_input=False):
        loc = list(problem["loc"])
        message = message_for(problem["type"], problem["msg"])
        if loc and loc[0] == "terms":
            loc = loc[1:]
        name = str(loc[0]) if loc else ""
        if name == "fields":
            picker.place(loc[1] if len(loc) > 1 else None, message)
            continue
        if problem["type"] == "term_zero":
            name = "duration"
        if name == "purpose" and not form.purpose.data:
            message = _("Choose a purpose.")
        target: Field = getattr(form, name, form.name)
        if name in ("duration", "retention") and target.data == OTHER:
            target = getattr(form, f"{name}_other")
        add_error(target, message)


class InviteForm(FlaskForm):
    """An invite made from a template: a label for staff and how long it works."""

    label = StringField(
        _l("Label"), description=_l("Where it is used, for example: Counter of the Old Town shop.")
    )
    valid_for = ChoiceField(_l("Works for"), default="")
    valid_for_other = StringField(
        _l("Other time"), validators=[Optional()], description=_l("For example P10D.")
    )
    create = SubmitField(_l("Make an invite"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.valid_for.choices = _duration_choices(
            VALIDITY_PRESETS, none=_("Until you switch it off")
        )

    def invite_input(self) -> dict[str, Any]:
        """Return what the form holds, shaped as `InviteIn` wants it."""
        return {
            "label": self.label.data or "",
            "valid_for": chosen_duration(self.valid_for, self.valid_for_other),
        }

    def place_errors(self, error: ValidationError) -> None:
        """Put each problem beside its field."""
        for problem in error.errors(include_url=False, include_input=False):
            name = str(problem["loc"][0]) if problem["loc"] else "label"
            target: Field = self.label
            if name == "valid_for":
                target = self.valid_for_other if self.valid_for.data == OTHER else self.valid_for
            add_error(target, message_for(problem["type"], problem["msg"]))
