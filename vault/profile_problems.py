"""Problems with a field value in the page's language: the schemas' codes mapped to messages."""

from __future__ import annotations

import re
from decimal import Decimal

from babel.numbers import format_decimal
from flask_babel import LazyString, get_locale
from flask_babel import lazy_gettext as _l

from schemas.field_errors import FieldProblem

__all__ = ["PROBLEM_MESSAGES", "problem_message"]


# The schemas speak English and give each problem a stable code; these are the codes a person
# can meet through these forms. A code not listed here shows the English message.
PROBLEM_MESSAGES: dict[str, LazyString] = {
    "missing": _l("This is required."),
    "text_required": _l("This is required."),
    "text_too_long": _l("Too long: use at most %(max)s characters."),
    "text_line_break": _l("Must be a single line. Remove the line breaks."),
    "text_control_character": _l(
        "Contains an invisible control character (%(char)s). Remove it, or type the text "
        "again instead of pasting it."
    ),
    "tag_comma": _l("A tag cannot contain a comma. Use commas only between tags."),
    "date_format": _l("Not a date. Use the form YYYY-MM-DD, for example 1990-04-21."),
    "date_impossible": _l("There is no such day as %(date)s. Check the day and the month."),
    "date_has_time": _l("Leave out the time of day. Use the form YYYY-MM-DD."),
    "date_too_early": _l("This date is before 1900-01-01. Check the year."),
    "date_in_future": _l("This date is in the future. Use today's date or an earlier one."),
    "year_invalid": _l("Not a year. Write the year with four digits, for example 2012."),
    "year_out_of_range": _l("Use a year from %(first)s to %(last)s."),
    "postal_code_invalid": _l(
        "Use only letters, digits, spaces and dashes, for example AZ1000 or 34000."
    ),
    "country_unknown": _l("Choose a country from the list."),
    "currency_unknown": _l("Choose a currency from the list."),
    "phone_country_code_missing": _l(
        "The country code is missing. Write it with + and the country code, "
        "for example +994 50 123 45 67."
    ),
    "phone_invalid": _l(
        "This is not a valid phone number. Write it with + and the country code, "
        "for example +994 50 123 45 67."
    ),
    "phone_extension": _l("Remove the extension: write only the phone number itself."),
    "email_invalid": _l(
        "This is not a valid e-mail address. Write it in the form name@example.com."
    ),
    "enum": _l("Choose one of the options in the list."),
    "too_short": _l("Add at least one. To remove this field, delete it instead."),
    "too_long": _l("Too many items: use at most %(max)s."),
    "decimal_parsing": _l("Not a number. Write digits only, for example 1500.50."),
    "decimal_type": _l("Not a number. Write digits only, for example 1500.50."),
    "finite_number": _l("Not a number. Write digits only, for example 1500.50."),
    "decimal_max_places": _l("Too many decimals: use at most %(places)s decimal places."),
    "decimal_max_digits": _l("The number is too large. Use a smaller amount."),
    "decimal_whole_digits": _l("The number is too large. Use a smaller amount."),
    "greater_than": _l("Too small: use a number greater than %(limit)s."),
    "less_than": _l("Too large: use a number less than %(limit)s."),
}
_NUMBER = r"[0-9][0-9,]*(?:\.[0-9]+)?"
# Where a message carries a detail (a limit, a character), the English text names it; the
# pattern takes it out for the translation. No match: the English message is shown as is.
_PROBLEM_DETAILS: dict[str, re.Pattern[str]] = {
    "text_too_long": re.compile(rf"at most (?P<max>{_NUMBER}) characters"),
    "text_control_character": re.compile(r"\((?P<char>U\+[0-9A-F]{4,6})\)"),
    "date_impossible": re.compile(r"such day as (?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})\."),
    "year_out_of_range": re.compile(r"from (?P<first>[0-9]{4}) to (?P<last>[0-9]{4})"),
    "too_short": re.compile(r"^Add at least 1 item\.$"),
    "too_long": re.compile(rf"at most (?P<max>{_NUMBER})\."),
    "decimal_max_places": re.compile(r"at most (?P<places>[0-9]+) digits"),
    "greater_than": re.compile(rf"greater than (?P<limit>{_NUMBER})\.$"),
    "less_than": re.compile(rf"less than (?P<limit>{_NUMBER})\.$"),
}


_AMOUNTS = frozenset({"max", "limit", "places"})  # written as numbers of the page's language


def _detail(name: str, text: str) -> str:
    if name not in _AMOUNTS:
        return text  # years, dates and character codes read the same in every language
    return format_decimal(Decimal(text.replace(",", "")), locale=get_locale())


def problem_message(problem: FieldProblem) -> str:
    """Return a problem's message in the page's language (English when it has no translation)."""
    template = PROBLEM_MESSAGES.get(problem.code)
    if template is None:
        return problem.message
    pattern = _PROBLEM_DETAILS.get(problem.code)
    if pattern is None:
        return str(template)
    found = pattern.search(problem.message)
    if found is None:
        return problem.message
    return str(template) % {k: _detail(k, v) for k, v in found.groupdict().items()}
