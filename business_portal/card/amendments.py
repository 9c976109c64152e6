"""Asking a connected customer for more fields or a longer term: an amendment.

The amendment is a new request that supersedes the active agreement; it waits in the
customer's inbox and, once granted, replaces the agreement (vault.agreements.services). The
terms are merged by the same rules as the broker's API (POST /customers/<subject>/amendments):
the current terms, with each field asked for again in a new mode replaced, new fields added,
the term and the description replaced when given. The portal adds two checks of its own: a
new term must end later than the current one, and one change waits at a time.
"""

from __future__ import annotations

import uuid

from pydantic import ValidationError
from sqlalchemy import select

from broker.businesses.services import business_snapshot
from business_portal.notes.services import NotConnectedError
from business_portal.records.connections import connection_for
from schemas.agreements import AgreementStatus, AgreementTerms, FieldRequest
from schemas.api import AmendmentIn
from vault.agreements.locks import own_agreement
from vault.agreements.models import Agreement
from vault.agreements.services import Context, request_agreement
from vault.unit_of_work import UnitOfWork

__all__ = [
    "AmendmentError",
    "added_fields",
    "amendable_agreements",
    "amended_terms",
    "request_amendment",
]


class AmendmentError(ValueError):
    """The amendment cannot be asked for; `field` is where the fix is, `code` what is wrong."""

    def __init__(self, field: str, code: str) -> None:
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code


def added_fields(terms: AgreementTerms, amendment: AmendmentIn) -> list[FieldRequest]:
    """Return the fields the amendment asks for that the terms do not, in that mode."""
    known = terms.field_modes()
    return [f for f in amendment.fields if known.get(f.key) is not f.mode]


def amended_terms(terms: AgreementTerms, amendment: AmendmentIn) -> AgreementTerms:
    """Merge an amendment into the current terms; raise AmendmentError when nothing changes."""
    added = added_fields(terms, amendment)
    if not added and amendment.duration is None:
        raise AmendmentError("fields", "nothing_to_amend")
    replaced = {a.key for a in added}
    try:
        return AgreementTerms.model_validate(
            {
                **terms.model_dump(mode="json"),
                "fields": [f.model_dump(mode="json") for f in terms.fields if f.key not in replaced]
                + [a.model_dump(mode="json") for a in added],
                "duration": str(amendment.duration or terms.duration),
                "purpose_description": amendment.purpose_description or terms.purpose_description,
            }
        )
    except ValidationError:
        # The only rule merging can break: at most 40 fields in one agreement.
        raise AmendmentError("fields", "too_many_fields") from None


def _check_term(uow: UnitOfWork, current: Agreement, amendment: AmendmentIn) -> None:
    if amendment.duration is None or current.valid_until is None:
        return
    # Granted today at the earliest, the new term must reach past the current end.
    if amendment.duration.after(uow.now()) <= current.valid_until:
        raise AmendmentError("duration", "term_not_longer")


def _change_waiting(uow: UnitOfWork, current: Agreement) -> bool:
    waiting = select(Agreement.id).where(
        Agreement.supersedes_id == current.id,
        Agreement.status == AgreementStatus.REQUESTED.value,
    )
    return uow.session.scalar(waiting.limit(1)) is not None


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
    terms = amended_terms(AgreementTerms.model_validate(current.terms), amendment)
    _check_term(uow, current, amendment)
    if _change_waiting(uow, current):
        raise AmendmentError("fields", "change_waiting")
    created = request_agreement(
        uow,
        business=business_snapshot(uow, business_id),
        terms=terms,
        context=context,
        customer_id=current.customer_id,
        supersedes=current,
    )
    uow.commit()
    return created.id
