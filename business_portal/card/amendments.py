"""Asking a connected customer for more fields or a longer term from the card: the rules are
the broker's (broker.amendments), the same as the API's; here the customer is found by their
pairwise id among the business's connections."""

from __future__ import annotations

import uuid

from broker.amendments import AmendmentError, ask_for_amendment
from business_portal.notes.services import NotConnectedError
from business_portal.records.connections import connection_for
from schemas.agreements import AgreementTerms
from schemas.api import AmendmentIn
from vault.agreements.locks import own_agreement
from vault.agreements.services import Context
from vault.unit_of_work import UnitOfWork

__all__ = ["AmendmentError", "amendable_agreements", "request_amendment"]


def amendable_agreements(
    uow: UnitOfWork, business_id: uuid.UUID, subject: str
) -> list[tuple[uuid.UUID, AgreementTerms]]:
    """Return the active agreements with a connected customer (id, terms), newest first."""
    connection = connection_for(uow, business_id, subject)
    if connection is None:
        raise NotConnectedError(subject)
    return [(a.id, AgreementTerms.model_validate(a.terms)) for a in connection.agreements]


def request_amendment(
    uow: UnitOfWork,
    business_id: uuid.UUID,
    subject: str,
    agreement_id: uuid.UUID,
    amendment: AmendmentIn,
    context: Context,
) -> uuid.UUID:
    """Ask a connected customer to replace an active agreement with amended terms; commit.

    Return the new request's id. Raise NotConnectedError when the customer or the agreement
    is not this business's active one, AmendmentError when the amendment cannot be asked.
    """
    # Held alone: two staff asking at once would otherwise both find no change waiting.
    own_agreement(uow, agreement_id)
    connection = connection_for(uow, business_id, subject)
    current = next(
        (a for a in (connection.agreements if connection else []) if a.id == agreement_id), None
    )
    if current is None:
        raise NotConnectedError(subject)
    created = ask_for_amendment(uow, current, amendment, context)
    uow.commit()
    return created.id
