"""Amendments: a connected business asks for more fields or a longer term (DESIGN.md,
"How a connection starts"). One set of rules for the API and the business portal.

The amendment is a new request that supersedes the active agreement; it waits in the
customer's inbox and, once granted, replaces the agreement. Terms are merged thus: the current
terms, with each field asked for again in a new mode replaced, new fields added, the term and
the description replaced when given. A new term must end later than the current one, and one
change waits at a time (two granted amendments must not both become active).
"""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy import select

from broker.businesses.services import business_snapshot
from schemas.agreements import AgreementStatus, AgreementTerms, FieldRequest
from schemas.api import AmendmentIn
from vault.agreements.models import Agreement
from vault.agreements.services import Context, current_status, request_agreement
from vault.unit_of_work import UnitOfWork


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


def ask_for_amendment(
    uow: UnitOfWork,
    current: Agreement,
    amendment: AmendmentIn,
    context: Context,
    *,
    client_id: str | None = None,
) -> Agreement:
    """Record an amendment of the business's active agreement, in the current transaction.

    The caller holds the agreement alone (vault.agreements.locks.own_agreement), so two
    amendments asked at once cannot both find no change waiting.
    """
    if current_status(current, uow.now()) is not AgreementStatus.ACTIVE:
        raise AmendmentError("agreement", "not_active")
    terms = amended_terms(AgreementTerms.model_validate(current.terms), amendment)
    _check_term(uow, current, amendment)
    if _change_waiting(uow, current):
        raise AmendmentError("fields", "change_waiting")
    return request_agreement(
        uow,
        business=business_snapshot(uow, current.business_id),
        terms=terms,
        context=context,
        client_id=client_id,
        customer_id=current.customer_id,
        supersedes=current,
    )
