"""Forms of the customer list: its search and filters (from the query string), and saving a view."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SearchField, SelectChoice, StringField, SubmitField
from wtforms.validators import Length, ValidationError

from business_portal.customers.list_query import (
    MAX_SEARCH_LENGTH,
    SEGMENTS,
    SORTS,
    STATUSES,
    CustomerQuery,
)
from business_portal.customers.saved_views import MAX_NAME_LENGTH
from business_portal.customers.search_words import MAX_QUERY_WORDS, query_words
from business_portal.segments.labels import segment_label
from schemas.agreements import Purpose
from schemas.field_catalogue import FIELD_CATALOGUE
from vault.agreement_words import purpose_words
from vault.timeline_forms import ChoiceField

STATUS_WORDS: dict[str, Any] = {
    "active": _l("Active"),
    "paused": _l("Paused by the customer"),
    "expiring": _l("Ending within 30 days"),
}
SORT_WORDS: dict[str, Any] = {
    "newest": _l("Connected: newest first"),
    "oldest": _l("Connected: oldest first"),
    "ending": _l("Agreement ends: soonest first"),
    "id": _l("Pairwise ID"),
}
QUERY_FIELDS = ("q", "present", "segment", "tag", "status", "purpose", "sort")


class CustomerFilterForm(FlaskForm):
    """Search and filters, read from the query string.

    It changes nothing, so it carries no CSRF token (a token in a URL would only leak it).
    """

    class Meta:
        csrf = False

    q = SearchField(
        _l("Search"),
        validators=[
            Length(max=MAX_SEARCH_LENGTH, message=_l("Use at most 200 characters.")),
        ],
        description=_l("Any part of a name, e-mail or phone number the customers shared."),
    )
    present = ChoiceField(_l("Has a value in"), default="")
    segment = ChoiceField(_l("Segment"), default="")
    tag = ChoiceField(_l("Tag"), default="")
    status = ChoiceField(_l("Agreement"), default="")
    purpose = ChoiceField(_l("Purpose"), default="")
    sort = ChoiceField(_l("Sort by"), default="newest")

    def validate_q(self, field: SearchField) -> None:
        """Refuse a search that has no word to look for, or too many."""
        text = (field.data or "").strip()
        if not text:
            return
        words = query_words(text, limit=None)
        if not words:
            raise ValidationError(_l("Type at least two letters or digits."))
        if len(words) > MAX_QUERY_WORDS:
            raise ValidationError(_l("Use at most 8 words."))

    def offer(self, columns: list[str], tags: list[str], locale: str) -> None:
        """Offer the business's fields and tags, and the fixed lists, in the page's language."""
        anything = SelectChoice("", _l("Any"))
        self.present.choices = [anything] + [
            SelectChoice(key, FIELD_CATALOGUE[key].label(locale)) for key in columns
        ]
        self.segment.choices = [anything] + [SelectChoice(s, segment_label(s)) for s in SEGMENTS]
        self.tag.choices = [anything] + [SelectChoice(t, t) for t in tags]
        self.status.choices = [anything] + [SelectChoice(s, STATUS_WORDS[s]) for s in STATUSES]
        self.purpose.choices = [anything] + [
            SelectChoice(p.value, purpose_words(p.value)) for p in Purpose
        ]
        self.sort.choices = [SelectChoice(s, SORT_WORDS[s]) for s in SORTS]

    def query(self) -> CustomerQuery:
        """Return the query of the valid fields (a field with an error is left out)."""
        return CustomerQuery.from_params(
            {name: getattr(self, name).data for name in QUERY_FIELDS if not self[name].errors}
        )

    @property
    def filtered(self) -> bool:
        """Whether any search or filter (not just a sort) is in force."""
        return any(v for k, v in self.query().as_params().items() if k != "sort")


class SavedViewForm(FlaskForm):
    """Save the list's current search, filters and sort under a name."""

    name = StringField(
        _l("Name of the view"),
        validators=[Length(max=MAX_NAME_LENGTH, message=_l("Use at most 80 characters."))],
        description=_l("For example: Collectors in Baku."),
    )
    q = HiddenField()
    present = HiddenField()
    segment = HiddenField()
    tag = HiddenField()
    status = HiddenField()
    purpose = HiddenField()
    sort = HiddenField()
    submit = SubmitField(_l("Save this view"))

    def validate_name(self, field: StringField) -> None:
        """Ask for a name that is more than spaces."""
        if not (field.data or "").strip():
            raise ValidationError(_l("Give the view a name."))

    def carry(self, query: CustomerQuery) -> None:
        """Carry the list's query in the hidden fields."""
        params = query.as_params()
        for name in QUERY_FIELDS:
            getattr(self, name).data = params.get(name, "")

    def query(self) -> CustomerQuery:
        """Return the query the hidden fields carried."""
        return CustomerQuery.from_params({name: getattr(self, name).data for name in QUERY_FIELDS})


class DeleteViewForm(FlaskForm):
    """Delete one saved view (a button with the CSRF token)."""

    submit = SubmitField(_l("Delete"))
