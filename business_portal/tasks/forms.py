"""Forms of the task pages: a task (new or edited) and the list's filter."""

from __future__ import annotations

import uuid
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from pydantic import ValidationError
from wtforms import DateField, HiddenField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from business_portal.tasks.services import TaskIn
from vault.timeline_forms import ChoiceField

# What each problem code of a task means on the page.
MESSAGES: dict[str, Any] = {
    "text_required": _l("Write what is to be done."),
    "text_line_break": _l("Must be a single line. Remove the line breaks."),
    "text_control_character": _l(
        "Contains an invisible control character. Type the text again instead of pasting it."
    ),
    "assignee_unknown": _l("Choose one of the staff members in the list."),
    "customer_not_connected": _l("No customer connected to your business has this id."),
    "string_pattern_mismatch": _l("No customer connected to your business has this id."),
    "deal_unknown": _l("Choose one of the deals in the list."),
    "deal_of_another_customer": _l(
        "This deal is about another customer. Clear the customer or choose another deal."
    ),
}
TEXT_LIMITS = {"title": 200, "details": 5000}


class DayField(DateField):
    """A date picker whose parse error says how to write a day, in the page language."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter the day, for example 2025-05-01.")) from None


class TaskForm(FlaskForm):
    """A task: what, by when, for whom, about which customer or deal."""

    title = StringField(
        _l("Title"),
        validators=[
            InputRequired(message=MESSAGES["text_required"]),
            Length(max=200, message=_l("Use at most 200 characters.")),
        ],
        description=_l("For example: Call back about the silver samovar."),
    )
    details = TextAreaField(
        _l("Details"),
        validators=[Optional(), Length(max=5000, message=_l("Use at most 5000 characters."))],
    )
    due_on = DayField(_l("Due on"), validators=[InputRequired(message=_l("Enter the day."))])
    assignee_id = ChoiceField(_l("Assigned to"))
    subject = StringField(
        _l("Customer"),
        validators=[Optional(), Length(max=40, message=MESSAGES["customer_not_connected"])],
        filters=[lambda text: text.strip() if isinstance(text, str) else text],
        description=_l("The customer's id at your business. Leave empty for no customer."),
        render_kw={"list": "task-customers", "autocomplete": "off", "spellcheck": "false"},
    )
    deal_id = ChoiceField(_l("Deal"), validators=[Optional()])
    next = HiddenField()
    submit = SubmitField(_l("Save the task"))

    def offer(self, staff: list[tuple[uuid.UUID, str]], deals: list[tuple[uuid.UUID, str]]) -> None:
        """Offer these staff members and deals to choose from."""
        self.assignee_id.choices = [(str(staff_id), name) for staff_id, name in staff]
        self.deal_id.choices = [
            ("", _l("No deal")),
            *((str(deal_id), title or _l("Untitled deal")) for deal_id, title in deals),
        ]

    def task(self) -> TaskIn | None:
        """Return the task the form describes, or put each problem beside its field."""
        try:
            return TaskIn.model_validate(
                {
                    "title": self.title.data or "",
                    "details": self.details.data if (self.details.data or "").strip() else None,
                    "due_on": self.due_on.data,
                    "assignee_id": self.assignee_id.data or None,
                    "subject": self.subject.data or None,
                    "deal_id": self.deal_id.data or None,
                }
            )
        except ValidationError as error:
            for problem in error.errors(include_url=False, include_input=False):
                name = str(problem["loc"][0]) if problem["loc"] else "title"
                self.place(name, problem["type"])
            return None

    def place(self, name: str, code: str) -> None:
        """Show the message of a problem code beside the field it is about."""
        target = getattr(self, name, self.title)
        if code in ("text_too_long", "string_too_long") and name in TEXT_LIMITS:
            message = _l("Too long: use at most %(n)s characters.", n=TEXT_LIMITS[name])
        else:
            message = MESSAGES.get(code, _l("This value is not accepted."))
        target.errors = [*target.errors, message]


class TaskFilterForm(FlaskForm):
    """Whose tasks the list shows; read from the query string.

    It changes nothing, so it carries no CSRF token (a token in a URL would only leak it).
    """

    class Meta:
        csrf = False

    who = ChoiceField(_l("Assigned to"), default="me")
