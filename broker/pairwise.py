"""Pairwise customer identifiers: each business knows a customer by an id of its own."""

from __future__ import annotations

import base64
import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from broker.businesses.models import PairwiseSubject
from vault.unit_of_work import UnitOfWork

PAIRWISE_PURPOSE = "pairwise-subject"


def derive_subject(uow: UnitOfWork, business_id: uuid.UUID, customer_id: uuid.UUID) -> str:
    """Return the keyed, stable identifier of a customer at one business (OIDC Core §8.1)."""
    digest = uow.provider.blind_index(PAIRWISE_PURPOSE, f"{business_id}|{customer_id}".encode())
    return "c_" + base64.b32encode(digest[:20]).decode().lower()


def subject_for(uow: UnitOfWork, business_id: uuid.UUID, customer_id: uuid.UUID) -> str:
    """Return the customer's identifier at this business, recording it on first use."""
    subject = derive_subject(uow, business_id, customer_id)
    known = uow.session.get(PairwiseSubject, subject)
    if known is None:
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
    return subject


def customer_for(uow: UnitOfWork, business_id: uuid.UUID, subject: str) -> uuid.UUID | None:
    """Return the customer a business means by its identifier, or None."""
    return uow.session.scalar(
        select(PairwiseSubject.customer_id).where(
            PairwiseSubject.subject == subject, PairwiseSubject.business_id == business_id
        )
    )
