"""Read models of the requests inbox and the connection pages: queries shaped for the screen.

Each function reads inside the caller's unit of work and returns plain values in the page
language, so templates never touch ORM objects or internal ids other than the agreement's.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask_babel import format_date, format_datetime
from sqlalchemy import func, or_, select

from schemas.agreements import AgreementStatus, AgreementTerms
from vault.access_log.models import AccessEvent
from vault.access_log.services import ALLOWED
from vault.agreement_changes import amendment_changes
from vault.agreement_words import (
    BusinessView,
    FieldRow,
    TermsView,
    actor_words,
    business_view,
    duration_words,
    event_words,
    field_rows,
    purpose_words,
    receipt_words,
    status_words,
    terms_view,
)
from vault.agreements.models import Agreement
from vault.agreements.services import agreement_events, current_status, customer_agreements
from vault.receipts.claims import DPV
from vault.receipts.models import ConsentReceipt
from vault.receipts.services import SignatureError, receipts_for, verify_receipt
from vault.unit_of_work import UnitOfWork


def _date(moment: datetime | None) -> str | None:
    return format_date(moment, "long") if moment else None


def _moment(moment: datetime | None) -> str | None:
    return format_datetime(moment, "medium") if moment else None


@dataclass(frozen=True)
class PendingRequest:
    """A request or amendment waiting in the inbox."""

    id: uuid.UUID
    business: BusinessView
    terms: TermsView
    asked_on: str
    is_amendment: bool
    changes: list[str]


def _previous(uow: UnitOfWork, agreement: Agreement) -> Agreement | None:
    if agreement.supersedes_id is None:
        return None
    previous = uow.session.get(Agreement, agreement.supersedes_id)
    if previous is None or previous.customer_id != agreement.customer_id:
        return None
    return previous


def changes_of(uow: UnitOfWork, agreement: Agreement) -> list[str]:
    """Say what an amendment changes; nothing for a first request."""
    previous = _previous(uow, agreement)
    if previous is None:
        return []
    return amendment_changes(
        AgreementTerms.model_validate(agreement.terms),
        AgreementTerms.model_validate(previous.terms),
        previous.granted_fields,
    )


def pending_requests(uow: UnitOfWork, customer_id: uuid.UUID) -> list[PendingRequest]:
    """Return the customer's requests and amendments waiting for an answer, newest first."""
    waiting = [
        a for a in customer_agreements(uow, customer_id) if a.status == AgreementStatus.REQUESTED
    ]
    return [
        PendingRequest(
            id=a.id,
            business=business_view(a.business),
            terms=terms_view(AgreementTerms.model_validate(a.terms)),
            asked_on=_moment(a.created_at) or "",
            is_amendment=a.supersedes_id is not None,
            changes=changes_of(uow, a),
        )
        for a in waiting
    ]


def last_reads(
    uow: UnitOfWork, customer_id: uuid.UUID, agreement_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, datetime]:
    """Return when each agreement's business last read anything (allowed reads only)."""
    ids = list(agreement_ids)
    if not ids:
        return {}
    rows = uow.session.execute(
        select(AccessEvent.agreement_id, func.max(AccessEvent.at))
        .where(
            AccessEvent.customer_id == customer_id,
            AccessEvent.agreement_id.in_(ids),
            AccessEvent.outcome == ALLOWED,
            or_(AccessEvent.kind == "profile.read", AccessEvent.kind.like("interaction.%")),
        )
        .group_by(AccessEvent.agreement_id)
    )
    return {agreement_id: at for agreement_id, at in rows if agreement_id is not None}


@dataclass(frozen=True)
class ConnectionCard:
    """One agreement as the connections list shows it."""

    id: uuid.UUID
    business: BusinessView
    status: str
    status_words: str
    restricted: bool
    active: bool
    fields: list[FieldRow]
    purpose: str
    purpose_description: str
    since: str | None
    until: str | None
    ended: str | None
    last_read: str | None


def _card(uow: UnitOfWork, agreement: Agreement, last_read: datetime | None) -> ConnectionCard:
    status = current_status(agreement, uow.now())
    terms = terms_view(AgreementTerms.model_validate(agreement.terms))
    active = status is AgreementStatus.ACTIVE
    ended = agreement.ended_at if not active else None
    return ConnectionCard(
        id=agreement.id,
        business=business_view(agreement.business),
        status=status.value,
        status_words=status_words(status.value, agreement.restricted),
        restricted=active and agreement.restricted,
        active=active,
        fields=[row for row in terms.fields if row.key in agreement.granted_fields],
        purpose=terms.purpose,
        purpose_description=terms.purpose_description,
        since=_date(agreement.valid_from),
        until=_date(agreement.valid_until),
        ended=_date(ended),
        last_read=_moment(last_read),
    )


def connection_cards(uow: UnitOfWork, customer_id: uuid.UUID) -> list[ConnectionCard]:
    """Return every agreement the customer has answered, newest first."""
    answered = [
        a for a in customer_agreements(uow, customer_id) if a.status != AgreementStatus.REQUESTED
    ]
    reads = last_reads(uow, customer_id, (a.id for a in answered))
    return [_card(uow, a, reads.get(a.id)) for a in answered]


@dataclass(frozen=True)
class HistoryRow:
    """One event of an agreement's history."""

    when: str
    what: str
    who: str


@dataclass(frozen=True)
class ReceiptRow:
    """One receipt of an agreement."""

    id: uuid.UUID
    what: str
    issued: str


@dataclass(frozen=True)
class ConnectionDetail:
    """Everything the page of one agreement shows."""

    card: ConnectionCard
    terms: TermsView
    not_granted: list[FieldRow]
    version: int
    history: list[HistoryRow]
    receipts: list[ReceiptRow]
    replaces: uuid.UUID | None
    replaced_by: uuid.UUID | None
    change_waiting: bool


def connection_detail(uow: UnitOfWork, agreement: Agreement) -> ConnectionDetail:
    """Return the page of one agreement (the caller has checked it is the customer's)."""
    assert agreement.customer_id is not None
    terms = terms_view(AgreementTerms.model_validate(agreement.terms))
    card = _card(
        uow, agreement, last_reads(uow, agreement.customer_id, [agreement.id]).get(agreement.id)
    )
    name = card.business.name
    successors = {
        status: successor
        for successor, status in uow.session.execute(
            select(Agreement.id, Agreement.status).where(
                Agreement.supersedes_id == agreement.id,
                Agreement.customer_id == agreement.customer_id,
                Agreement.status.in_([AgreementStatus.REQUESTED, AgreementStatus.ACTIVE]),
            )
        )
    }
    return ConnectionDetail(
        card=card,
        terms=terms,
        not_granted=[row for row in terms.fields if row.key not in agreement.granted_fields],
        version=agreement.version,
        history=[
            HistoryRow(_moment(e.at) or "", event_words(e.kind), actor_words(e.actor, name))
            for e in reversed(agreement_events(uow, agreement.id))
        ],
        receipts=[
            ReceiptRow(r.id, receipt_words(r.kind), _moment(r.issued_at) or "")
            for r in reversed(receipts_for(uow, agreement.id))
        ],
        replaces=agreement.supersedes_id if _previous(uow, agreement) else None,
        replaced_by=successors.get(AgreementStatus.ACTIVE.value),
        change_waiting=AgreementStatus.REQUESTED.value in successors and card.active,
    )


@dataclass(frozen=True)
class ReceiptView:
    """A receipt's claims in words, and whether its signature checks out."""

    id: uuid.UUID
    what: str
    issued: str | None
    verified: bool
    business: str
    purpose: str
    purpose_description: str
    granted: list[FieldRow]
    not_granted: list[FieldRow]
    valid_from: str | None
    valid_until: str | None
    retention: str | None
    language: str
    claims_json: str


def _unverified_claims(jws: str) -> dict[str, Any]:
    # Shown, flagged as unchecked, so the customer still sees what a bad receipt claims.
    try:
        payload = json.loads(base64.urlsafe_b64decode(jws.split(".")[1] + "=="))
    except (IndexError, ValueError):
        return {}
    return payload if isinstance(payload, dict) else {}


def _when(value: object) -> datetime | None:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def receipt_view(receipt: ConsentReceipt, jwks: dict[str, Any]) -> ReceiptView:
    """Check a receipt against the published keys and return what it states, in words."""
    try:
        claims, verified = verify_receipt(receipt.jws, jwks), True
    except SignatureError:
        claims, verified = _unverified_claims(receipt.jws), False
    record = claims.get("consentRecord") or {}
    purpose = (record.get("purposes") or [{}])[0]
    validity = purpose.get("validity") or {}
    granted = claims.get("emanet:granted_fields") or {}
    requested = claims.get("emanet:requested_fields") or {}
    controllers = claims.get("piiControllers") or [{}]
    retention = purpose.get("retention_period")
    return ReceiptView(
        id=receipt.id,
        what=receipt_words(str(claims.get("emanet:kind", receipt.kind))),
        issued=_moment(_when(claims.get("iat"))),
        verified=verified,
        business=str(controllers[0].get("piiController", "")),
        purpose=purpose_words(str(purpose.get("purpose_type", "")).removeprefix(DPV)),
        purpose_description=str(purpose.get("purpose", "")),
        granted=field_rows({k: granted[k] for k in [*requested, *granted] if k in granted}),
        not_granted=field_rows({k: m for k, m in requested.items() if k not in granted}),
        valid_from=_moment(_when(validity.get("from"))),
        valid_until=_moment(_when(validity.get("until"))),
        retention=duration_words(retention) if isinstance(retention, str) else None,
        language=str(claims.get("language", "")),
        claims_json=json.dumps(claims, ensure_ascii=False, indent=2, sort_keys=True),
    )
