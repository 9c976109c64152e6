"""Recompute a business's RFM segments from the purchases it logged, read through the gate.

Purchases are read through the gate (DESIGN invariant 4), which logs every read; scores are
kept per pairwise id and replaced as a whole. Pages show them from `segments.read_model`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import delete, insert, select

from broker.businesses.models import Business
from broker.gate import AccessDenied, Caller, read_interactions
from broker.pairwise import subjects_for
from business_portal.records.connections import agreement_is_active
from business_portal.segments.models import RfmScore
from business_portal.segments.rfm import Purchase, score_customers
from schemas.agreements import INTERACTIONS, AccessMode, AgreementStatus
from schemas.interactions import InteractionKind
from vault.agreements.models import Agreement
from vault.interactions.services import InteractionRecord
from vault.unit_of_work import UnitOfWork, Vault

# Who reads purchases when the worker recomputes (staff recompute as themselves).
WORKER_ACTOR = "portal:segments"
# Either mode lets the business read back the interactions it logged (broker.gate).
_INTERACTION_MODES = (AccessMode.READ.value, AccessMode.APPEND.value)


def worker_caller(business_id: uuid.UUID) -> Caller:
    """Return who asks the gate when the worker recomputes a business's segments."""
    return Caller(business_id, WORKER_ACTOR)


def _interaction_agreements(uow: UnitOfWork, business_id: uuid.UUID) -> dict[uuid.UUID, uuid.UUID]:
    """Return, per connected customer, the newest active agreement that grants interactions."""
    rows = uow.session.execute(
        select(Agreement.customer_id, Agreement.id)
        .where(
            agreement_is_active(business_id, uow.now()),
            # A paused agreement would only be refused by the gate: do not ask.
            Agreement.restricted.is_(False),
            Agreement.granted_fields[INTERACTIONS].as_string().in_(_INTERACTION_MODES),
        )
        .order_by(Agreement.decided_at.desc(), Agreement.id)
    ).all()
    chosen: dict[uuid.UUID, uuid.UUID] = {}
    for customer_id, agreement_id in rows:
        if customer_id is not None:
            chosen.setdefault(customer_id, agreement_id)
    return chosen


def _purchases(records: Iterable[InteractionRecord]) -> list[Purchase]:
    return [
        Purchase(record.occurred_at, record.amount, record.currency)
        for record in records
        if record.kind is InteractionKind.PURCHASE
        and record.amount is not None
        and record.currency is not None
    ]


def recompute_segments(uow: UnitOfWork, caller: Caller, business_id: uuid.UUID) -> int:
    """Score customers from purchases read through the gate; replace the scores; return how many.

    Each gate read commits (and is logged) on its own; the replacement is one transaction.
    """
    if caller.business_id != business_id:
        raise ValueError("The caller acts for another business.")
    sources = _interaction_agreements(uow, business_id)
    uow.rollback()  # the listing is done; each gate read below is a transaction of its own
    purchases: dict[uuid.UUID, list[Purchase]] = {}
    for customer_id, agreement_id in sources.items():
        try:
            records = read_interactions(uow, caller, agreement_id)
        except AccessDenied:
            continue  # ended or paused since it was listed; the gate logged the refusal
        purchases[customer_id] = _purchases(records)
    # One recompute of a business at a time: two would both insert the same rows.
    uow.session.execute(
        select(Business.id).where(Business.id == business_id).with_for_update(key_share=True)
    )
    subjects = subjects_for(uow, business_id, purchases)
    agreements = {subjects[c]: sources[c] for c in purchases}
    now = uow.now()
    scoring = score_customers({subjects[c]: items for c, items in purchases.items()}, now)
    uow.session.execute(delete(RfmScore).where(RfmScore.business_id == business_id))
    rows = [
        {
            "business_id": business_id,
            "subject": score.key,
            "agreement_id": agreements[score.key],
            "recency": score.recency,
            "frequency": score.frequency,
            "monetary": score.monetary,
            "segment": score.segment,
            "last_purchase_at": score.last_purchase_at,
            "purchases": score.purchases,
            "spent": score.spent,
            "currency": scoring.currency,
            "computed_at": now,
        }
        for score in scoring.scores.values()
    ]
    if rows:
        uow.session.execute(insert(RfmScore), rows)
    uow.commit()
    return len(rows)


def recompute_all_segments(vault: Vault) -> dict[uuid.UUID, int]:
    """Recompute every business that has scores or a customer sharing interactions (worker)."""
    with vault.unit_of_work(write=False) as uow:
        sharing = select(Agreement.business_id).where(
            Agreement.status == AgreementStatus.ACTIVE.value,
            Agreement.granted_fields[INTERACTIONS].as_string().in_(_INTERACTION_MODES),
        )
        scored = select(RfmScore.business_id)
        known = select(Business.id).where(Business.id.in_(sharing.union(scored)))
        business_ids = sorted(uow.session.scalars(known))
    counts = {}
    for business_id in business_ids:
        with vault.unit_of_work() as uow:
            counts[business_id] = recompute_segments(uow, worker_caller(business_id), business_id)
    return counts
