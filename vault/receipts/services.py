"""Issue, list and check consent receipts (DESIGN: the data-sharing agreement, Receipt).

`issue_receipt` is a step inside the customer's decision: it runs in the decision's
transaction, so a receipt that cannot be signed leaves no decision behind, and a decision
never commits without its receipt.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from sqlalchemy import select

from schemas.agreements import AgreementTerms, BusinessSnapshot
from vault.agreements.models import Agreement, AgreementEvent
from vault.receipts.claims import ReceiptFacts, receipt_claims
from vault.receipts.models import ConsentReceipt, ReceiptKind
from vault.receipts.rfc7515 import SignatureError, sign_compact, verify_compact
from vault.unit_of_work import UnitOfWork

TYP = "consent-receipt+jwt"
# The same keyed derivation as broker.pairwise.derive_subject (the vault may not import the
# broker); tests/vault/test_receipts.py checks that the two agree.
PAIRWISE_PURPOSE = "pairwise-subject"

__all__ = [
    "TYP",
    "SignatureError",
    "issue_receipt",
    "principal_id",
    "receipt_kind",
    "receipts_for",
    "verify_receipt",
]


def principal_id(uow: UnitOfWork, business_id: uuid.UUID, customer_id: uuid.UUID) -> str:
    """Return the customer's pairwise id at this business: no two businesses share it."""
    digest = uow.provider.blind_index(PAIRWISE_PURPOSE, f"{business_id}|{customer_id}".encode())
    return "c_" + base64.b32encode(digest[:20]).decode().lower()


def receipt_kind(agreement: Agreement, event: AgreementEvent) -> ReceiptKind:
    """Return which decision an agreement event records."""
    if event.kind == "granted":
        if agreement.supersedes_id is not None:
            return ReceiptKind.AMENDED
        requested = AgreementTerms.model_validate(agreement.terms).field_modes()
        whole = {key: mode.value for key, mode in requested.items()}
        if agreement.granted_fields == whole:
            return ReceiptKind.GRANTED
        return ReceiptKind.PARTIALLY_GRANTED
    if event.kind in (ReceiptKind.DECLINED, ReceiptKind.REVOKED, ReceiptKind.NARROWED):
        return ReceiptKind(event.kind)
    raise ValueError(f"An agreement event of kind {event.kind!r} gets no receipt.")


def issue_receipt(
    uow: UnitOfWork, agreement: Agreement, event: AgreementEvent, *, language: str = "en"
) -> ConsentReceipt:
    """Sign a receipt for a customer's decision and add it to the decision's transaction."""
    if agreement.customer_id is None:
        raise ValueError("Only a customer's decision gets a receipt.")
    kind = receipt_kind(agreement, event)
    kid, key = uow.provider.signing_key()
    receipt_id = uuid.uuid4()
    issued_at = uow.now()
    facts = ReceiptFacts(
        receipt_id=receipt_id,
        kind=kind,
        issuer=uow.issuer,
        issued_at=issued_at,
        principal_id=principal_id(uow, agreement.business_id, agreement.customer_id),
        agreement_id=agreement.id,
        supersedes_id=agreement.supersedes_id,
        version=agreement.version,
        status=agreement.status,
        terms=AgreementTerms.model_validate(agreement.terms),
        business=BusinessSnapshot.model_validate(agreement.business),
        granted=dict(agreement.granted_fields),
        valid_from=agreement.valid_from,
        valid_until=agreement.valid_until,
        event_at=event.at,
        actor=event.actor,
        language=language,
    )
    receipt = ConsentReceipt(
        id=receipt_id,
        agreement_id=agreement.id,
        event_id=event.id,
        kind=kind.value,
        kid=kid,
        jws=sign_compact(receipt_claims(facts), kid, key, TYP),
        issued_at=issued_at,
    )
    uow.session.add(receipt)
    uow.session.flush()
    return receipt


def receipts_for(uow: UnitOfWork, agreement_id: uuid.UUID) -> list[ConsentReceipt]:
    """Return every receipt of an agreement, oldest first."""
    return list(
        uow.session.scalars(
            select(ConsentReceipt)
            .where(ConsentReceipt.agreement_id == agreement_id)
            .order_by(ConsentReceipt.event_id)
        )
    )


def verify_receipt(jws: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """Check a receipt against a JWK Set and return its claims; raise SignatureError if not."""
    return verify_compact(jws, jwks, TYP)
