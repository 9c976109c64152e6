"""How granted values and typed searches become the same search words.

A word is folded the way people type it (NFKC, case folded, without diacritics, Turkish and
Azerbaijani dotted and dotless i alike, ə as e), so "Şəhla", "ŞƏHLA" and "sehla" meet. A value
gives every prefix of each of its words from 2 to 12 letters (and the whole word when longer),
an e-mail also its local part, domain and whole address, a phone its digits and every ending
of 4 digits or more. Only the business key's HMAC of each word is stored (`records.keys`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from datetime import date
from enum import Enum
from functools import cache
from typing import Any

from babel import Locale

from schemas.choice_labels import CHOICE_LABELS
from schemas.field_catalogue import FieldSpec
from schemas.field_values import LifeEventKind
from schemas.text_types import EmailAddress, PhoneNumber

__all__ = ["MAX_QUERY_WORDS", "fold", "query_words", "value_words"]

MIN_PREFIX = 2
MAX_PREFIX = 12
MIN_PHONE_ENDING = 4
MAX_QUERY_WORDS = 8
LOCALES = ("en", "az", "tr")

# Letters NFKD does not take apart: dotless ı (after case folding İ is i + a dot), schwa, ...
_LETTERS = str.maketrans(
    {"ı": "i", "ə": "e", "ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ł": "l", "ħ": "h"}
)
_WORD = re.compile(r"[^\W_]+")
# A piece of a phone number as people type it: "+994", "(050)", "123-45-67".
_DIGITS = re.compile(r"[+(]?[\d().-]*\d[\d().-]*")


def fold(text: str) -> str:
    """Return text as the index compares it: "İstanbul Şəhla" → "istanbul sehla"."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_LETTERS)
    bare = unicodedata.normalize("NFKD", folded)
    return "".join(c for c in bare if not unicodedata.combining(c))


def _prefixes(token: str) -> Iterator[str]:
    for length in range(MIN_PREFIX, min(len(token), MAX_PREFIX) + 1):
        yield token[:length]
    if len(token) > MAX_PREFIX:
        yield token


def _text_words(text: str) -> set[str]:
    words: set[str] = set()
    for token in _WORD.findall(fold(text)):
        words.update(_prefixes(token))
    return words


def _email_words(address: str) -> set[str]:
    folded = fold(address)
    local, _, domain = folded.rpartition("@")
    words = _text_words(address)
    for part in (folded, local, domain):
        if part:
            words.update(_prefixes(part))
    return words


def _phone_words(number: str) -> set[str]:
    digits = "".join(c for c in number if c.isdigit())
    words = set(_prefixes(digits))
    words.update(digits[-n:] for n in range(MIN_PHONE_ENDING, len(digits)))
    return words


@cache
def _choice_labels() -> dict[str, tuple[str, ...]]:
    return {str(choice.value): tuple(labels.values()) for choice, labels in CHOICE_LABELS.items()}


@cache
def _country_names(code: str) -> tuple[str, ...]:
    names = (Locale.parse(locale).territories.get(code) for locale in LOCALES)
    return tuple(name for name in names if name)


def _walk(value: Any, key: str = "") -> Iterator[str]:
    """Yield every piece of text in a stored value, with the words its codes stand for."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _walk(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, key)
    elif isinstance(value, str):
        yield value
        if key == "country":
            yield from _country_names(value)
        elif key == "kind" and value in {kind.value for kind in LifeEventKind}:
            yield from _choice_labels().get(value, ())
    elif value is not None and not isinstance(value, bool):
        yield str(value)


def value_words(spec: FieldSpec, value: Any) -> set[str]:
    """Return the search words of one granted field's value."""
    if spec.value_type is EmailAddress and isinstance(value, str):
        return _email_words(value)
    if spec.value_type is PhoneNumber and isinstance(value, str):
        return _phone_words(value)
    words: set[str] = set()
    texts = list(_walk(value))
    if isinstance(spec.value_type, type) and issubclass(spec.value_type, Enum):
        texts.extend(_choice_labels().get(str(value), ()))
    for text in texts:
        words.update(_text_words(text))
        if _is_date(text):
            words.update(_prefixes(text.replace("-", "")))
    return words


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _digit_count(piece: str) -> int:
    return sum(c.isdigit() for c in piece)


def _marked(piece: str) -> bool:
    return piece.startswith(("+", "0", "("))


def _phone_at(pieces: list[str], start: int) -> tuple[str, int] | None:
    """Return the digits of a phone number typed from `start` on, and where it ends."""
    first = pieces[start]
    if not _marked(first) and _digit_count(first) > 4:
        return None  # a date, a postcode or a whole number without a mark: words
    # E.164 allows 15 digits; a number written the national way (0 50 ...) has at most 11.
    longest = 15 if first.startswith("+") else 11
    end = start + 1
    # Groups after the first are short ("+994 50 123 45 67", "(050) 123-45-67").
    while (
        end < len(pieces)
        and _DIGITS.fullmatch(pieces[end])
        and not _marked(pieces[end])
        and (_digit_count(pieces[end]) <= 4 or "-" in pieces[end])
        and sum(_digit_count(p) for p in pieces[start : end + 1]) <= longest
    ):
        end += 1
    digits = "".join(c for p in pieces[start:end] for c in p if c.isdigit())
    if len(digits) < 7 or not (_marked(first) or end - start >= 3):
        return None
    return (digits if first.startswith("+") else digits.lstrip("0")), end


def query_words(text: str, *, limit: int | None = MAX_QUERY_WORDS) -> list[str]:
    """Return the words a typed search must all find, folded like the index (the first 8)."""
    words: list[str] = []
    pieces = fold(text).split()
    index = 0
    while index < len(pieces):
        piece = pieces[index]
        phone = _phone_at(pieces, index) if _DIGITS.fullmatch(piece) else None
        if phone is not None:
            words.append(phone[0])
            index = phone[1]
            continue
        index += 1
        piece = piece.strip(".,;:!?\"'[]<>")
        if "@" in piece:
            # An e-mail, or its local part ("aysel@") or domain ("@example.az").
            words.append(piece.strip("@"))
        else:
            words.extend(_WORD.findall(piece))
    unique = [w for w in dict.fromkeys(words) if len(w) >= MIN_PREFIX]
    return unique[:limit]
