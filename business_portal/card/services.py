"""The customer card's use cases: read everything the card shows, log an interaction.

A card exists only for a customer connected now (records.connections): every load asks
again, so a customer whose agreement ended is gone at the next one. The customer's fields and
interactions come through the gate (DESIGN invariant 4), one read per active agreement; the
business's own deals, tasks, notes and tags are read here and opened with its key.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select

from broker.gate import AccessDenied, Caller, append_interaction, read_interactions, read_profile
from business_portal.card.records import DealFacts, TaskFacts, customer_deals, customer_tasks
from business_portal.notes.services import (
    NotConnectedError,
    NoteRecord,
    customer_notes,
    customer_tags,
)
from business_portal.records.connections import connection_for
from schemas.agreements import INTERACTIONS, AccessMode, AgreementStatus, AgreementTerms
from schemas.interactions import InteractionEntry
from vault.agreements.models import Agreement, AgreementEvent
from vault.interactions.services import InteractionRecord
from vault.profile.services import FieldValue
from vault.receipts.models import ConsentReceipt
from vault.unit_of_work import UnitOfWork

__all__ = [
    "AgreementFacts",
    "CardFacts",
    "DealFacts",
    "EventFacts",
    "InteractionsNotGrantedError",
    "NotConnectedError",
    "ReceiptFacts",
    "ReceiptNotFoundError",
    "TaskFacts",
    "appendable_agreement",
    "card_facts",
    "customer_receipt",
    "log_contact",
]

# Modes under which the gate lets a business read back the interactions it logged.
_INTERACTIONS_READABLE = {AccessMode.READ.value, AccessMode.APPEND.value}


class ReceiptNotFoundError(LookupError):
    """No such receipt among the business's agreements with this customer."""


class InteractionsNotGrantedError(Exception):
    """No active agreement with this customer lets the business add interactions."""


@dataclass(frozen=True)
class ReceiptFacts:
    """A consent receipt of one of the business's agreements with the customer."""

    id: uuid.UUID
    kind: str
    issued_at: datetime
    version: int


@dataclass(frozen=True)
class AgreementFacts:
    """One active agreement with the customer and what the gate gave under it."""

    id: uuid.UUID
    terms: AgreementTerms
    granted: dict[str, str]
    restricted: bool
    version: int
    valid_from: datetime | None
    valid_until: datetime | None
    receipts: list[ReceiptFacts]
    change_asked_at: datetime | None  # an amendment waiting for the customer's answer
    values: dict[str, FieldValue]
    refusal: str | None  # the gate's reason when it refused the read


@dataclass(frozen=True)
class EventFacts:
    """One lifecycle event of the business's agreements with the customer."""

    agreement_id: uuid.UUID
    kind: str
    at: datetime
    actor: str
    granted: dict[str, str]
    purpose: str
    amendment: bool


@dataclass(frozen=True)
class CardFacts:
    """Everything the card of one connected customer shows, read at one load."""

    subject: str
    agreements: list[AgreementFacts]
    interactions: list[InteractionRecord] | None  # None: no agreement lets the business read
    can_log_interactions: bool
    events: list[EventFacts]
    deals: list[DealFacts]
    tasks: list[TaskFacts]
    notes: list[NoteRecord]
    tags: list[str]


def appendable_agreement(agreements: list[Agreement]) -> Agreement | None:
    """Return the newest unpaused agreement that lets the business add interactions."""
    for agreement in agreements:
        if agreement.granted_fields.get(INTERACTIONS) == AccessMode.APPEND and not (
            agreement.restricted
        ):
            return agreement
    return None


def _all_agreements(
    uow: UnitOfWork, business_id: uuid.UUID, customer_id: uuid.UUID
) -> list[Agreement]:
    return list(
        uow.session.scalars(
            select(Agreement)
            .where(Agreement.business_id == business_id, Agreement.customer_id == customer_id)
            .order_by(Agreement.created_at, Agreement.id)
        )
    )


def _chain(agreement: Agreement, by_id: dict[uuid.UUID, Agreement]) -> list[uuid.UUID]:
    """Return the agreement and every earlier version it replaced, newest first."""
    chain = [agreement.id]
    previous = by_id.get(agreement.supersedes_id) if agreement.supersedes_id else None
    while previous is not None and previous.id not in chain:
        chain.append(previous.id)
        previous = by_id.get(previous.supersedes_id) if previous.supersedes_id else None
    return chain


def _agreement_facts(agreement: Agreement, known: list[Agreement]) -> AgreementFacts:
    waiting = [
        a.created_at
        for a in known
        if a.supersedes_id == agreement.id and a.status == AgreementStatus.REQUESTED
    ]
    return AgreementFacts(
        id=agreement.id,
        terms=AgreementTerms.model_validate(agreement.terms),
        granted=dict(agreement.granted_fields),
        restricted=agreement.restricted,
        version=agreement.version,
        valid_from=agreement.valid_from,
        valid_until=agreement.valid_until,
        receipts=[],
        change_asked_at=max(waiting) if waiting else None,
        values={},
        refusal=None,
    )


def _with_receipts(
    uow: UnitOfWork, facts: AgreementFacts, chain: list[uuid.UUID], versions: dict[uuid.UUID, int]
) -> AgreementFacts:
    rows = uow.session.scalars(select(ConsentReceipt).where(ConsentReceipt.agreement_id.in_(chain)))
    receipts = [ReceiptFacts(r.id, r.kind, r.issued_at, versions[r.agreement_id]) for r in rows]
    receipts.sort(key=lambda r: (r.issued_at, r.version), reverse=True)
    return replace(facts, receipts=receipts)


def _with_values(
    uow: UnitOfWork, caller: Caller, subject: str, facts: AgreementFacts
) -> AgreementFacts:
    try:
        granted = read_profile(uow, caller, facts.id, subject=subject)
    except AccessDenied as denied:
        return replace(facts, refusal=denied.reason)
    return replace(facts, values=granted.fields)


def _interactions_readable(agreements: list[Agreement]) -> uuid.UUID | None:
    for agreement in agreements:
        modes = agreement.granted_fields.get(INTERACTIONS)
        if modes in _INTERACTIONS_READABLE and not agreement.restricted:
            return agreement.id
    return None


def _interactions(
    uow: UnitOfWork, caller: Caller, agreement_id: uuid.UUID | None
) -> list[InteractionRecord] | None:
    if agreement_id is None:
        return None
    try:
        # Under any agreement the gate reads back the same record: what this business logged.
        return read_interactions(uow, caller, agreement_id)
    except AccessDenied:
        return None


def _events(uow: UnitOfWork, known: list[Agreement]) -> list[EventFacts]:
    by_id = {a.id: a for a in known}
    if not by_id:
        return []
    rows = uow.session.scalars(
        select(AgreementEvent)
        .where(AgreementEvent.agreement_id.in_(list(by_id)))
        .order_by(AgreementEvent.id)
    )
    return [
        EventFacts(
            agreement_id=event.agreement_id,
            kind=event.kind,
            at=event.at,
            actor=event.actor,
            granted=dict(event.state.get("granted_fields") or {}),
            purpose=str(by_id[event.agreement_id].terms.get("purpose", "")),
            amendment=by_id[event.agreement_id].supersedes_id is not None,
        )
        for event in rows
    ]


def card_facts(uow: UnitOfWork, caller: Caller, subject: str) -> CardFacts:
    """Read the card of a connected customer; raise NotConnectedError for anyone else.

    What the agreements say is read first, then the gate reads (each commits its own
    access-log entry), then the business's own records.
    """
    business_id = caller.business_id
    connection = connection_for(uow, business_id, subject)
    if connection is None:
        raise NotConnectedError(subject)
    active = connection.agreements
    known = _all_agreements(uow, business_id, connection.customer_id)
    by_id = {a.id: a for a in known}
    versions = {a.id: a.version for a in known}
    agreements = [
        _with_receipts(uow, _agreement_facts(a, known), _chain(a, by_id), versions) for a in active
    ]
    events = _events(uow, known)
    can_log = appendable_agreement(active) is not None
    readable = _interactions_readable(active)
    agreements = [_with_values(uow, caller, subject, facts) for facts in agreements]
    return CardFacts(
        subject=subject,
        agreements=agreements,
        interactions=_interactions(uow, caller, readable),
        can_log_interactions=can_log,
        events=events,
        deals=customer_deals(uow, business_id, subject),
        tasks=customer_tasks(uow, business_id, subject),
        notes=customer_notes(uow, business_id, subject),
        tags=customer_tags(uow, business_id, subject),
    )


def log_contact(
    uow: UnitOfWork, caller: Caller, subject: str, entry: InteractionEntry
) -> uuid.UUID:
    """Log an interaction in a connected customer's vault through the gate; commit.

    Raise NotConnectedError, InteractionsNotGrantedError, or the gate's AccessDenied.
    """
    connection = connection_for(uow, caller.business_id, subject)
    if connection is None:
        raise NotConnectedError(subject)
    agreement = appendable_agreement(connection.agreements)
    if agreement is None:
        raise InteractionsNotGrantedError(subject)
    return append_interaction(uow, caller, agreement.id, entry)


def customer_receipt(
    uow: UnitOfWork, business_id: uuid.UUID, subject: str, receipt_id: uuid.UUID
) -> ConsentReceipt:
    """Return a receipt of the business's agreements with a connected customer, or raise."""
    connection = connection_for(uow, business_id, subject)
    if connection is None:
        raise NotConnectedError(subject)
    receipt = uow.session.scalar(
        select(ConsentReceipt)
        .join(Agreement, Agreement.id == ConsentReceipt.agreement_id)
        .where(
            ConsentReceipt.id == receipt_id,
            Agreement.business_id == business_id,
            Agreement.customer_id == connection.customer_id,
        )
    )
    if receipt is None:
        raise ReceiptNotFoundError(receipt_id)
    return receipt
