"""The customer's timeline: every interaction with every business, and entries of their own."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel.numbers import get_currency_name
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import (
    format_currency,
    format_date,
    format_decimal,
    format_time,
    get_locale,
    to_user_timezone,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from schemas.interactions import InteractionKind
from schemas.text_types import CURRENCY_CODES
from vault.access_log_views import business_names
from vault.agreements.services import customer_agreements
from vault.interactions.services import CUSTOMER_AUTHOR, InteractionRecord, list_interactions
from vault.interactions.services import log_interaction as log_customer_interaction
from vault.timeline_forms import KIND_WORDS, InteractionForm, interaction_entry
from vault.web_session import current_customer, current_vault, customer_required

blueprint = Blueprint("vault_interactions", __name__, template_folder="templates")

# How the vault names a business that wrote an entry (the broker writes "business:<id>").
BUSINESS_AUTHOR_PREFIX = "business:"
# Offered first in the currency list: the currencies of the people Emanet serves first.
COMMON_CURRENCIES = ("AZN", "TRY", "EUR", "USD", "GBP")
TEXT_LIMITS = {"summary": 200, "details": 5000}


@dataclass(frozen=True)
class TimelineEntry:
    """One interaction, ready to show."""

    id: uuid.UUID
    kind: InteractionKind
    kind_words: str
    at: datetime
    when: str
    author: str
    by_customer: bool
    summary: str | None
    details: str | None
    amount: str | None


@dataclass(frozen=True)
class Month:
    """The entries of one calendar month, newest first."""

    label: str
    entries: list[TimelineEntry]


def _capitalised(text: str, locale: str) -> str:
    # Azerbaijani and Turkish month names start in lower case; their capital of i is İ.
    if not text:
        return text
    first = "İ" if text[0] == "i" and locale[:2] in ("az", "tr") else text[0].upper()
    return first + text[1:]


def _amount(record: InteractionRecord) -> str | None:
    if record.amount is None:
        return None
    if record.currency is None:
        return str(format_decimal(record.amount))
    return str(format_currency(record.amount, record.currency))


def _author(logged_by: str, names: dict[uuid.UUID, str]) -> str:
    if logged_by == CUSTOMER_AUTHOR:
        return _("You")
    try:
        business_id = uuid.UUID(logged_by.removeprefix(BUSINESS_AUTHOR_PREFIX))
    except ValueError:
        return _("A business")
    return names.get(business_id) or _("A business")


def _months(records: list[InteractionRecord], names: dict[uuid.UUID, str]) -> list[Month]:
    locale = str(get_locale())
    months: list[Month] = []
    current: tuple[int, int] | None = None
    for record in records:
        local = to_user_timezone(record.occurred_at)
        if (local.year, local.month) != current:
            current = (local.year, local.month)
            months.append(Month(_capitalised(format_date(local, "MMMM y"), locale), []))
        months[-1].entries.append(
            TimelineEntry(
                id=record.id,
                kind=record.kind,
                kind_words=str(KIND_WORDS[record.kind]),
                at=record.occurred_at,
                when=f"{format_date(record.occurred_at, 'medium')}, "
                f"{format_time(record.occurred_at, 'short')}",
                author=_author(record.logged_by, names),
                by_customer=record.logged_by == CUSTOMER_AUTHOR,
                summary=record.summary,
                details=record.details,
                amount=_amount(record),
            )
        )
    return months


def _currency_choices(locale: str) -> list[SelectChoice]:
    def choice(code: str) -> SelectChoice:
        return SelectChoice(code, f"{code} · {get_currency_name(code, locale=locale)}")

    rest = sorted(CURRENCY_CODES.difference(COMMON_CURRENCIES))
    return [choice(code) for code in (*COMMON_CURRENCIES, *rest)]


def _message(code: str, field: str) -> str:
    """Say in the page language what is wrong with one part of the entry."""
    messages: dict[str, Any] = {
        "interaction_in_future": _("This is in the future. Add it once it has happened."),
        "purchase_amount_required": _(
            "A purchase needs an amount and a currency, for example 25.00 AZN."
        ),
        "amount_only_for_purchases": _(
            "Only a purchase has an amount. Remove it, or choose the kind Purchase."
        ),
        "text_line_break": _("Must be a single line. Remove the line breaks."),
        "text_control_character": _(
            "Contains an invisible control character. Type the text again instead of pasting it."
        ),
        "currency_unknown": _("Choose a currency from the list."),
        "greater_than": _("The amount must be more than zero."),
        "less_than": _("The amount is too large."),
        "decimal_max_digits": _("The amount is too large."),
        "decimal_whole_digits": _("The amount is too large."),
        "decimal_max_places": _("Use at most two digits after the decimal point."),
    }
    if code in ("text_too_long", "string_too_long") and field in TEXT_LIMITS:
        return _("Too long: use at most %(n)s characters.", n=format_decimal(TEXT_LIMITS[field]))
    return str(messages.get(code, _("This value is not accepted.")))


@blueprint.route("/interactions", methods=["GET", "POST"])
@customer_required
def timeline() -> str | Response:
    """Show the customer's timeline across all businesses, and add an entry of their own."""
    customer_id = current_customer()
    assert customer_id is not None
    vault = current_vault()
    form = InteractionForm()
    form.set_currencies(_currency_choices(str(get_locale())))
    if form.validate_on_submit():
        entry = interaction_entry(form, _message)
        if entry is not None:
            with vault.unit_of_work() as uow:
                log_customer_interaction(uow, customer_id, entry)
            flash(_("Added to your timeline."))
            return redirect(url_for("vault_interactions.timeline"), 303)
    elif not form.is_submitted():
        now = to_user_timezone(vault.clock()).replace(second=0, microsecond=0, tzinfo=None)
        form.occurred_at.data = now
    with vault.unit_of_work(write=False) as uow:
        names = business_names(customer_agreements(uow, customer_id))
        records = list_interactions(uow, customer_id)
    return render_template(
        "vault/interactions.html",
        form=form,
        months=_months(records, names),
        adding=form.is_submitted(),
    )
