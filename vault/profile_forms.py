"""Forms of "My data": an edit form for each kind of catalogue field.

The forms check nothing themselves (beyond CSRF): they turn the inputs into the raw value the
catalogue validates, and put each `FieldProblem` beside the input its `loc` points at.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from babel import Locale
from flask import request
from flask_babel import LazyString, get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    Field,
    FieldList,
    Form,
    FormField,
    SelectField,
    StringField,
    SubmitField,
    TelField,
)
from wtforms.widgets import DateInput

from schemas.field_catalogue import FieldSpec
from schemas.field_errors import FieldProblem
from vault.profile_kinds import (
    AUTOCOMPLETE,
    FieldKind,
    amount_for_input,
    amount_from_input,
    country_choices,
    currency_choices,
    enum_choices,
    field_kind,
    life_event_choices,
)
from vault.profile_problems import PROBLEM_MESSAGES, problem_message

__all__ = ["PROBLEM_MESSAGES", "DeleteFieldForm", "FieldEditForm", "edit_form"]

EMPTY_ROWS = 3  # blank rows offered under a list of life events or purchase plans
MAX_ROWS = 110  # a little over the longest list the catalogue takes, so its message shows


class DeleteFieldForm(FlaskForm):
    """The confirmation of a deletion (and its CSRF token)."""

    submit = SubmitField(_l("Yes, delete it"))


class FieldEditForm(FlaskForm):
    """What every edit form does: fill in, turn inputs into a raw value, place problems."""

    kind: ClassVar[FieldKind]
    template: ClassVar[str] = "single"
    submit = SubmitField(_l("Save"))

    def setup(self, spec: FieldSpec, locale: str) -> None:
        """Give the inputs their labels and hints in the page's language."""
        self.general_errors: list[str] = []
        self.spec = spec

    @classmethod
    def initial(cls, value: Any) -> dict[str, Any]:
        """Return the inputs' data for a stored value."""
        return {"value": value}

    def raw_value(self) -> object:
        """Return what the person typed, shaped as the catalogue takes it."""
        return (self.value.data or "").strip()

    def blank(self) -> bool:
        """Tell whether nothing was typed where something must be."""
        return not self.value.data or not str(self.value.data).strip()

    def target(self, loc: tuple[str | int, ...]) -> tuple[Field | None, str | None]:
        """Return the input a problem at `loc` belongs to, and the item it is about."""
        return self.value, None

    def show_problems(self, problems: Iterable[FieldProblem]) -> None:
        """Put each problem's message beside its input (or above the form)."""
        for problem in problems:
            message = problem_message(problem)
            field, item = self.target(problem.loc)
            if item is not None:
                message = gettext("“%(item)s”: %(message)s", item=item, message=message)
            if field is None:
                self.general_errors.append(message)
            else:
                field.errors = [*field.errors, message]


class _SingleInputForm(FieldEditForm):
    def setup(self, spec: FieldSpec, locale: str) -> None:
        super().setup(spec, locale)
        self.value.label.text = spec.label(locale)
        self.value.description = spec.hint(locale)
        if spec.key in AUTOCOMPLETE:
            self.value.render_kw = {
                **(self.value.render_kw or {}),
                "autocomplete": AUTOCOMPLETE[spec.key],
            }


class TextForm(_SingleInputForm):
    kind = FieldKind.TEXT
    value = StringField()


class EmailForm(_SingleInputForm):
    kind = FieldKind.EMAIL
    value = EmailField()


class PhoneForm(_SingleInputForm):
    kind = FieldKind.PHONE
    value = TelField()


class DateForm(_SingleInputForm):
    kind = FieldKind.DATE
    value = StringField(widget=DateInput())


class ChoiceForm(_SingleInputForm):
    kind = FieldKind.CHOICE
    value = SelectField(validate_choice=False)

    def setup(self, spec: FieldSpec, locale: str) -> None:
        super().setup(spec, locale)
        self.value.choices = enum_choices(spec.value_type)


class _ListInputForm(_SingleInputForm):
    """A list typed as one comma-separated input; a problem names the item it is about."""

    value = StringField()

    def blank(self) -> bool:
        return False  # an empty list has its own message (or, for children, means none)

    def raw_value(self) -> object:
        return self.value.data or ""

    @classmethod
    def initial(cls, value: Any) -> dict[str, Any]:
        return {"value": ", ".join(str(item) for item in value or [])}

    def target(self, loc: tuple[str | int, ...]) -> tuple[Field | None, str | None]:
        items = [piece.strip() for piece in (self.value.data or "").split(",") if piece.strip()]
        if loc and isinstance(loc[0], int) and loc[0] < len(items):
            return self.value, items[loc[0]]
        return self.value, None


class TagsForm(_ListInputForm):
    kind = FieldKind.TAGS


class YearsForm(_ListInputForm):
    kind = FieldKind.YEARS
    value = StringField(render_kw={"inputmode": "numeric"})


class AddressForm(FieldEditForm):
    kind = FieldKind.ADDRESS
    template = "address"
    street = StringField(_l("Street and house number"), render_kw={"autocomplete": "address-line1"})
    city = StringField(_l("City"), render_kw={"autocomplete": "address-level2"})
    postal_code = StringField(
        _l("Postal code (if your country uses them)"), render_kw={"autocomplete": "postal-code"}
    )
    country = SelectField(
        _l("Country"),
        choices=country_choices,
        validate_choice=False,
        render_kw={"autocomplete": "country"},
    )
    PARTS: ClassVar[tuple[str, ...]] = ("street", "city", "postal_code", "country")

    @classmethod
    def initial(cls, value: Any) -> dict[str, Any]:
        return {part: (value or {}).get(part) or "" for part in cls.PARTS}

    def blank(self) -> bool:
        return False

    def raw_value(self) -> object:
        raw = {part: (self[part].data or "").strip() for part in self.PARTS}
        raw["postal_code"] = raw["postal_code"] or None
        if not raw["country"]:
            del raw["country"]  # "This is required" says more than "unknown country"
        return raw

    def target(self, loc: tuple[str | int, ...]) -> tuple[Field | None, str | None]:
        return (self[loc[0]] if loc and loc[0] in self.PARTS else None), None


class LifeEventRow(Form):
    """One life event: what happened and when."""

    kind = SelectField(_l("What happened"), choices=life_event_choices, validate_choice=False)
    date = StringField(_l("When"), widget=DateInput())


class PurchaseRow(Form):
    """One purchase plan: what, by when, and the budget with its currency."""

    what = StringField(_l("What you plan to buy"))
    by = StringField(_l("By when (optional)"), widget=DateInput())
    budget = StringField(_l("Budget"), render_kw={"inputmode": "decimal"})
    currency = SelectField(_l("Currency"), choices=currency_choices, validate_choice=False)


class _RowsForm(FieldEditForm):
    """A list of entries as rows of inputs; a cleared row is removed, a blank one adds one."""

    template = "rows"
    row_parts: ClassVar[tuple[str, ...]]
    row_required: ClassVar[tuple[str, ...]]
    row_legend: ClassVar[LazyString]

    def setup(self, spec: FieldSpec, locale: str) -> None:
        super().setup(spec, locale)
        self.locale = Locale.parse(locale)
        self._positions: list[int] = []

    def blank(self) -> bool:
        return False

    def _item(self, row: Form) -> dict[str, Any]:
        item = {part: (row[part].data or "").strip() for part in self.row_parts}
        # Leaving out a required part yields "This is required", which says what to do.
        return {k: v for k, v in item.items() if v or k not in self.row_required}

    def raw_value(self) -> object:
        items, self._positions = [], []
        for position, entry in enumerate(self.rows.entries):
            if any((entry.form[part].data or "").strip() for part in self.row_required):
                self._positions.append(position)
                items.append(self._item(entry.form))
        return items

    def target(self, loc: tuple[str | int, ...]) -> tuple[Field | None, str | None]:
        if not loc or not isinstance(loc[0], int) or loc[0] >= len(self._positions):
            return None, None
        row = self.rows.entries[self._positions[loc[0]]].form
        part = loc[1] if len(loc) > 1 and loc[1] in self.row_parts else self.row_parts[0]
        return row[part], None


class LifeEventsForm(_RowsForm):
    kind = FieldKind.LIFE_EVENTS
    rows = FieldList(FormField(LifeEventRow), max_entries=MAX_ROWS)
    row_parts = ("kind", "date")
    row_required = ("kind", "date")
    row_legend = _l("Event %(number)s")

    @classmethod
    def initial(cls, value: Any) -> dict[str, Any]:
        return {"rows": [*(dict(item) for item in value or []), *([{}] * EMPTY_ROWS)]}


class PurchasesForm(_RowsForm):
    kind = FieldKind.PURCHASES
    rows = FieldList(FormField(PurchaseRow), max_entries=MAX_ROWS)
    row_parts = ("what", "by", "budget", "currency")
    row_required = ("what", "budget", "currency")
    row_legend = _l("Plan %(number)s")

    @classmethod
    def initial(cls, value: Any) -> dict[str, Any]:
        locale = get_locale()
        rows = [
            {**item, "by": item.get("by") or "", "budget": amount_for_input(item["budget"], locale)}
            for item in value or []
        ]
        return {"rows": [*rows, *([{}] * EMPTY_ROWS)]}

    def raw_value(self) -> object:
        # Only typing counts: a currency picked in an otherwise empty row adds nothing.
        items, self._positions = [], []
        for position, entry in enumerate(self.rows.entries):
            row = entry.form
            if any((row[part].data or "").strip() for part in ("what", "by", "budget")):
                self._positions.append(position)
                item = self._item(row)
                if "budget" in item:
                    item["budget"] = amount_from_input(item["budget"], self.locale)
                item["by"] = item.get("by") or None
                items.append(item)
        return items


_FORMS: Mapping[FieldKind, type[FieldEditForm]] = {
    form.kind: form
    for form in (
        TextForm,
        EmailForm,
        PhoneForm,
        DateForm,
        ChoiceForm,
        TagsForm,
        YearsForm,
        AddressForm,
        LifeEventsForm,
        PurchasesForm,
    )
}


def edit_form(spec: FieldSpec, current: Any) -> FieldEditForm:
    """Return the edit form of a field: the posted inputs, or else the stored value."""
    form_class = _FORMS[field_kind(spec)]
    # Posted inputs alone: mixing in the stored value would bring back what was cleared.
    form = (
        form_class() if request.method == "POST" else form_class(data=form_class.initial(current))
    )
    form.setup(spec, str(get_locale()))
    return form
