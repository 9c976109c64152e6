"""Annotated date and year types: strict ISO 8601 calendar dates, from 1900 on.

A date is a `date` object or a string "YYYY-MM-DD" and nothing else: no time of day, no week
dates, no timestamps. A year is an int or a string of digits, never a bool.
"""

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError

__all__ = [
    "EARLIEST_DATE",
    "BirthYear",
    "CalendarDate",
    "PastOrPresentDate",
    "latest_today",
]

EARLIEST_DATE = date(1900, 1, 1)

_DATE_HOW = "Use the form YYYY-MM-DD, for example 1990-04-21."
# ISO 8601 calendar date only; date.fromisoformat would also take "19900421" and "1990-W16-6".
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_DATE_WITH_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]")
_YEAR = re.compile(r"[0-9]{1,4}")


def latest_today() -> date:
    """Return today's date where it is latest on Earth (UTC+14)."""
    # A customer east of the server may already be living tomorrow; their today must pass.
    return (datetime.now(UTC) + timedelta(hours=14)).date()


def _parse_date(value: object) -> date:
    if isinstance(value, datetime):
        raise PydanticCustomError("date_has_time", f"Leave out the time of day. {_DATE_HOW}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if _ISO_DATE.fullmatch(text):
            try:
                return date.fromisoformat(text)
            except ValueError:
                raise PydanticCustomError(
                    "date_impossible",
                    f"There is no such day as {text}. Check the day and the month.",
                ) from None
        if _ISO_DATE_WITH_TIME.match(text):
            raise PydanticCustomError("date_has_time", f"Leave out the time of day. {_DATE_HOW}")
    raise PydanticCustomError("date_format", f"Not a date. {_DATE_HOW}")


def _not_before_earliest(value: date) -> date:
    if value < EARLIEST_DATE:
        raise PydanticCustomError(
            "date_too_early", "This date is before 1900-01-01. Check the year."
        )
    return value


def _not_in_future(value: date) -> date:
    if value > latest_today():
        raise PydanticCustomError(
            "date_in_future", "This date is in the future. Use today's date or an earlier one."
        )
    return value


CalendarDate = Annotated[date, BeforeValidator(_parse_date), AfterValidator(_not_before_earliest)]
PastOrPresentDate = Annotated[
    date,
    BeforeValidator(_parse_date),
    AfterValidator(_not_before_earliest),
    AfterValidator(_not_in_future),
]


def _parse_year(value: object) -> int:
    # bool is an int subclass; True must not quietly become the year 1.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _YEAR.fullmatch(value.strip()):
        return int(value.strip())
    raise PydanticCustomError(
        "year_invalid", "Not a year. Write the year with four digits, for example 2012."
    )


def _year_in_range(value: int) -> int:
    latest = latest_today().year
    if not EARLIEST_DATE.year <= value <= latest:
        raise PydanticCustomError(
            "year_out_of_range", f"Use a year from {EARLIEST_DATE.year} to {latest}."
        )
    return value


BirthYear = Annotated[int, BeforeValidator(_parse_year), AfterValidator(_year_in_range)]
