"""Structured field values: choices, address, life events, purchase intentions, and lists of them.

Models are frozen and forbid unknown parts, so a stored value has exactly the shape written
here. List types accept a comma-separated string where a form sends one.
"""

import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict
from pydantic_core import PydanticCustomError

from schemas.calendar_types import BirthYear, CalendarDate, PastOrPresentDate
from schemas.text_types import CountryCode, CurrencyCode, ShortText, Tag, short_text

__all__ = [
    "Address",
    "Amount",
    "BrandList",
    "ChildrenBirthYears",
    "InterestList",
    "LifeEvent",
    "LifeEventKind",
    "LifeEventList",
    "MaritalStatus",
    "PostalCode",
    "PreferredChannel",
    "PurchaseIntent",
    "PurchaseIntentList",
]


class PreferredChannel(StrEnum):
    """How a customer prefers businesses to reach them."""

    EMAIL = "email"
    SMS = "sms"
    PHONE = "phone"
    POST = "post"
    VAULT_INBOX = "vault_inbox"


class MaritalStatus(StrEnum):
    """Marital status as people describe it on forms."""

    SINGLE = "single"
    MARRIED = "married"
    CIVIL_PARTNERSHIP = "civil_partnership"
    DIVORCED = "divorced"
    WIDOWED = "widowed"
    SEPARATED = "separated"


class LifeEventKind(StrEnum):
    """Events in a life that change what a person needs from businesses."""

    MOVING_HOUSE = "moving_house"
    MARRIAGE = "marriage"
    CHILD = "child"
    RETIREMENT = "retirement"
    GRADUATION = "graduation"
    NEW_JOB = "new_job"
    DIVORCE = "divorce"
    BEREAVEMENT = "bereavement"


_POSTAL_CODE = re.compile(r"[A-Z0-9](?:[A-Z0-9 -]*[A-Z0-9])?")
_POSTAL_CODE_MAX = 20


def _check_postal_code(text: str) -> str:
    code = text.strip().upper()
    if len(code) > _POSTAL_CODE_MAX:
        raise PydanticCustomError(
            "text_too_long", f"Too long: use at most {_POSTAL_CODE_MAX} characters."
        )
    if not _POSTAL_CODE.fullmatch(code):
        raise PydanticCustomError(
            "postal_code_invalid",
            "Use only letters, digits, spaces and dashes, for example AZ1000 or 34000.",
        )
    return code


PostalCode = Annotated[str, Strict(), AfterValidator(_check_postal_code)]


class Address(BaseModel):
    """A postal address; the postal code is optional because some countries have none."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    street: ShortText
    city: ShortText
    postal_code: PostalCode | None = None
    country: CountryCode


class LifeEvent(BaseModel):
    """Something that happened in the customer's life, and when."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: LifeEventKind
    date: PastOrPresentDate


def _canonical_amount(value: Decimal) -> Decimal:
    # One spelling per amount: "1E+3" and "1000.00" are stored as 1000, "1500.5" as 1500.50.
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.quantize(Decimal("0.01"))


Amount = Annotated[
    Decimal,
    Field(gt=0, lt=10**12, decimal_places=2),
    AfterValidator(_canonical_amount),
]


class PurchaseIntent(BaseModel):
    """Something the customer plans to buy, optionally by a date, within a budget."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    what: ShortText
    by: CalendarDate | None = None
    budget: Amount
    currency: CurrencyCode


def _split_commas(value: object) -> object:
    # The form sends a list as one comma-separated string; blank pieces are the user's
    # stray commas ("a, , b" or a trailing comma), not items.
    if isinstance(value, str):
        return [piece for piece in value.split(",") if piece.strip()]
    return value


def _first_of_each_casefolded(items: list[str]) -> list[str]:
    seen: set[str] = set()
    kept: list[str] = []
    for item in items:
        key = item.casefold()
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


InterestList = Annotated[
    list[Tag],
    BeforeValidator(_split_commas),
    Field(min_length=1, max_length=50),
    AfterValidator(_first_of_each_casefolded),
]
BrandList = Annotated[
    list[short_text(100)],
    BeforeValidator(_split_commas),
    Field(min_length=1, max_length=50),
    AfterValidator(_first_of_each_casefolded),
]
# Empty is meaningful here (no children); duplicates too (twins).
ChildrenBirthYears = Annotated[
    list[BirthYear], BeforeValidator(_split_commas), Field(max_length=20)
]
LifeEventList = Annotated[list[LifeEvent], Field(min_length=1, max_length=100)]
PurchaseIntentList = Annotated[list[PurchaseIntent], Field(min_length=1, max_length=50)]
