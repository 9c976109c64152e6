"""ISO 8601 durations of whole days, weeks, months and years (e.g. P1Y, P6M, P2W, P30D)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer
from pydantic_core import PydanticCustomError

_PATTERN = re.compile(r"P(?:(\d{1,3})Y)?(?:(\d{1,4})M)?(?:(\d{1,4})W)?(?:(\d{1,5})D)?")
MAX_DAYS = 366 * 100


@dataclass(frozen=True, order=True)
class CalendarDuration:
    """A span of calendar time; months and years follow the calendar, not a fixed day count."""

    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0

    @classmethod
    def parse(cls, text: str) -> CalendarDuration:
        """Read an ISO 8601 duration such as P1Y6M or P30D; raise ValueError if it is not one."""
        match = _PATTERN.fullmatch(text.strip().upper())
        if not match or not any(match.groups()):
            raise ValueError(f"{text!r} is not a duration such as P1Y, P6M, P2W or P30D")
        years, months, weeks, days = (int(group or 0) for group in match.groups())
        return cls(years, months, weeks, days)

    def approximate_days(self) -> int:
        """Return the length in days, counting a month as 30 and a year as 365."""
        return self.years * 365 + self.months * 30 + self.weeks * 7 + self.days

    def after(self, start: datetime) -> datetime:
        """Return the moment this long after `start` (the 31st plus P1M ends on the 30th)."""
        months = start.month - 1 + self.months + 12 * self.years
        year, month = start.year + months // 12, months % 12 + 1
        day = min(start.day, calendar.monthrange(year, month)[1])

        return start.replace(year=year, month=month, day=day) + timedelta(
            days=self.days + 7 * self.weeks
        )

    def __str__(self) -> str:
        parts = [(self.years, "Y"), (self.months, "M"), (self.weeks, "W"), (self.days, "D")]
        text = "".join(f"{n}{unit}" for n, unit in parts if n)
        return "P" + (text or "0D")


def _parse(value: object) -> CalendarDuration:
    if isinstance(value, CalendarDuration):
        return value
    if not isinstance(value, str):
        raise PydanticCustomError("duration_type", "Write a duration such as P1Y, P6M or P30D.")
    try:
        duration = CalendarDuration.parse(value)
    except ValueError:
        raise PydanticCustomError(
            "duration_format",
            "Not a duration. Use ISO 8601 days, weeks, months or years: P1Y, P6M, P2W, P30D.",
        ) from None
    if duration.approximate_days() > MAX_DAYS:
        raise PydanticCustomError("duration_too_long", "Too long: use at most 100 years.")
    return duration


Duration = Annotated[
    CalendarDuration,
    BeforeValidator(_parse),
    PlainSerializer(str, return_type=str),
]
