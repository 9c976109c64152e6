"""How a stored value reads to a person: dates per locale, choices by label, lists as lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import phonenumbers
from flask_babel import format_currency, format_date, get_locale, gettext

from schemas.choice_labels import choice_label
from schemas.field_catalogue import FieldSpec
from schemas.field_values import LifeEventKind
from vault.profile_kinds import FieldKind, field_kind

__all__ = ["ShownValue", "show_value"]


@dataclass(frozen=True)
class ShownValue:
    """A value as lines of text; `as_list` when they are items rather than lines of one thing."""

    lines: tuple[str, ...]
    as_list: bool = False


def _date(text: str) -> str:
    return format_date(date.fromisoformat(text), format="long")


def _choice(enum: Any, value: str, locale: str) -> str:
    try:
        return choice_label(enum(value), locale)
    except (ValueError, KeyError):
        return value  # a choice the catalogue no longer offers still reads as stored


def _phone(text: str) -> str:
    number = phonenumbers.parse(text, None)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _address(value: dict[str, Any]) -> tuple[str, ...]:
    country = get_locale().territories.get(value["country"], value["country"])
    town = " ".join(part for part in (value.get("postal_code"), value["city"]) if part)
    return (value["street"], town, country)


def _life_event(item: dict[str, Any], locale: str) -> str:
    event = _choice(LifeEventKind, item["kind"], locale)
    return gettext("%(event)s, %(date)s", event=event, date=_date(item["date"]))


def _purchase(item: dict[str, Any]) -> str:
    amount = format_currency(Decimal(item["budget"]), item["currency"])
    if item.get("by"):
        return gettext(
            "%(what)s, by %(date)s, budget %(amount)s",
            what=item["what"],
            date=_date(item["by"]),
            amount=amount,
        )
    return gettext("%(what)s, budget %(amount)s", what=item["what"], amount=amount)


def show_value(spec: FieldSpec, value: Any) -> ShownValue:
    """Return a stored value as a person reads it, in the page's language."""
    locale = str(get_locale())
    kind = field_kind(spec)
    if kind is FieldKind.DATE:
        return ShownValue((_date(value),))
    if kind is FieldKind.PHONE:
        return ShownValue((_phone(value),))
    if kind is FieldKind.CHOICE:
        return ShownValue((_choice(spec.value_type, value, locale),))
    if kind is FieldKind.ADDRESS:
        return ShownValue(_address(value))
    if kind is FieldKind.YEARS and not value:
        return ShownValue((gettext("No children"),))
    if kind in (FieldKind.TAGS, FieldKind.YEARS):
        return ShownValue(tuple(str(item) for item in value), as_list=True)
    if kind is FieldKind.LIFE_EVENTS:
        return ShownValue(tuple(_life_event(item, locale) for item in value), as_list=True)
    if kind is FieldKind.PURCHASES:
        return ShownValue(tuple(_purchase(item) for item in value), as_list=True)
    return ShownValue((str(value),))
