"""Kinds of catalogue field (how each is edited and shown), and the choices their inputs offer."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from decimal import Decimal
from enum import Enum, StrEnum

from babel import Locale
from babel.numbers import NumberFormatError, format_decimal, parse_decimal
from flask_babel import get_locale, gettext

from schemas.calendar_types import PastOrPresentDate
from schemas.choice_labels import choice_label
from schemas.field_catalogue import FieldSpec
from schemas.field_values import (
    Address,
    BrandList,
    ChildrenBirthYears,
    InterestList,
    LifeEventKind,
    LifeEventList,
    PurchaseIntentList,
)
from schemas.text_types import COUNTRY_CODES, CURRENCY_CODES, EmailAddress, PhoneNumber

__all__ = [
    "AUTOCOMPLETE",
    "FieldKind",
    "amount_for_input",
    "amount_from_input",
    "country_choices",
    "currency_choices",
    "enum_choices",
    "field_kind",
    "life_event_choices",
]


class FieldKind(StrEnum):
    """How a field is edited and shown."""

    TEXT = "text"
    EMAIL = "email"
    PHONE = "phone"
    DATE = "date"
    CHOICE = "choice"
    ADDRESS = "address"
    TAGS = "tags"
    YEARS = "years"
    LIFE_EVENTS = "life_events"
    PURCHASES = "purchases"


_KIND_OF_TYPE = (
    (PastOrPresentDate, FieldKind.DATE),
    (EmailAddress, FieldKind.EMAIL),
    (PhoneNumber, FieldKind.PHONE),
    (Address, FieldKind.ADDRESS),
    (InterestList, FieldKind.TAGS),
    (BrandList, FieldKind.TAGS),
    (ChildrenBirthYears, FieldKind.YEARS),
    (LifeEventList, FieldKind.LIFE_EVENTS),
    (PurchaseIntentList, FieldKind.PURCHASES),
)

# WCAG 1.3.5: say what an input is for, so browsers can fill it in.
AUTOCOMPLETE = {
    "identity.given_name": "given-name",
    "identity.family_name": "family-name",
    "identity.birth_date": "bday",
    "contact.email": "email",
    "contact.phone": "tel",
    "work.employer": "organization",
    "work.job_title": "organization-title",
}


def field_kind(spec: FieldSpec) -> FieldKind:
    """Return how a catalogue field is edited and shown."""
    for value_type, kind in _KIND_OF_TYPE:
        if spec.value_type is value_type:
            return kind
    if isinstance(spec.value_type, type) and issubclass(spec.value_type, Enum):
        return FieldKind.CHOICE
    return FieldKind.TEXT


def _folded(name: str) -> str:
    # Sort Ç with C and Ş with S, as people look for them, without a collation library.
    base = unicodedata.normalize("NFKD", name.replace("ı", "i").replace("ə", "e"))
    return "".join(c for c in base if not unicodedata.combining(c)).casefold()


def country_choices() -> list[tuple[str, str]]:
    """Return every country, named and sorted in the page's language."""
    names = get_locale().territories
    chosen = sorted(((code, names.get(code, code)) for code in COUNTRY_CODES), key=_by_name)
    return [("", gettext("Choose a country")), *chosen]


def _by_name(choice: tuple[str, str]) -> str:
    return _folded(choice[1])


def currency_choices() -> list[tuple[str, str]]:
    """Return every currency in use, by code, named in the page's language."""
    names = get_locale().currencies
    chosen = [(code, f"{code} · {names.get(code, code)}") for code in sorted(CURRENCY_CODES)]
    return [("", gettext("Choose a currency")), *chosen]


def enum_choices(options: Iterable[StrEnum]) -> list[tuple[str, str]]:
    """Return the choices of an enum field by their labels in the page's language."""
    locale = str(get_locale())
    return [("", gettext("Choose one")), *((o.value, choice_label(o, locale)) for o in options)]


def life_event_choices() -> list[tuple[str, str]]:
    """Return the kinds of life event, by their labels."""
    return enum_choices(LifeEventKind)


def amount_from_input(text: str, locale: Locale) -> str:
    """Read an amount as written in the page's language ("1.500,50" in tr); else pass it on."""
    compact = re.sub(r"[\s\u00a0\u202f]", "", text)
    try:
        return str(parse_decimal(compact, locale=locale, strict=True))
    except NumberFormatError:
        return compact  # the catalogue says what is wrong with it


def amount_for_input(text: str, locale: Locale) -> str:
    """Write a stored amount the way the page's language writes it, without grouping."""
    amount = Decimal(text)
    pattern = "0" if amount == amount.to_integral_value() else "0.00"
    return format_decimal(amount, format=pattern, locale=locale)
