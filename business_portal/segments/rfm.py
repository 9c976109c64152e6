"""RFM scoring: recency, frequency and monetary scores by quintile, and named segments.

Pure functions over plain values (no database, no Flask), so the known answer on a
hand-built data set can be checked without either.

- Recency is whole days from the last purchase to `now` (never below zero); Frequency is the
  number of purchases; Monetary is the sum of the amounts in the business's reporting
  currency: the currency most of its purchases were made in, ties going to the first code
  in alphabetical order. A purchase in another currency counts for frequency and recency
  but adds nothing to monetary, since there is no exchange rate to convert it by.
- Each measure is scored 1-5 over the customers with at least one purchase: for a value v
  among n values, score = 1 + floor(5 * (number of values strictly worse than v) / n).
  Equal values share a score; a more recent purchase (fewer days) is better, more purchases
  and more money are better. A customer without purchases gets no score at all.
- The segment is the first of these rules that matches (R, F, M are the scores):

  1. champions           R >= 4 and F >= 4 and M >= 4
  2. loyal               R >= 3 and F >= 3
  3. new                 R >= 4 and F <= 1
  4. potential_loyalist  R >= 3
  5. at_risk             F >= 3            (so R <= 2)
  6. hibernating         R == 2
  7. lost                everything else   (R == 1 and F <= 2)
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

__all__ = [
    "SEGMENT_CODES",
    "CustomerScore",
    "Purchase",
    "Scoring",
    "quintile_scores",
    "reporting_currency",
    "score_customers",
    "segment_for",
]

# Best to worst, the order pages list them in (the rules' order is in `segment_for`).
SEGMENT_CODES: tuple[str, ...] = (
    "champions",
    "loyal",
    "potential_loyalist",
    "new",
    "at_risk",
    "hibernating",
    "lost",
)

_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Purchase:
    """One purchase a business logged: when, how much, in which currency."""

    occurred_at: datetime
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class CustomerScore:
    """One customer's measures, their scores (1-5) and segment."""

    key: str
    days_since: int
    purchases: int
    spent: Decimal
    last_purchase_at: datetime
    recency: int
    frequency: int
    monetary: int
    segment: str


@dataclass(frozen=True)
class Scoring:
    """The scores of every customer with a purchase, and the currency `spent` is in."""

    currency: str | None
    scores: dict[str, CustomerScore]


def reporting_currency(purchases: Iterable[Purchase]) -> str | None:
    """Return the currency most purchases were made in (ties: first code A-Z), or None."""
    counts = Counter(purchase.currency for purchase in purchases)
    if not counts:
        return None
    return min(counts, key=lambda code: (-counts[code], code))


def quintile_scores(values: Sequence[int | Decimal], *, lower_is_better: bool = False) -> list[int]:
    """Return each value's score 1-5: 1 + floor(5 * (values strictly worse) / n)."""
    n = len(values)
    ordered = sorted(values)
    scores = []
    for value in values:
        # Worse means a larger value when lower is better (days), a smaller one otherwise.
        worse = n - bisect_right(ordered, value) if lower_is_better else bisect_left(ordered, value)
        scores.append(1 + (5 * worse) // n)
    return scores


def segment_for(recency: int, frequency: int, monetary: int) -> str:
    """Return the segment code of these scores: the first rule that matches."""
    if recency >= 4 and frequency >= 4 and monetary >= 4:
        return "champions"
    if recency >= 3 and frequency >= 3:
        return "loyal"
    if recency >= 4 and frequency <= 1:
        return "new"
    if recency >= 3:
        return "potential_loyalist"
    if frequency >= 3:
        return "at_risk"
    if recency == 2:
        return "hibernating"
    return "lost"


def score_customers(purchases: Mapping[str, Sequence[Purchase]], now: datetime) -> Scoring:
    """Score every customer with at least one purchase, relative to the others, at `now`."""
    bought = {key: list(items) for key, items in purchases.items() if items}
    currency = reporting_currency(p for items in bought.values() for p in items)
    keys = sorted(bought)
    last = [max(p.occurred_at for p in bought[key]) for key in keys]
    days = [max(0, (now - at) // _DAY) for at in last]
    counts = [len(bought[key]) for key in keys]
    spent = [
        sum((p.amount for p in bought[key] if p.currency == currency), Decimal(0)) for key in keys
    ]
    recency = quintile_scores(days, lower_is_better=True)
    frequency = quintile_scores(counts)
    monetary = quintile_scores(spent)
    scores = {
        key: CustomerScore(
            key=key,
            days_since=days[i],
            purchases=counts[i],
            spent=spent[i],
            last_purchase_at=last[i],
            recency=recency[i],
            frequency=frequency[i],
            monetary=monetary[i],
            segment=segment_for(recency[i], frequency[i], monetary[i]),
        )
        for i, key in enumerate(keys)
    }
    return Scoring(currency, scores)
