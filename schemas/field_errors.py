"""Errors raised when a field key or a field value is not acceptable.

Every message is English, says what is wrong and how to fix it; the code is stable so that a
user interface can translate it.
"""

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

__all__ = [
    "FieldProblem",
    "FieldValueError",
    "UnknownFieldError",
    "format_loc",
    "problems_from_validation_error",
]


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with a field value, at a place inside the value."""

    loc: tuple[str | int, ...]
    code: str
    message: str


class FieldValueError(ValueError):
    """A value given for a catalogue field is not acceptable."""

    def __init__(self, field_key: str, problems: Iterable[FieldProblem]) -> None:
        self.field_key = field_key
        self.problems = tuple(problems)
        super().__init__(self._render())

    def _render(self) -> str:
        # Messages are whole sentences, so a space is enough between them.
        return " ".join(
            f"{self.field_key}{format_loc(problem.loc)}: {problem.message}"
            for problem in self.problems
        )

    def __str__(self) -> str:
        return self._render()

    def __reduce__(self) -> tuple[type["FieldValueError"], tuple[str, tuple[FieldProblem, ...]]]:
        # Exceptions are rebuilt from their args when unpickled; ours are not the message.
        return (type(self), (self.field_key, self.problems))


class UnknownFieldError(KeyError):
    """A field key is not in the catalogue."""

    def __init__(self, field_key: str, known_keys: Iterable[str]) -> None:
        self.field_key = field_key
        self.known_keys = tuple(known_keys)
        self.message = f"Unknown field '{field_key}'. Known fields: {', '.join(self.known_keys)}."
        super().__init__(self.message)

    def __str__(self) -> str:
        # KeyError would show the repr of its argument, quotes and all.
        return self.message

    def __reduce__(self) -> tuple[type["UnknownFieldError"], tuple[str, tuple[str, ...]]]:
        return (type(self), (self.field_key, self.known_keys))


def format_loc(loc: tuple[str | int, ...]) -> str:
    """Render a location inside a value as a suffix, e.g. `[0].budget`."""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)


_DATE_HOW = "Not a date. Use the form YYYY-MM-DD, for example 1990-04-21."
_INT_HOW = "Not a whole number. Write digits only, for example 2012."
_DECIMAL_HOW = "Not a number. Write digits with a dot before the decimals, for example 1500.50."
_OBJECT_HOW = "Wrong kind of value: expected an object with named parts."


def _expected_choices(ctx: Mapping[str, Any]) -> str:
    # pydantic renders the choices as "'a', 'b' or 'c'"; people read a plain list better.
    return ", ".join(re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))


def _number(value: object) -> str:
    # 1000000000000 is hard to read; 1,000,000,000,000 is not.
    return f"{value:,}" if isinstance(value, int | Decimal) else str(value)


def _items(count: object) -> str:
    return "1 item" if count == 1 else f"{count} items"


_Friendly = Callable[[Mapping[str, Any], tuple[str | int, ...]], str]

# Built-in pydantic error types that a person may meet, with wording that says how to fix it.
# Types not listed keep pydantic's message; custom errors (our own codes) keep theirs.
_FRIENDLY: dict[str, _Friendly] = {
    "missing": lambda ctx, loc: "This is required.",
    "string_type": lambda ctx, loc: "Wrong kind of value: write it as text.",
    "string_sub_type": lambda ctx, loc: "Wrong kind of value: write it as text.",
    "string_unicode": lambda ctx, loc: "The text is not valid Unicode. Retype it.",
    "string_too_short": lambda ctx, loc: (
        "This is required."
        if ctx.get("min_length", 1) == 1
        else f"Too short: use at least {ctx['min_length']} characters."
    ),
    "string_too_long": lambda ctx, loc: (
        f"Too long: use at most {ctx.get('max_length')} characters."
    ),
    "string_pattern_mismatch": lambda ctx, loc: "Not in the expected format. Check the hint.",
    "date_type": lambda ctx, loc: _DATE_HOW,
    "date_parsing": lambda ctx, loc: _DATE_HOW,
    "date_from_datetime_parsing": lambda ctx, loc: _DATE_HOW,
    "date_from_datetime_inexact": lambda ctx, loc: _DATE_HOW,
    "int_type": lambda ctx, loc: _INT_HOW,
    "int_parsing": lambda ctx, loc: _INT_HOW,
    "int_from_float": lambda ctx, loc: _INT_HOW,
    "decimal_type": lambda ctx, loc: _DECIMAL_HOW,
    "decimal_parsing": lambda ctx, loc: _DECIMAL_HOW,
    "finite_number": lambda ctx, loc: _DECIMAL_HOW,
    "decimal_max_places": lambda ctx, loc: (
        f"Too many decimals: use at most {ctx.get('decimal_places')} digits after the dot."
    ),
    "decimal_max_digits": lambda ctx, loc: "The number is too large. Use a smaller amount.",
    "decimal_whole_digits": lambda ctx, loc: "The number is too large. Use a smaller amount.",
    "greater_than": lambda ctx, loc: (
        f"Too small: use a number greater than {_number(ctx.get('gt'))}."
    ),
    "greater_than_equal": lambda ctx, loc: f"Too small: use {_number(ctx.get('ge'))} or more.",
    "less_than": lambda ctx, loc: f"Too large: use a number less than {_number(ctx.get('lt'))}.",
    "less_than_equal": lambda ctx, loc: f"Too large: use {_number(ctx.get('le'))} or less.",
    "enum": lambda ctx, loc: f"Choose one of: {_expected_choices(ctx)}.",
    "literal_error": lambda ctx, loc: f"Choose one of: {_expected_choices(ctx)}.",
    "list_type": lambda ctx, loc: "Wrong kind of value: expected a list of items.",
    "too_short": lambda ctx, loc: f"Add at least {_items(ctx.get('min_length'))}.",
    "too_long": lambda ctx, loc: f"Too many items: use at most {ctx.get('max_length')}.",
    "extra_forbidden": lambda ctx, loc: f"Unknown part '{loc[-1] if loc else ''}'. Remove it.",
    "model_type": lambda ctx, loc: _OBJECT_HOW,
    "model_attributes_type": lambda ctx, loc: _OBJECT_HOW,
    "dict_type": lambda ctx, loc: _OBJECT_HOW,
    "none_required": lambda ctx, loc: "Leave this empty.",
}


def _problem(error: ErrorDetails) -> FieldProblem:
    loc = tuple(error["loc"])
    code = error["type"]
    friendly = _FRIENDLY.get(code)
    if friendly is not None:
        message = friendly(error.get("ctx") or {}, loc)
    else:
        message = error["msg"].removeprefix("Value error, ")
    return FieldProblem(loc=loc, code=code, message=message or "This value is not accepted.")


def problems_from_validation_error(exc: ValidationError) -> tuple[FieldProblem, ...]:
    """Turn a pydantic validation error into problems people can act on."""
    return tuple(_problem(error) for error in exc.errors(include_url=False, include_input=False))
