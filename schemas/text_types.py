"""Annotated text types for field values: names, tags, codes, phone numbers, e-mail addresses.

Each type takes a string only, normalises it to one canonical form and raises
`PydanticCustomError` with a stable code and an English message that says how to fix it.
"""

import re
import unicodedata
from datetime import date
from typing import Annotated, Any

import babel
import phonenumbers
from babel.numbers import get_territory_currencies
from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, Strict
from pydantic_core import PydanticCustomError

__all__ = [
    "COUNTRY_CODES",
    "CURRENCY_CODES",
    "CountryCode",
    "CurrencyCode",
    "EmailAddress",
    "MultilineText",
    "PhoneNumber",
    "ShortText",
    "Tag",
    "multiline_text",
    "short_text",
]

# Every character that ends a line, including those pasted in from word processors.
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
# Cc and Cf are invisible (bidi overrides such as U+202E can disguise a name); Cs are lone
# surrogates, which cannot be encoded to UTF-8 and would fail only later, when stored.
_REJECTED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
_MULTILINE_ALLOWED = frozenset("\n\t")


def _reject_invisible(text: str, allowed: frozenset[str], *, single_line: bool) -> None:
    for char in text:
        if char in allowed:
            continue
        if single_line and char in _LINE_BREAKS:
            raise PydanticCustomError(
                "text_line_break", "Must be a single line. Remove the line breaks."
            )
        if char in _LINE_BREAKS or unicodedata.category(char) in _REJECTED_CATEGORIES:
            raise PydanticCustomError(
                "text_control_character",
                f"Contains an invisible control character (U+{ord(char):04X}). "
                "Remove it, or type the text again instead of pasting it.",
            )


def _bounded(text: str, max_length: int) -> str:
    if not text:
        raise PydanticCustomError("text_required", "This is required. Write some text.")
    if len(text) > max_length:
        raise PydanticCustomError(
            "text_too_long", f"Too long: use at most {max_length} characters."
        )
    return text


def _single_line(max_length: int) -> AfterValidator:
    def check(text: str) -> str:
        _reject_invisible(text, frozenset(), single_line=True)
        return _bounded(unicodedata.normalize("NFC", text).strip(), max_length)

    return AfterValidator(check)


def _multiline(max_length: int) -> AfterValidator:
    def check(text: str) -> str:
        # Browsers submit textareas with CRLF; store one kind of line break.
        text = re.sub(r"\r\n?|[\x85\u2028\u2029]", "\n", text)
        _reject_invisible(text, _MULTILINE_ALLOWED, single_line=False)
        return _bounded(unicodedata.normalize("NFC", text).strip(), max_length)

    return AfterValidator(check)


def short_text(max_length: int = 200) -> Any:
    """Return a single-line text type of 1..max_length characters after normalisation."""
    return Annotated[str, Strict(), _single_line(max_length)]


def multiline_text(max_length: int = 5000) -> Any:
    """Return a text type that allows line breaks and tabs, 1..max_length characters."""
    return Annotated[str, Strict(), _multiline(max_length)]


ShortText = short_text(200)
MultilineText = multiline_text(5000)


def _check_tag(text: str) -> str:
    # Tags travel as one comma-separated string from the form, so a comma would split one.
    if "," in text:
        raise PydanticCustomError(
            "tag_comma", "A tag cannot contain a comma. Use commas only between tags."
        )
    return text


Tag = Annotated[str, Strict(), _single_line(40), AfterValidator(_check_tag)]


# CLDR territories that are not ISO 3166-1 countries: regions, reserved and private-use codes.
# XK (Kosovo) is user-assigned in ISO 3166 but used for Kosovo by the EU and CLDR, so it stays.
_NOT_COUNTRIES = frozenset(
    {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "ZZ"}
)
COUNTRY_CODES: frozenset[str] = frozenset(
    code
    for code in babel.Locale("en").territories
    if len(code) == 2 and code.isascii() and code.isalpha() and code not in _NOT_COUNTRIES
)


def _check_country(text: str) -> str:
    code = text.strip().upper()
    if code not in COUNTRY_CODES:
        raise PydanticCustomError(
            "country_unknown",
            "Unknown country. Use the two-letter ISO 3166 country code, "
            "for example AZ for Azerbaijan or TR for Türkiye.",
        )
    return code


CountryCode = Annotated[str, Strict(), AfterValidator(_check_country)]


def _currencies_in_use_since(start: date) -> frozenset[str]:
    # Only currencies still or recently in use: old codes such as TRL (the lira before 2005)
    # or AZM (the manat before 2006) are common mistakes, while a currency retired lately
    # must stay valid for values people saved before it was retired.
    return frozenset(
        currency
        for territory in babel.Locale("en").territories
        if len(territory) == 2
        for currency in get_territory_currencies(territory, start_date=start, end_date=date.max)
    )


CURRENCY_CODES: frozenset[str] = _currencies_in_use_since(date(2020, 1, 1))


def _check_currency(text: str) -> str:
    code = text.strip().upper()
    if code not in CURRENCY_CODES:
        raise PydanticCustomError(
            "currency_unknown",
            "Unknown currency. Use the three-letter ISO 4217 currency code, "
            "for example AZN, TRY, EUR or USD.",
        )
    return code


CurrencyCode = Annotated[str, Strict(), AfterValidator(_check_currency)]

_PHONE_HOW = "Write it with + and the country code, for example +994 50 123 45 67."


def _check_phone(text: str) -> str:
    text = text.strip()
    if not text.startswith("+"):
        raise PydanticCustomError(
            "phone_country_code_missing", f"The country code is missing. {_PHONE_HOW}"
        )
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise PydanticCustomError(
            "phone_invalid", f"This is not a valid phone number. {_PHONE_HOW}"
        )
    if number.extension:
        # E.164 has no room for an extension; dropping it silently would lose data.
        raise PydanticCustomError(
            "phone_extension", "Remove the extension: write only the phone number itself."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


PhoneNumber = Annotated[str, Strict(), AfterValidator(_check_phone)]


def _check_email(text: str) -> str:
    try:
        checked = validate_email(text.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise PydanticCustomError(
            "email_invalid",
            f"This is not a valid e-mail address. {exc} Write it in the form name@example.com.",
        ) from None
    return checked.normalized


EmailAddress = Annotated[str, Strict(), AfterValidator(_check_email)]
