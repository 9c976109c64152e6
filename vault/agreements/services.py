"""The agreement lifecycle: request → active | declined; active → revoked | expired | superseded.

`request_agreement` is a step the broker composes into its own transaction; the customer's
decisions (`decide_request`, `revoke_agreement`, `narrow_agreement`, `restrict_agreement`,
`resume_agreement`) are use cases and commit. A decision, a revocation and a narrowing each
commit together with their signed consent receipt, or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from schemas.agreements import (
    AccessMode,
    AgreementStatus,
    AgreementTerms,
    BusinessSnapshot,
    narrowed,
)
from schemas.durations import CalendarDuration
from vault.agreements.locks import own_agreement
from vault.agreements.models import Agreement, AgreementEvent
from vault.agreements.status import current_status
from vault.outbox.services import emit
from vault.receipts.services import issue_receipt
from vault.unit_of_work import UnitOfWork

ENDED = {
    AgreementStatus.DECLINED,
    AgreementStatus.REVOKED,
    AgreementStatus.EXPIRED,
    AgreementStatus.SUPERSEDED,
}


@dataclass(frozen=True)
class Context:
    """Who acts, and from where (kept with every lifecycle event)."""

    actor: str
    ip: str | None = None
    user_agent: str | None = None
    language: str = "en"  # the language the customer decided in (stated on the receipt)


class AgreementError(Exception):
    """An agreement cannot change the way that was asked; the message says why."""


class AgreementNotFoundError(AgreementError, LookupError):
    """No such agreement for this customer."""


class GrantError(AgreementError, ValueError):
    """The grant names a field or mode that was not requested."""


def state_of(agreement: Agreement) -> dict[str, Any]:
    """Return the agreement's mutable state as kept in each event."""
    return {
        "status": agreement.status,
        "customer_id": str(agreement.customer_id) if agreement.customer_id else None,
        "granted_fields": dict(agreement.granted_fields),
        "restricted": agreement.restricted,
        "version": agreement.version,
        "terms": agreement.terms,
        "valid_from": agreement.valid_from.isoformat() if agreement.valid_from else None,
        "valid_until": agreement.valid_until.isoformat() if agreement.valid_until else None,
    }


def rebuild_state(events: list[AgreementEvent]) -> dict[str, Any]:
    """Rebuild an agreement's state from its events alone (DESIGN invariant 9)."""
    state: dict[str, Any] = {}
    for event in sorted(events, key=lambda e: e.id):
        state = {**state, **event.state}
    return state


def _record(uow: UnitOfWork, agreement: Agreement, kind: str, context: Context) -> AgreementEvent:
    agreement.updated_at = uow.now()
    event = AgreementEvent(
        agreement_id=agreement.id,
        kind=kind,
        actor=context.actor,
        at=uow.now(),
        ip=context.ip,
        user_agent=(context.user_agent or "")[:400] or None,
        state=state_of(agreement),
    )
    uow.session.add(event)
    uow.session.flush()
    return event


def _notify(uow: UnitOfWork, agreement: Agreement, event_type: str) -> None:
    emit(
        uow,
        agreement.business_id,
        event_type,
        {
            "agreement_id": str(agreement.id),
            "status": agreement.status,
            "version": agreement.version,
            "granted_fields": sorted(agreement.granted_fields),
        },
        agreement_id=agreement.id,
    )


def request_agreement(
    uow: UnitOfWork,
    *,
    business: BusinessSnapshot,
    terms: AgreementTerms,
    context: Context,
    client_id: str | None = None,
    customer_id: uuid.UUID | None = None,
    supersedes: Agreement | None = None,
) -> Agreement:
    """Record a pending request (an amendment when it supersedes an active agreement)."""
    if supersedes is not None:
        # An amendment waits for the customer of the agreement it replaces, and only that
        # agreement's business may ask for it; otherwise granting it would end someone else's.
        if str(supersedes.business_id) != business.business_id:
            raise AgreementError("An amendment can only replace the same business's agreement.")
        if customer_id not in (None, supersedes.customer_id):
            raise AgreementError("An amendment goes to the customer of the agreement it replaces.")
        customer_id = supersedes.customer_id
    now = uow.now()
    agreement = Agreement(
        id=uuid.uuid4(),
        customer_id=customer_id,
        business_id=uuid.UUID(business.business_id),
        client_id=client_id,
        status=AgreementStatus.REQUESTED.value,
        restricted=False,
        terms=terms.model_dump(mode="json"),
        granted_fields={},
        business=business.model_dump(mode="json"),
        version=(supersedes.version + 1) if supersedes else 1,
        supersedes_id=supersedes.id if supersedes else None,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(agreement)
    uow.session.flush()
    _record(uow, agreement, "requested", context)
    return agreement


def customer_agreement(
    uow: UnitOfWork, agreement_id: uuid.UUID, customer_id: uuid.UUID, *, lock: bool = True
) -> Agreement:
    """Load an agreement of this customer (claiming an unclaimed request), locked for change."""
    if lock:
        own_agreement(uow, agreement_id)
    query = select(Agreement).where(Agreement.id == agreement_id)
    agreement = uow.session.scalar(query.with_for_update() if lock else query)
    if agreement is None or agreement.customer_id not in (None, customer_id):
        raise AgreementNotFoundError("No such agreement.")
    if agreement.customer_id is None:
        if agreement.status != AgreementStatus.REQUESTED:
            raise AgreementNotFoundError("No such agreement.")
        agreement.customer_id = customer_id
    return agreement


def decide_request(
    uow: UnitOfWork,
    agreement_id: uuid.UUID,
    customer_id: uuid.UUID,
    granted: Mapping[str, AccessMode] | None,
    context: Context,
) -> Agreement:
    """Grant all or some of the requested fields, or decline (None or nothing ticked)."""
    agreement = customer_agreement(uow, agreement_id, customer_id)
    if agreement.status != AgreementStatus.REQUESTED:
        raise AgreementError("This request has already been answered.")
    terms = AgreementTerms.model_validate(agreement.terms)
    if granted and not narrowed(terms.field_modes(), granted):
        raise GrantError("Only fields that were requested can be granted.")
    now = uow.now()
    agreement.decided_at = now
    if not granted:
        agreement.status = AgreementStatus.DECLINED.value
        agreement.ended_at = now
        event = _record(uow, agreement, "declined", context)
    else:
        agreement.status = AgreementStatus.ACTIVE.value
        agreement.granted_fields = {key: AccessMode(mode).value for key, mode in granted.items()}
        agreement.valid_from = now
        agreement.valid_until = CalendarDuration.parse(str(terms.duration)).after(now)
        event = _record(uow, agreement, "granted", context)
        _supersede_previous(uow, agreement, context)
        _notify(
            uow, agreement, "agreement.amended" if agreement.supersedes_id else "agreement.granted"
        )
    issue_receipt(uow, agreement, event, language=context.language)
    uow.commit()
    return agreement


def _supersede_previous(uow: UnitOfWork, agreement: Agreement, context: Context) -> None:
    if agreement.supersedes_id is None:
        return
    own_agreement(uow, agreement.supersedes_id)
    previous = uow.session.get(Agreement, agreement.supersedes_id, with_for_update=True)
    if (
        previous is not None
        and previous.status == AgreementStatus.ACTIVE
        and (previous.customer_id, previous.business_id)
        == (agreement.customer_id, agreement.business_id)
    ):
        previous.status = AgreementStatus.SUPERSEDED.value
        previous.ended_at = uow.now()
        _record(uow, previous, "superseded", context)


def _active(uow: UnitOfWork, agreement_id: uuid.UUID, customer_id: uuid.UUID) -> Agreement:
    agreement = customer_agreement(uow, agreement_id, customer_id)
    if current_status(agreement, uow.now()) is not AgreementStatus.ACTIVE:
        raise AgreementError("This agreement is no longer active.")
    return agreement


def revoke_agreement(
    uow: UnitOfWork, agreement_id: uuid.UUID, customer_id: uuid.UUID, context: Context
) -> Agreement:
    """End an active agreement now; from this commit on no read under it succeeds."""
    agreement = _active(uow, agreement_id, customer_id)
    agreement.status = AgreementStatus.REVOKED.value
    agreement.ended_at = uow.now()
    event = _record(uow, agreement, "revoked", context)
    _notify(uow, agreement, "agreement.revoked")
    issue_receipt(uow, agreement, event, language=context.language)
    uow.commit()
    return agreement


def narrow_agreement(
    uow: UnitOfWork,
    agreement_id: uuid.UUID,
    customer_id: uuid.UUID,
    keep: Mapping[str, AccessMode],
    context: Context,
) -> Agreement:
    """Take fields out of an active agreement (keeping none of them revokes it)."""
    if not keep:
        return revoke_agreement(uow, agreement_id, customer_id, context)
    agreement = _active(uow, agreement_id, customer_id)
    current = {k: AccessMode(m) for k, m in agreement.granted_fields.items()}
    if not narrowed(current, keep):
        raise GrantError("Narrowing can only remove fields that are granted now.")
    agreement.granted_fields = {key: mode.value for key, mode in keep.items()}
    agreement.version += 1
    event = _record(uow, agreement, "narrowed", context)
    _notify(uow, agreement, "agreement.amended")
    issue_receipt(uow, agreement, event, language=context.language)
    uow.commit()
    return agreement


def _set_restricted(
    uow: UnitOfWork,
    agreement_id: uuid.UUID,
    customer_id: uuid.UUID,
    context: Context,
    restricted: bool,
) -> Agreement:
    agreement = _active(uow, agreement_id, customer_id)
    if agreement.restricted == restricted:
        return agreement
    agreement.restricted = restricted
    _record(uow, agreement, "restricted" if restricted else "resumed", context)
    _notify(uow, agreement, "agreement.amended")
    uow.commit()
    return agreement


def restrict_agreement(
    uow: UnitOfWork, agreement_id: uuid.UUID, customer_id: uuid.UUID, context: Context
) -> Agreement:
    """Pause an agreement (GDPR Art. 18 restriction): reads are refused until resumed."""
    return _set_restricted(uow, agreement_id, customer_id, context, True)


def resume_agreement(
    uow: UnitOfWork, agreement_id: uuid.UUID, customer_id: uuid.UUID, context: Context
) -> Agreement:
    """Lift a restriction."""
    return _set_restricted(uow, agreement_id, customer_id, context, False)


def record_expiry_if_due(uow: UnitOfWork, agreement: Agreement) -> bool:
    """Write down an expiry noticed at read time (correctness never waits for this)."""
    if agreement.status != AgreementStatus.ACTIVE:
        return False
    if current_status(agreement, uow.now()) is not AgreementStatus.EXPIRED:
        return False
    agreement.status = AgreementStatus.EXPIRED.value
    agreement.ended_at = agreement.valid_until
    _record(uow, agreement, "expired", Context(actor="system"))
    _notify(uow, agreement, "agreement.expired")
    return True


def end_for_erasure(uow: UnitOfWork, agreement: Agreement) -> None:
    """End an agreement because its customer erased their account; tell the business."""
    if agreement.status in (AgreementStatus.ACTIVE, AgreementStatus.REQUESTED):
        agreement.status = AgreementStatus.REVOKED.value
        agreement.ended_at = uow.now()
        _record(uow, agreement, "erased", Context(actor="customer"))
    emit(
        uow,
        agreement.business_id,
        "customer.erased",
        {"agreement_id": str(agreement.id)},
        agreement_id=agreement.id,
    )


def agreement_events(uow: UnitOfWork, agreement_id: uuid.UUID) -> list[AgreementEvent]:
    """Return every event of an agreement, oldest first."""
    return list(
        uow.session.scalars(
            select(AgreementEvent)
            .where(AgreementEvent.agreement_id == agreement_id)
            .order_by(AgreementEvent.id)
        )
    )


def customer_agreements(uow: UnitOfWork, customer_id: uuid.UUID) -> list[Agreement]:
    """Return the customer's agreements, newest first."""
    return list(
        uow.session.scalars(
            select(Agreement)
            .where(Agreement.customer_id == customer_id)
            .order_by(Agreement.created_at.desc())
        )
    )
