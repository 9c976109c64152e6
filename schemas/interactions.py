"""An interaction in a customer's relationship record: a purchase, visit, call, and so on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from schemas.text_types import CurrencyCode, MultilineText, ShortText

# A clock a little ahead of ours should not make a just-logged visit "in the future".
FUTURE_TOLERANCE = timedelta(minutes=10)


class InteractionKind(StrEnum):
    """What kind of contact an interaction records."""

    PURCHASE = "purchase"
    VISIT = "visit"
    CALL = "call"
    EMAIL = "email"
    SUPPORT_TICKET = "support_ticket"
    NOTE = "note"


Amount = Annotated[Decimal, Field(gt=0, lt=Decimal(10) ** 12, decimal_places=2)]


class InteractionEntry(BaseModel):
    """What someone writes when logging an interaction; all but kind and time is encrypted."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: InteractionKind
    occurred_at: AwareDatetime
    summary: ShortText | None = None
    details: MultilineText | None = None
    amount: Amount | None = None
    currency: CurrencyCode | None = None

    @model_validator(mode="after")
    def _check_consistency(self) -> Self:
        if self.occurred_at > datetime.now(UTC) + FUTURE_TOLERANCE:
            raise PydanticCustomError(
                "interaction_in_future", "This is in the future. Log it once it has happened."
            )
        if self.kind is InteractionKind.PURCHASE:
            if self.amount is None or self.currency is None:
                raise PydanticCustomError(
                    "purchase_amount_required",
                    "A purchase needs an amount and a currency, for example 25.00 AZN.",
                )
        elif self.amount is not None or self.currency is not None:
            raise PydanticCustomError(
                "amount_only_for_purchases",
                "Only a purchase has an amount. Remove it, or choose the kind 'purchase'.",
            )
        return self

    def secret_part(self) -> dict[str, str | None]:
        """Return what is stored encrypted: everything but kind and time."""
        return {
            "summary": self.summary,
            "details": self.details,
            "amount": None if self.amount is None else f"{self.amount:.2f}",
            "currency": self.currency,
        }
