"""How a customer of the list reads on the page and in the CSV: cells, status and purposes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app, url_for
from flask_babel import format_date
from flask_babel import gettext as _

from business_portal.customers.forms import STATUS_WORDS
from business_portal.customers.services import CustomerEntry
from schemas.field_catalogue import FIELD_CATALOGUE
from schemas.spreadsheet_cells import csv_safe
from vault.agreement_words import purpose_words
from vault.profile_display import show_value

CARD_ENDPOINT = "portal_card.card"


@dataclass(frozen=True)
class Cell:
    """One field of one customer: "value", "empty" (granted, no value), "not-shared", "paused"."""

    kind: str
    lines: tuple[str, ...] = ()
    as_list: bool = False


@dataclass(frozen=True)
class Row:
    """One customer as the table shows them."""

    subject: str
    card_url: str
    cells: list[Cell]
    status: str
    status_words: str
    ends_on: str | None
    purposes: list[str]
    since: datetime
    since_words: str


def card_url(subject: str) -> str:
    """Return the address of the customer's card."""
    if CARD_ENDPOINT in current_app.view_functions:
        return url_for(CARD_ENDPOINT, subject=subject)
    return f"/portal/customers/{subject}"


def cell(entry: CustomerEntry, key: str) -> Cell:
    """Return what the table shows for one field: a value only if it is granted and readable."""
    if key in entry.granted:
        found = entry.values.get(key)
        if found is None:
            return Cell("empty")
        shown = show_value(FIELD_CATALOGUE[key], found.value)
        return Cell("value", shown.lines, shown.as_list)
    return Cell("paused" if key in entry.paused else "not-shared")


def row(entry: CustomerEntry, columns: list[str]) -> Row:
    """Return a customer's row of the table."""
    expiring = entry.status == "expiring" and entry.valid_until is not None
    return Row(
        subject=entry.subject,
        card_url=card_url(entry.subject),
        cells=[cell(entry, key) for key in columns],
        status=entry.status,
        status_words=str(STATUS_WORDS[entry.status]),
        ends_on=format_date(entry.valid_until, "medium") if expiring else None,
        purposes=[purpose_words(p) for p in entry.purposes],
        since=entry.connected_since,
        since_words=format_date(entry.connected_since, "medium"),
    )


def csv_cell(entry: CustomerEntry, key: str) -> str:
    """Return one field as a CSV cell: the value if granted, else empty."""
    found = cell(entry, key)
    separator = "; " if found.as_list else ", "
    return csv_safe(separator.join(found.lines))


def column_label(key: str, locale: str) -> str:
    """Return a field's column heading in the page's language."""
    return FIELD_CATALOGUE[key].label(locale)


def empty_words() -> dict[str, str]:
    """Return the words of cells without a value."""
    return {
        "empty": _("No value"),
        "not-shared": _("not shared"),
        "paused": _("paused"),
    }
