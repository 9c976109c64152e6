"""Pairwise customer identifiers: each business knows a customer by an id of its own."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from broker.businesses.models import PairwiseSubject
from vault.unit_of_work import UnitOfWork

PAIRWISE_PURPOSE = "pairwise-subject"

_PAIRS = PairwiseSubject.__table__.c
# Looked up on the hot path and never changed there: plain columns, statements built once.
_RECORDED = select(_PAIRS.subject).where(_PAIRS.subject.in_(bindparam("subjects", expanding=True)))
_CUSTOMER = select(_PAIRS.customer_id).where(
    _PAIRS.subject == bindparam("subject"), _PAIRS.business_id == bindparam("business_id")
)


def derive_subject(uow: UnitOfWork, business_id: uuid.UUID, customer_id: uuid.UUID) -> str:
    """Return the keyed, stable identifier of a customer at one business (OIDC Core §8.1)."""
    digest = uow.provider.blind_index(PAIRWISE_PURPOSE, f"{business_id}|{customer_id}".encode())
    return "c_" + base64.b32encode(digest[:20]).decode().lower()


def subject_for(uow: UnitOfWork, business_id: uuid.UUID, customer_id: uuid.UUID) -> str:
    """Return the customer's identifier at this business, recording it on first use."""
    return subjects_for(uow, business_id, [customer_id])[customer_id]


def subjects_for(
    uow: UnitOfWork, business_id: uuid.UUID, customer_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """Return several customers' identifiers at this business, recording those new to it."""
    derived = {c: derive_subject(uow, business_id, c) for c in customer_ids}
    if not derived:
        return {}
    recorded = set(uow.session.scalars(_RECORDED, {"subjects": list(set(derived.values()))}).all())
    for customer_id, subject in derived.items():
        if subject not in recorded:
            _record(uow, subject, business_id, customer_id)
    return derived


def _record(uow: UnitOfWork, subject: str, business_id: uuid.UUID, customer_id: uuid.UUID) -> None:
    try:
        with uow.session.begin_nested():
            uow.session.add(
                PairwiseSubject(
                    subject=subject,
                    business_id=business_id,
                    customer_id=customer_id,
                    created_at=uow.now(),
                )
            )
    except IntegrityError:
        pass  # recorded by a concurrent request: the same value, derived the same way


def customer_for(uow: UnitOfWork, business_id: uuid.UUID, subject: str) -> uuid.UUID | None:
    """Return the customer a business means by its identifier, or None."""
    return uow.session.scalar(_CUSTOMER, {"subject": subject, "business_id": business_id})
