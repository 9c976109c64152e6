"""THE GATE: every read or write of vault data on behalf of a business passes here.

One policy decides (DESIGN invariant 4): the agreement belongs to the caller's business, is
active and inside its validity, is not restricted, and grants each field in the mode asked.
The decision, allowed or denied, is appended to the access log in the same transaction as
the read or write. Each function is a use case: it commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select

from broker.pairwise import subject_for
from schemas.agreements import INTERACTIONS, AccessMode, AgreementStatus
from schemas.interactions import InteractionEntry
from vault.access_log.services import LogEntry, append_event
from vault.agreements.locks import own_agreement, share_agreement
from vault.agreements.models import Agreement
from vault.agreements.services import current_status, record_expiry_if_due
from vault.interactions.services import InteractionRecord, list_interactions, record_interaction
from vault.profile.services import FieldValue, read_fields, write_fields
from vault.unit_of_work import UnitOfWork

# A field granted for writing may also be read back; append is for interactions only.
READABLE = {AccessMode.READ.value, AccessMode.WRITE.value}


class AccessDenied(Exception):
    """The gate refused; `reason` is a stable code, the message says it in words."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Caller:
    """Who asks: a business, through one of its OAuth clients or staff users."""

    business_id: uuid.UUID
    actor: str


@dataclass(frozen=True)
class GrantedProfile:
    """The fields a business may see of one customer, and under which agreement."""

    subject: str
    agreement_id: uuid.UUID
    purpose: str
    fields: dict[str, FieldValue]


def _deny(uow: UnitOfWork, entry: LogEntry, reason: str, message: str) -> AccessDenied:
    append_event(uow, LogEntry(**{**entry.__dict__, "outcome": f"denied:{reason}"}))
    uow.commit()
    return AccessDenied(reason, message)


def _authorise(
    uow: UnitOfWork,
    caller: Caller,
    agreement_id: uuid.UUID,
    kind: str,
    wanted: Mapping[str, set[str]],
) -> Agreement:
    # A shared hold on the agreement: a change of state waits for the reads in flight, and
    # reads that start after it was asked for wait for it, then see it (vault.agreements.locks).
    share_agreement(uow, agreement_id)
    agreement = uow.session.scalar(select(Agreement).where(Agreement.id == agreement_id))
    entry = LogEntry(
        kind=kind,
        actor=caller.actor,
        business_id=caller.business_id,
        agreement_id=agreement_id,
        fields=sorted(wanted),
    )
    if agreement is None or agreement.business_id != caller.business_id:
        raise _deny(uow, entry, "no_agreement", "There is no such agreement for this business.")
    entry = LogEntry(
        **{
            **entry.__dict__,
            "customer_id": agreement.customer_id,
            "purpose": agreement.terms.get("purpose"),
        }
    )
    status = current_status(agreement, uow.now())
    if status is not AgreementStatus.ACTIVE:
        noticed_expiry = agreement.status == AgreementStatus.ACTIVE
        denial = _deny(uow, entry, status.value, f"The agreement is {status.value}.")
        if noticed_expiry:
            _write_down_expiry(uow, agreement_id)
        raise denial
    if agreement.restricted:
        raise _deny(uow, entry, "restricted", "The customer has paused this agreement.")
    missing = sorted(
        k for k, modes in wanted.items() if agreement.granted_fields.get(k) not in modes
    )
    if missing:
        raise _deny(
            uow, entry, "not_granted", "The agreement does not grant: " + ", ".join(missing) + "."
        )
    return agreement


def _write_down_expiry(uow: UnitOfWork, agreement_id: uuid.UUID) -> None:
    # After the denial has committed (and let go of the shared hold): taking the agreement
    # alone while holding it shared would deadlock two readers that noticed at once.
    own_agreement(uow, agreement_id)
    agreement = uow.session.scalar(
        select(Agreement)
        .where(Agreement.id == agreement_id)
        .execution_options(populate_existing=True)
    )
    if agreement is not None and record_expiry_if_due(uow, agreement):
        uow.commit()


def _allowed(
    uow: UnitOfWork, caller: Caller, agreement: Agreement, kind: str, fields: Iterable[str]
) -> None:
    append_event(
        uow,
        LogEntry(
            kind=kind,
            actor=caller.actor,
            customer_id=agreement.customer_id,
            business_id=caller.business_id,
            agreement_id=agreement.id,
            purpose=agreement.terms.get("purpose"),
            fields=sorted(fields),
        ),
    )


def read_profile(
    uow: UnitOfWork,
    caller: Caller,
    agreement_id: uuid.UUID,
    fields: Iterable[str] | None = None,
) -> GrantedProfile:
    """Return the granted fields (all readable ones, or those named) of the agreement's customer."""
    if fields is None:
        agreement = _authorise(uow, caller, agreement_id, "profile.read", {})
        names = [
            k for k, m in agreement.granted_fields.items() if m in READABLE and k != INTERACTIONS
        ]
    else:
        names = sorted(set(fields))
        # Interactions are not a profile field: asking for them here asks for too much.
        wanted = {k: (READABLE if k != INTERACTIONS else set()) for k in names}
        agreement = _authorise(uow, caller, agreement_id, "profile.read", wanted)
    assert agreement.customer_id is not None  # an active agreement has its customer
    values = read_fields(uow, agreement.customer_id, names)
    _allowed(uow, caller, agreement, "profile.read", names)
    subject = subject_for(uow, caller.business_id, agreement.customer_id)
    uow.commit()
    return GrantedProfile(subject, agreement.id, str(agreement.terms.get("purpose")), values)


def write_profile_field(
    uow: UnitOfWork, caller: Caller, agreement_id: uuid.UUID, key: str, raw: object
) -> int:
    """Update a field the agreement grants in write mode; return the new version."""
    agreement = _authorise(
        uow, caller, agreement_id, "profile.write", {key: {AccessMode.WRITE.value}}
    )
    assert agreement.customer_id is not None
    version = write_fields(uow, agreement.customer_id, {key: raw}, actor=caller.actor)[key]
    _allowed(uow, caller, agreement, "profile.write", [key])
    uow.commit()
    return version


def append_interaction(
    uow: UnitOfWork, caller: Caller, agreement_id: uuid.UUID, entry: InteractionEntry
) -> uuid.UUID:
    """Log an interaction in the customer's vault under an agreement with append access."""
    agreement = _authorise(
        uow, caller, agreement_id, "interaction.append", {INTERACTIONS: {AccessMode.APPEND.value}}
    )
    assert agreement.customer_id is not None
    interaction_id = record_interaction(
        uow, agreement.customer_id, entry, logged_by=business_author(caller.business_id)
    )
    _allowed(uow, caller, agreement, "interaction.append", [INTERACTIONS])
    uow.commit()
    return interaction_id


def read_interactions(
    uow: UnitOfWork, caller: Caller, agreement_id: uuid.UUID
) -> list[InteractionRecord]:
    """Return the interactions this business logged itself (never another's: invariant 6)."""
    agreement = _authorise(
        uow,
        caller,
        agreement_id,
        "interaction.read",
        {INTERACTIONS: {AccessMode.READ.value, AccessMode.APPEND.value}},
    )
    assert agreement.customer_id is not None
    records = list_interactions(
        uow, agreement.customer_id, logged_by=business_author(caller.business_id)
    )
    _allowed(uow, caller, agreement, "interaction.read", [INTERACTIONS])
    uow.commit()
    return records


def business_author(business_id: uuid.UUID) -> str:
    """Return how the vault names a business as the author of an interaction."""
    return f"business:{business_id}"
