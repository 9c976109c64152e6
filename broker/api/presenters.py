"""Agreements as the business sees them in the API."""

from __future__ import annotations

from broker.pairwise import subject_for
from schemas.agreements import AgreementTerms
from schemas.api import (
    AgreementDetailOut,
    AgreementEventOut,
    AgreementOut,
    FieldGrantOut,
    ReceiptOut,
)
from vault.agreements.models import Agreement
from vault.agreements.services import agreement_events, current_status
from vault.receipts.services import receipts_for
from vault.unit_of_work import UnitOfWork


def _public_actor(actor: str) -> str:
    # The business learns who acted by role, never the customer's internal id.
    return actor.split(":", 1)[0] if ":" in actor else actor


def agreement_out(uow: UnitOfWork, agreement: Agreement) -> AgreementOut:
    """Describe one agreement, naming the customer by this business's pairwise id."""
    terms = AgreementTerms.model_validate(agreement.terms)
    customer = (
        subject_for(uow, agreement.business_id, agreement.customer_id)
        if agreement.customer_id
        else None
    )
    return AgreementOut(
        id=str(agreement.id),
        customer=customer,
        status=current_status(agreement, uow.now()).value,
        version=agreement.version,
        restricted=agreement.restricted,
        purpose=terms.purpose.value,
        purpose_description=terms.purpose_description,
        legal_basis=terms.legal_basis.value,
        requested_fields=[FieldGrantOut(key=f.key, mode=f.mode.value) for f in terms.fields],
        granted_fields=[FieldGrantOut(key=k, mode=m) for k, m in agreement.granted_fields.items()],
        duration=str(terms.duration),
        retention=str(terms.retention),
        frequency=terms.frequency.value,
        valid_from=agreement.valid_from,
        valid_until=agreement.valid_until,
        supersedes=str(agreement.supersedes_id) if agreement.supersedes_id else None,
        created_at=agreement.created_at,
        updated_at=agreement.updated_at,
    )


def agreement_detail(uow: UnitOfWork, agreement: Agreement) -> AgreementDetailOut:
    """Describe an agreement with its history and receipts."""
    summary = agreement_out(uow, agreement)
    history = [
        AgreementEventOut(
            kind=e.kind,
            actor=_public_actor(e.actor),
            at=e.at,
            version=int(e.state.get("version", 1)),
            status=str(e.state.get("status")),
        )
        for e in agreement_events(uow, agreement.id)
    ]
    receipts = [
        ReceiptOut(id=str(r.id), kind=r.kind, jws=r.jws, issued_at=r.issued_at)
        for r in receipts_for(uow, agreement.id)
    ]
    return AgreementDetailOut(**summary.model_dump(), history=history, receipts=receipts)
