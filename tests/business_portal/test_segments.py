"""Recomputing RFM segments: purchases read through the gate, this business's own only,
from customers who share interactions now; the scores replaced as a whole."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from business_portal.segments.read_model import (
    UnknownSegmentError,
    segments_of,
    subjects_in_segment,
)
from business_portal.segments.services import (
    WORKER_ACTOR,
    recompute_all_segments,
    recompute_segments,
    worker_caller,
)
from tests.business_portal.conftest import PortalBusiness, connect_customer
from tests.business_portal.test_segments_support import (
    CUSTOMER,
    GRANTED,
    PURCHASES,
    SEGMENTS,
    Shop,
    bought,
    scores,
    shop,
)
from tests.factories import make_active_agreement
from vault.access_log.models import AccessEvent
from vault.agreements.services import restrict_agreement, revoke_agreement
from vault.unit_of_work import Vault

__all__ = ["shop"]  # the fixture, used by name


def test_recompute_scores_every_customer_from_purchases_read_through_the_gate(
    vault: Vault, business: PortalBusiness, shop: Shop
) -> None:
    with vault.unit_of_work() as uow:
        assert recompute_segments(uow, worker_caller(business.id), business.id) == 8
    found = scores(vault, business.id)
    for name, (segment, r, f, m) in SEGMENTS.items():
        row = found[shop.customers[name].subject]
        assert (row.segment, row.recency, row.frequency, row.monetary) == (segment, r, f, m), name
        _days, count, spent = PURCHASES[name]
        assert (row.purchases, row.spent, row.currency) == (count, spent, "AZN"), name
        assert row.agreement_id == shop.customers[name].agreement_id
    with vault.unit_of_work(write=False) as uow:
        reads = uow.session.scalars(
            select(AccessEvent.agreement_id).where(
                AccessEvent.kind == "interaction.read", AccessEvent.actor == WORKER_ACTOR
            )
        ).all()
    assert sorted(reads) == sorted(c.agreement_id for c in shop.customers.values())


def test_recompute_replaces_the_previous_scores(
    vault: Vault, business: PortalBusiness, shop: Shop
) -> None:
    caller = worker_caller(business.id)
    with vault.unit_of_work() as uow:
        recompute_segments(uow, caller, business.id)
    # Həsən buys a lot today: the newest, biggest spender, still with two purchases.
    bought(vault, business.id, shop.customers["Həsən"].agreement_id, datetime.now(UTC), "5000.00")
    with vault.unit_of_work() as uow:
        assert recompute_segments(uow, caller, business.id) == 8
    found = scores(vault, business.id)
    assert len(found) == 8
    hasan = found[shop.customers["Həsən"].subject]
    assert (hasan.purchases, hasan.spent, hasan.recency, hasan.monetary) == (
        2,
        Decimal("5020.00"),
        5,
        5,
    )


def test_the_caller_must_act_for_the_business(
    vault: Vault, business: PortalBusiness, other_business: PortalBusiness, shop: Shop
) -> None:
    with vault.unit_of_work() as uow, pytest.raises(ValueError):
        recompute_segments(uow, worker_caller(other_business.id), business.id)
    assert scores(vault, business.id) == {}


def test_only_this_businesss_purchases_and_sharing_customers_count(
    vault: Vault, business: PortalBusiness, other_business: PortalBusiness, shop: Shop
) -> None:
    aysel = shop.customers["Aysel"]
    # Aysel also shops at the other business: its purchase is not this business's to see.
    theirs = make_active_agreement(vault, other_business.id, aysel.customer_id, GRANTED)
    bought(vault, other_business.id, theirs, datetime.now(UTC), "99999.00")
    # A customer who shares no interactions is never read, so never scored.
    quiet = connect_customer(
        vault, business.id, {"identity.given_name": "Səbinə"}, {"identity.given_name": "read"}
    )
    counts = recompute_all_segments(vault)
    assert counts == {business.id: 8, other_business.id: 1}
    row = scores(vault, business.id)[aysel.subject]
    assert (row.purchases, row.spent) == (6, Decimal("600.00"))
    assert quiet.subject not in scores(vault, business.id)
    with vault.unit_of_work(write=False) as uow:
        asked = uow.session.scalar(
            select(func.count()).where(AccessEvent.agreement_id == quiet.agreement_id)
        )
    assert asked == 0


def test_a_paused_customer_is_not_read_and_drops_out(
    vault: Vault, business: PortalBusiness, shop: Shop
) -> None:
    cavid = shop.customers["Cavid"]
    with vault.unit_of_work() as uow:
        restrict_agreement(uow, cavid.agreement_id, cavid.customer_id, CUSTOMER)
    with vault.unit_of_work() as uow:
        assert recompute_segments(uow, worker_caller(business.id), business.id) == 7
    assert cavid.subject not in scores(vault, business.id)


def test_other_areas_can_filter_and_label_customers_by_segment(
    vault: Vault, business: PortalBusiness, other_business: PortalBusiness, shop: Shop
) -> None:
    with vault.unit_of_work() as uow:
        recompute_segments(uow, worker_caller(business.id), business.id)
    aysel, babak = shop.customers["Aysel"], shop.customers["Babək"]
    with vault.unit_of_work() as uow:
        revoke_agreement(uow, aysel.agreement_id, aysel.customer_id, CUSTOMER)
    with vault.unit_of_work(write=False) as uow:
        champions = set(uow.session.scalars(subjects_in_segment(uow, business.id, "champions")))
        labelled = segments_of(uow, business.id, [babak.subject, "c_unknown"])
        foreign = set(uow.session.scalars(subjects_in_segment(uow, other_business.id, "lost")))
        with pytest.raises(UnknownSegmentError):
            subjects_in_segment(uow, business.id, "vip")
    assert champions == {babak.subject}  # revoked: gone from the filter at once
    assert labelled == {babak.subject: "champions"}
    assert foreign == set()
