"""RFM scores and segments equal a known answer on a hand-built set of 50 customers.

With n = 50 customers, score = 1 + floor(5 * worse / 50) = 1 + floor(worse / 10): a customer
beaten by 0-9 others scores 1, by 10-19 scores 2, ... by 40-49 scores 5. The table below
was worked out by hand from that rule; the code under test is not used to make it.

Recency: c01-c10 bought 1-10 days ago (c03 and c04 tie at 3), c11-c20 20-29 days ago,
c21-c30 40-49, c31-c40 60-69, c41-c50 100-109 (c49 and c50 tie at 109): each block of ten
is beaten by 40, 30, 20, 10 and 0 customers at least, so the blocks score 5, 4, 3, 2, 1.

Frequency: 15 customers bought once (beaten by none: F1), 10 twice (beaten by 15: F2),
10 three times (beaten by 25: F3), 5 four times (beaten by 35: F4), 5 five times and
5 eight times (beaten by 40 and 45: both F5).

Monetary, in AZN, the reporting currency (41 customers bought in AZN, 4 in USD too):
the ten smallest sums score 1 (c10 bought only in USD: 0 AZN), the next ten 2 (c47 and c50
tie at 60.00, beaten by 18), then 3, 4 and 5.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from business_portal.segments.rfm import (
    SEGMENT_CODES,
    Purchase,
    quintile_scores,
    reporting_currency,
    score_customers,
    segment_for,
)

NOW = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)

# customer: (days since the last purchase, purchases in AZN, AZN spent, purchases in USD,
#            expected R, F, M, segment)
KNOWN: dict[str, tuple[int, int, str, int, int, int, int, str]] = {
    "c01": (1, 8, "1000.00", 0, 5, 5, 5, "champions"),
    "c02": (2, 5, "900.00", 0, 5, 5, 5, "champions"),
    "c03": (3, 8, "200.00", 0, 5, 5, 4, "champions"),
    "c04": (3, 4, "800.00", 0, 5, 4, 5, "champions"),
    "c05": (5, 5, "40.00", 0, 5, 5, 2, "loyal"),
    "c06": (6, 3, "210.00", 0, 5, 3, 4, "loyal"),
    "c07": (7, 3, "80.00", 0, 5, 3, 3, "loyal"),
    "c08": (8, 1, "85.00", 1, 5, 2, 3, "potential_loyalist"),  # its newest purchase is USD
    "c09": (9, 1, "42.00", 0, 5, 1, 2, "new"),
    "c10": (10, 0, "0.00", 1, 5, 1, 1, "new"),  # bought only in USD
    "c11": (20, 8, "950.00", 0, 4, 5, 5, "champions"),
    "c12": (21, 5, "220.00", 0, 4, 5, 4, "champions"),
    "c13": (22, 4, "230.00", 0, 4, 4, 4, "champions"),
    "c14": (23, 5, "90.00", 0, 4, 5, 3, "loyal"),
    "c15": (24, 4, "95.00", 0, 4, 4, 3, "loyal"),
    "c16": (25, 3, "700.00", 0, 4, 3, 5, "loyal"),
    "c17": (26, 3, "45.00", 0, 4, 3, 2, "loyal"),
    "c18": (27, 2, "240.00", 0, 4, 2, 4, "potential_loyalist"),
    "c19": (28, 1, "100.00", 0, 4, 1, 3, "new"),
    "c20": (29, 1, "5.00", 0, 4, 1, 1, "new"),
    "c21": (40, 8, "750.00", 0, 3, 5, 5, "loyal"),  # R3 is not enough for champions
    "c22": (41, 4, "250.00", 0, 3, 4, 4, "loyal"),
    "c23": (42, 3, "105.00", 0, 3, 3, 3, "loyal"),
    "c24": (43, 3, "48.00", 0, 3, 3, 2, "loyal"),
    "c25": (44, 2, "650.00", 0, 3, 2, 5, "potential_loyalist"),
    "c26": (45, 2, "110.00", 0, 3, 2, 3, "potential_loyalist"),
    "c27": (46, 2, "50.00", 0, 3, 2, 2, "potential_loyalist"),
    "c28": (47, 1, "260.00", 0, 3, 1, 4, "potential_loyalist"),  # R3 is not enough for new
    "c29": (48, 1, "8.00", 0, 3, 1, 1, "potential_loyalist"),
    "c30": (49, 1, "52.00", 0, 3, 1, 2, "potential_loyalist"),
    "c31": (60, 5, "850.00", 0, 2, 5, 5, "at_risk"),
    "c32": (61, 4, "270.00", 0, 2, 4, 4, "at_risk"),
    "c33": (62, 3, "115.00", 0, 2, 3, 3, "at_risk"),
    "c34": (63, 3, "12.00", 0, 2, 3, 1, "at_risk"),
    "c35": (64, 2, "280.00", 0, 2, 2, 4, "hibernating"),
    "c36": (65, 2, "55.00", 0, 2, 2, 2, "hibernating"),
    "c37": (66, 1, "15.00", 1, 2, 2, 1, "hibernating"),
    "c38": (67, 1, "120.00", 0, 2, 1, 3, "hibernating"),
    "c39": (68, 1, "58.00", 0, 2, 1, 2, "hibernating"),
    "c40": (69, 1, "18.00", 0, 2, 1, 1, "hibernating"),
    "c41": (100, 8, "600.00", 0, 1, 5, 5, "at_risk"),
    "c42": (101, 3, "290.00", 0, 1, 3, 4, "at_risk"),
    "c43": (102, 3, "125.00", 0, 1, 3, 3, "at_risk"),
    "c44": (103, 2, "1200.00", 0, 1, 2, 5, "lost"),
    "c45": (104, 1, "25.00", 1, 1, 2, 1, "lost"),
    "c46": (105, 1, "28.00", 0, 1, 1, 1, "lost"),
    "c47": (106, 1, "60.00", 0, 1, 1, 2, "lost"),
    "c48": (107, 1, "20.00", 0, 1, 1, 1, "lost"),
    "c49": (109, 1, "22.00", 0, 1, 1, 1, "lost"),
    "c50": (109, 1, "60.00", 0, 1, 1, 2, "lost"),
}

EXPECTED_COUNTS = {
    "champions": 7,
    "loyal": 11,
    "potential_loyalist": 8,
    "new": 4,
    "at_risk": 7,
    "hibernating": 6,
    "lost": 7,
}


def _purchases(days: int, in_azn: int, spent: str, in_usd: int) -> list[Purchase]:
    """Build a customer's purchases: the newest `days` ago, each earlier one a week before."""
    last = NOW - timedelta(days=days, hours=3)
    purchases = []
    # One large AZN purchase and the rest 1.00 each, so the AZN total is exactly `spent`.
    amounts = [Decimal(spent) - (in_azn - 1)] + [Decimal("1.00")] * (in_azn - 1) if in_azn else []
    for week, amount in enumerate(amounts):
        purchases.append(Purchase(last - timedelta(weeks=week + 1), amount, "AZN"))
    for _ in range(in_usd):
        # 5000 USD would top any AZN total if it were counted; it is the newest purchase.
        purchases.append(Purchase(last, Decimal("5000.00"), "USD"))
    if not in_usd:  # move the newest AZN purchase to the last purchase's day
        purchases[0] = Purchase(last, purchases[0].amount, "AZN")
    return purchases


@pytest.fixture
def scored() -> dict[str, object]:
    data = {key: _purchases(*row[:4]) for key, row in KNOWN.items()}
    data["no-purchases"] = []
    result = score_customers(data, NOW)
    return {"currency": result.currency, "scores": result.scores}


def test_the_known_data_set_has_fifty_customers() -> None:
    assert len(KNOWN) >= 50
    assert sum(EXPECTED_COUNTS.values()) == len(KNOWN)
    assert Counter(row[7] for row in KNOWN.values()) == EXPECTED_COUNTS


def test_every_score_and_segment_equals_the_known_answer(scored: dict[str, object]) -> None:
    scores = scored["scores"]
    assert isinstance(scores, dict)
    assert scored["currency"] == "AZN"
    found = {key: (s.recency, s.frequency, s.monetary, s.segment) for key, s in scores.items()}
    expected = {key: (r, f, m, segment) for key, (*_, r, f, m, segment) in KNOWN.items()}
    assert found == expected


def test_segment_membership_counts(scored: dict[str, object]) -> None:
    scores = scored["scores"]
    assert isinstance(scores, dict)
    assert Counter(s.segment for s in scores.values()) == EXPECTED_COUNTS
    assert set(EXPECTED_COUNTS) == set(SEGMENT_CODES)


def test_measures_of_representative_customers(scored: dict[str, object]) -> None:
    scores = scored["scores"]
    assert isinstance(scores, dict)
    c01, c08, c10, c45 = scores["c01"], scores["c08"], scores["c10"], scores["c45"]
    assert (c01.days_since, c01.purchases, c01.spent) == (1, 8, Decimal("1000.00"))
    assert c01.last_purchase_at == NOW - timedelta(days=1, hours=3)
    # A USD purchase counts for recency and frequency, never for money spent in AZN.
    assert (c08.days_since, c08.purchases, c08.spent) == (8, 2, Decimal("85.00"))
    assert (c10.days_since, c10.purchases, c10.spent) == (10, 1, Decimal("0"))
    assert (c45.days_since, c45.purchases, c45.spent) == (104, 2, Decimal("25.00"))


def test_a_customer_without_purchases_gets_no_score(scored: dict[str, object]) -> None:
    scores = scored["scores"]
    assert isinstance(scores, dict)
    assert "no-purchases" not in scores
    assert len(scores) == 50


def test_nobody_with_purchases_means_no_scores_and_no_currency() -> None:
    result = score_customers({"a": [], "b": []}, NOW)
    assert result.currency is None
    assert result.scores == {}
    assert score_customers({}, NOW).scores == {}


def test_a_single_customer_scores_one_on_everything() -> None:
    # Nobody is worse than the only customer: 1 + floor(5 * 0 / 1) = 1 on every measure.
    one = [Purchase(NOW - timedelta(days=2), Decimal("99.00"), "TRY")]
    result = score_customers({"only": one}, NOW)
    score = result.scores["only"]
    assert result.currency == "TRY"
    assert (score.recency, score.frequency, score.monetary, score.segment) == (1, 1, 1, "lost")
    assert (score.days_since, score.purchases, score.spent) == (2, 1, Decimal("99.00"))


def test_equal_values_share_a_score_even_across_a_quintile_boundary() -> None:
    # Six of ten bought once: none is beaten, so all six score 1 (not 1, 1, 2, 2, 3, 3).
    assert quintile_scores([1, 1, 1, 1, 1, 1, 2, 2, 3, 9]) == [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]
    # Everyone equal: nobody is beaten by anybody.
    assert quintile_scores([Decimal(7)] * 5) == [1, 1, 1, 1, 1]
    # Fewer days is better: the two most recent (0 days) are beaten by the two others.
    assert quintile_scores([0, 0, 5, 10], lower_is_better=True) == [3, 3, 2, 1]
    assert quintile_scores([10, 5, 0, 0], lower_is_better=True) == [1, 2, 3, 3]


def test_distinct_values_fall_into_fifths() -> None:
    assert quintile_scores(list(range(10))) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert quintile_scores(list(range(10)), lower_is_better=True) == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]


def test_ties_in_recency_count_whole_days() -> None:
    # 30 and 40 hours ago are both one day ago; a purchase "in the future" is zero days ago.
    data = {
        "a": [Purchase(NOW - timedelta(hours=30), Decimal("10.00"), "AZN")],
        "b": [Purchase(NOW - timedelta(hours=40), Decimal("10.00"), "AZN")],
        "c": [Purchase(NOW + timedelta(minutes=5), Decimal("10.00"), "AZN")],
    }
    scores = score_customers(data, NOW).scores
    assert [scores[k].days_since for k in "abc"] == [1, 1, 0]
    assert scores["a"].recency == scores["b"].recency == 1
    assert scores["c"].recency == 1 + (5 * 2) // 3


def test_reporting_currency_is_the_most_common_with_ties_by_code() -> None:
    def bought(*codes: str) -> list[Purchase]:
        return [Purchase(NOW, Decimal("1.00"), code) for code in codes]

    assert reporting_currency(bought("USD", "AZN", "USD")) == "USD"
    assert reporting_currency(bought("USD", "TRY", "EUR", "TRY", "USD", "EUR")) == "EUR"
    assert reporting_currency([]) is None


def test_purchases_in_other_currencies_count_for_frequency_not_monetary() -> None:
    data = {
        "azn": [
            Purchase(NOW - timedelta(days=1), Decimal("10.00"), "AZN"),
            Purchase(NOW - timedelta(days=2), Decimal("10.00"), "AZN"),
        ],
        "mixed": [
            Purchase(NOW - timedelta(days=1), Decimal("15.00"), "AZN"),
            Purchase(NOW - timedelta(days=3), Decimal("900.00"), "EUR"),
            Purchase(NOW - timedelta(days=4), Decimal("900.00"), "EUR"),
        ],
    }
    result = score_customers(data, NOW)
    assert result.currency == "AZN"  # three AZN purchases against two EUR
    mixed, azn = result.scores["mixed"], result.scores["azn"]
    assert (mixed.purchases, mixed.spent) == (3, Decimal("15.00"))
    assert (azn.purchases, azn.spent) == (2, Decimal("20.00"))
    assert mixed.frequency > azn.frequency
    assert mixed.monetary < azn.monetary


@pytest.mark.parametrize(
    ("r", "f", "m", "segment"),
    [
        (4, 4, 4, "champions"),
        (5, 5, 3, "loyal"),
        (3, 3, 1, "loyal"),
        (4, 1, 5, "new"),
        (5, 1, 1, "new"),
        (4, 2, 5, "potential_loyalist"),
        (3, 1, 5, "potential_loyalist"),
        (2, 5, 5, "at_risk"),
        (1, 3, 1, "at_risk"),
        (2, 2, 5, "hibernating"),
        (2, 1, 1, "hibernating"),
        (1, 2, 5, "lost"),
        (1, 1, 1, "lost"),
    ],
)
def test_the_first_matching_rule_names_the_segment(r: int, f: int, m: int, segment: str) -> None:
    assert segment_for(r, f, m) == segment


def test_every_score_combination_has_a_segment() -> None:
    found = {segment_for(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)}
    assert found == set(SEGMENT_CODES)
