"""Everything the console shows about one agreement: terms, versions, events, receipts, reads.

Every lookup starts from `find_agreement`, which applies the officer's scope: an agreement of
another business is simply not found. Nothing here reads a customer's values.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from broker.businesses.models import OAuthClient, StaffUser
from business_portal.compliance.services.diff import Snapshot, Version, versions
from vault.access_log.models import AccessEvent
from vault.agreements.models import Agreement, AgreementEvent
from vault.receipts.models import ConsentReceipt
from vault.receipts.services import SignatureError, verify_receipt
from vault.unit_of_work import UnitOfWork

ACCESS_PAGE = 100
# The longest chain of amendments walked; a longer one is shown in part, never looped on.
MAX_CHAIN = 200


def find_agreement(
    uow: UnitOfWork, scope: uuid.UUID | None, agreement_id: uuid.UUID
) -> Agreement | None:
    """Return the agreement if it lies in the officer's scope (None: every business)."""
    query = select(Agreement).where(Agreement.id == agreement_id)
    if scope is not None:
        query = query.where(Agreement.business_id == scope)
    return uow.session.scalar(query)


def agreement_chain(uow: UnitOfWork, agreement: Agreement) -> list[Agreement]:
    """Return the agreements it amends and those amending it, oldest first, itself included."""
    same_business = Agreement.business_id == agreement.business_id
    chain = {agreement.id: agreement}
    back = agreement
    while back.supersedes_id is not None and len(chain) < MAX_CHAIN:
        found = uow.session.scalar(
            select(Agreement).where(Agreement.id == back.supersedes_id, same_business)
        )
        if found is None or found.id in chain:
            break
        chain[found.id] = back = found
    frontier = [agreement.id]
    while frontier and len(chain) < MAX_CHAIN:
        later = uow.session.scalars(
            select(Agreement).where(Agreement.supersedes_id.in_(frontier), same_business)
        ).all()
        frontier = [a.id for a in later if a.id not in chain]
        chain.update((a.id, a) for a in later)
    return sorted(chain.values(), key=lambda a: (a.created_at, a.version, str(a.id)))


def chain_versions(uow: UnitOfWork, chain: list[Agreement]) -> list[Version]:
    """Return every state of every agreement of the chain with its changes."""
    order = {a.id: n for n, a in enumerate(chain)}
    events = uow.session.scalars(
        select(AgreementEvent).where(AgreementEvent.agreement_id.in_(list(order)))
    ).all()
    events = sorted(events, key=lambda e: (order[e.agreement_id], e.id))
    return versions(
        [Snapshot(str(e.agreement_id), e.id, e.kind, e.actor, e.at, e.state) for e in events]
    )


def lifecycle_events(uow: UnitOfWork, agreement_id: uuid.UUID) -> list[AgreementEvent]:
    """Return every state change of one agreement, oldest first."""
    return list(
        uow.session.scalars(
            select(AgreementEvent)
            .where(AgreementEvent.agreement_id == agreement_id)
            .order_by(AgreementEvent.id)
        )
    )


def agreement_receipts(uow: UnitOfWork, agreement_id: uuid.UUID) -> list[ConsentReceipt]:
    """Return the agreement's consent receipts, oldest first."""
    return list(
        uow.session.scalars(
            select(ConsentReceipt)
            .where(ConsentReceipt.agreement_id == agreement_id)
            .order_by(ConsentReceipt.issued_at, ConsentReceipt.event_id)
        )
    )


@dataclass(frozen=True)
class AccessRow:
    """One entry of the agreement's access log."""

    seq: int
    at: datetime
    kind: str
    fields: list[str]
    actor: str
    actor_name: str | None
    outcome: str


def agreement_access(
    uow: UnitOfWork, agreement: Agreement, before_seq: int | None = None
) -> list[AccessRow]:
    """Return a page of the business's accesses under the agreement, newest first."""
    query = select(AccessEvent).where(
        AccessEvent.agreement_id == agreement.id,
        # A stranger's refused attempt names this agreement but belongs to another business.
        AccessEvent.business_id == agreement.business_id,
    )
    if before_seq is not None:
        query = query.where(AccessEvent.seq < before_seq)
    events = uow.session.scalars(query.order_by(AccessEvent.seq.desc()).limit(ACCESS_PAGE)).all()
    names = actor_names(uow, agreement.business_id, {e.actor for e in events})
    return [
        AccessRow(e.seq, e.at, e.kind, list(e.fields or []), e.actor, names.get(e.actor), e.outcome)
        for e in events
    ]


def actor_names(uow: UnitOfWork, business_id: uuid.UUID, actors: set[str]) -> dict[str, str]:
    """Return the business's staff and OAuth clients by how the log names them."""
    staff_ids, client_ids = [], []
    for actor in actors:
        kind, _, key = actor.partition(":")
        if kind == "staff":
            try:
                staff_ids.append(uuid.UUID(key))
            except ValueError:
                continue
        elif kind == "client":
            client_ids.append(key)
    names: dict[str, str] = {}
    if staff_ids:
        for staff_id, name in uow.session.execute(
            select(StaffUser.id, StaffUser.display_name).where(
                StaffUser.id.in_(staff_ids), StaffUser.business_id == business_id
            )
        ):
            names[f"staff:{staff_id}"] = name
    if client_ids:
        for client_id, name in uow.session.execute(
            select(OAuthClient.client_id, OAuthClient.name).where(
                OAuthClient.client_id.in_(client_ids), OAuthClient.business_id == business_id
            )
        ):
            names[f"client:{client_id}"] = name
    return names


@dataclass(frozen=True)
class ReceiptCheck:
    """What checking a receipt against the published keys found."""

    receipt: ConsentReceipt
    valid: bool
    problem: str | None  # "signature" or "other_agreement" when not valid
    detail: str | None
    claims: dict[str, Any] | None


def check_receipt(
    uow: UnitOfWork, agreement: Agreement, receipt_id: uuid.UUID
) -> ReceiptCheck | None:
    """Check one of the agreement's receipts against the published JWKS (RFC 7515 §5.2)."""
    receipt = uow.session.scalar(
        select(ConsentReceipt).where(
            ConsentReceipt.id == receipt_id, ConsentReceipt.agreement_id == agreement.id
        )
    )
    if receipt is None:
        return None
    # The same document /.well-known/jwks.json serves: what anyone outside would check with.
    jwks = uow.provider.public_jwks()
    try:
        claims = verify_receipt(receipt.jws, jwks)
    except SignatureError as exc:
        return ReceiptCheck(receipt, False, "signature", str(exc), None)
    if claims.get("emanet:agreement_id") != str(agreement.id):
        return ReceiptCheck(receipt, False, "other_agreement", None, claims)
    return ReceiptCheck(receipt, True, None, None, claims)
