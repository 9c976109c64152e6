"""Forms of the compliance console: registry filters, sign-in, review steps and reports."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from business_portal.compliance.services.reports import MAX_PERIOD_DAYS
from business_portal.compliance.words import REVIEW_WORDS, STATUS_WORDS, purpose_words
from schemas.agreements import Purpose

COMMENT_LIMIT = 2000
# The review rules' messages (services.reviews), by their error type, in the page language.
REVIEW_MESSAGES: dict[str, Any] = {
    "comment_required": _l("Write what you found, or what should change."),
    "template_only_for_changes": _l("Name a template only when you ask for a change."),
}


class DayField(DateField):
    """A date picker whose parse error says how to write a day, in the page language."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter the day, for example 2025-05-01.")) from None


class ChoiceField(SelectField):
    """A select that refuses a value not offered, saying so in the page language."""

    def pre_validate(self, form: Any) -> None:
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(_l("Choose one of the options in the list.")) from None


class RegistryFilterForm(FlaskForm):
    """What the registry shows; read from the query string, so it carries no CSRF token."""

    class Meta:
        csrf = False

    status = ChoiceField(_l("Status"), default="")
    purpose = ChoiceField(_l("Purpose"), default="")
    field = ChoiceField(_l("Field"), default="")
    business = ChoiceField(_l("Business"), default="")
    review = ChoiceField(_l("Review"), default="")
    granted_from = DayField(_l("Granted from"), validators=[Optional()])
    granted_to = DayField(_l("Granted until"), validators=[Optional()])

    def offer(self, fields: list[SelectChoice], businesses: list[tuple[str, str]]) -> None:
        """Fill the lists: statuses, purposes, catalogue fields and (for auditors) businesses."""
        self.status.choices = [SelectChoice("", _l("Any status"))] + [
            SelectChoice(code, words) for code, words in STATUS_WORDS.items()
        ]
        self.purpose.choices = [SelectChoice("", _l("Any purpose"))] + [
            SelectChoice(p.value, purpose_words(p.value)) for p in Purpose
        ]
        self.field.choices = [SelectChoice("", _l("Any field")), *fields]
        self.business.choices = [SelectChoice("", _l("Every business"))] + [
            SelectChoice(value, name) for value, name in businesses
        ]
        self.review.choices = [SelectChoice("", _l("Any review state"))] + [
            SelectChoice(code, words) for code, words in REVIEW_WORDS.items()
        ]

    def validate_granted_to(self, field: DayField) -> None:
        start = self.granted_from.data
        if field.data and start and start > field.data:
            raise ValidationError(_l("The end must be on or after the start."))


class AuditorLoginForm(FlaskForm):
    """An auditor's e-mail and password."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=320)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()
    submit = SubmitField(_l("Sign in"))


class ReviewForm(FlaskForm):
    """One review step: a comment, a change request (maybe naming a template) or a sign-off."""

    kind = RadioField(
        _l("What do you do?"),
        choices=[
            SelectChoice("comment", _l("Add a comment")),
            SelectChoice("change_requested", _l("Ask the business to change its request")),
            SelectChoice("signed_off", _l("Sign off")),
        ],
        default="comment",
        validators=[InputRequired(message=_l("Choose what you do."))],
    )
    comment = TextAreaField(
        _l("Comment"),
        validators=[
            Optional(),
            Length(max=COMMENT_LIMIT, message=_l("Use at most 2000 characters.")),
        ],
        description=_l("Needed for a comment or a change request; optional for a sign-off."),
    )
    template = ChoiceField(_l("Request template to change"), default="")
    submit = SubmitField(_l("Add to the review"))

    def offer(self, templates: list[tuple[str, str]]) -> None:
        """Offer the business's request templates."""
        self.template.choices = [SelectChoice("", _l("No particular template"))] + [
            SelectChoice(value, name) for value, name in templates
        ]


class ActionForm(FlaskForm):
    """A button that posts: only the CSRF token."""


class ReportForm(FlaskForm):
    """Which report, in which format, for which period."""

    kind = RadioField(
        _l("Report"),
        choices=[
            SelectChoice("processing", _l("Records of processing (GDPR Art. 30)")),
            SelectChoice("access", _l("Access report for a period")),
        ],
        default="processing",
        validators=[InputRequired(message=_l("Choose a report."))],
    )
    file_format = RadioField(
        _l("Format"),
        choices=[SelectChoice("pdf", "PDF"), SelectChoice("csv", "CSV")],
        default="pdf",
        validators=[InputRequired(message=_l("Choose a format."))],
    )
    period_from = DayField(
        _l("From"),
        validators=[Optional()],
        description=_l("For the access report: the first day, in UTC."),
    )
    period_to = DayField(
        _l("To"),
        validators=[Optional()],
        description=_l("For the access report: the last day, at most a year after the first."),
    )
    submit = SubmitField(_l("Generate"))

    def check_period(self, today: date) -> bool:
        """Check the period of an access report, each message beside its field."""
        if self.kind.data != "access":
            return True
        start, end = self.period_from.data, self.period_to.data
        if start is None and not self.period_from.errors:
            self.period_from.errors = [_l("Enter the first day of the period.")]
        if end is None and not self.period_to.errors:
            self.period_to.errors = [_l("Enter the last day of the period.")]
        if start is None or end is None:
            return False
        if end > today:
            self.period_to.errors = [_l("The period cannot end in the future.")]
        elif start > end:
            self.period_from.errors = [_l("The first day must be on or before the last day.")]
        elif (end - start).days + 1 > MAX_PERIOD_DAYS:
            self.period_to.errors = [
                _l("A period is at most %(days)s days long.", days=MAX_PERIOD_DAYS)
            ]
        else:
            return True
        return False
