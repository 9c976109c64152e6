"""What staff type in to open or change a deal, or to name a pipeline stage, once checked."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from schemas.text_types import CurrencyCode, multiline_text, short_text

DealTitle = short_text(200)
DealDetails = multiline_text(5000)
StageName = short_text(60)
Amount = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)]
Outcome = Literal["open", "won", "lost"]

# A close date outside these years is a typing slip (2205 for 2025), not a plan.
EARLIEST_CLOSE = date(2000, 1, 1)
LATEST_CLOSE = date(2100, 12, 31)


class DealFields(BaseModel):
    """A deal's own values: what the business may change after opening it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: DealTitle
    details: DealDetails | None = None
    amount: Amount | None = None
    currency: CurrencyCode | None = None
    expected_close: date | None = None
    # None: the staff member who opens the deal owns it; on an edit, the owner stays.
    owner_id: uuid.UUID | None = None
    # None: the first open stage of the pipeline; on an edit, the stage stays.
    stage_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _amount_with_currency(self) -> DealFields:
        if (self.amount is None) != (self.currency is None):
            raise PydanticCustomError(
                "amount_currency_pair", "Give an amount with its currency, or neither."
            )
        if self.expected_close is not None and not (
            EARLIEST_CLOSE <= self.expected_close <= LATEST_CLOSE
        ):
            raise PydanticCustomError(
                "close_date_out_of_range", "The expected close date is not a plausible year."
            )
        return self


class DealIn(DealFields):
    """A new deal with one customer, named by their pairwise id (DESIGN invariant 7)."""

    subject: str = Field(min_length=1, max_length=40)


class StageIn(BaseModel):
    """A pipeline stage's name and what a deal in it counts as."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # None on a default stage: use its translated default name again.
    name: StageName | None = None
    outcome: Outcome = "open"
