"""THE GATE: every read or write of vault data on behalf of a business passes here.

One policy decides (DESIGN invariant 4): the agreement belongs to the caller's business, is
active and inside its validity, is not restricted, and grants each field in the mode asked.
The decision, allowed or denied, is appended to the access log in the same transaction as
the read or write. Each function is a use case: it commits. `read_profiles` is the bulk
form of `read_profile`: many agreements, each decided alone, in one transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select

from broker.pairwise import subject_for, subjects_for
from schemas.agreements import INTERACTIONS, AccessMode, AgreementStatus
from schemas.interactions import InteractionEntry
from vault.access_log.services import ALLOWED, LogEntry, append_event
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


@dataclass(frozen=True, slots=True)
class AgreementState:
    """An agreement as the policy sees it, read under the shared hold, never changed here."""

    id: uuid.UUID
    business_id: uuid.UUID
    customer_id: uuid.UUID | None
    status: str
    restricted: bool
    valid_until: datetime | None
    granted_fields: dict[str, str]
    purpose: str | None


_AGREEMENT = Agreement.__table__.c
# Plain columns, built once: the identity map and change tracking would only cost time here.
_STATE = select(
    _AGREEMENT.id,
    _AGREEMENT.business_id,
    _AGREEMENT.customer_id,
    _AGREEMENT.status,
    _AGREEMENT.restricted,
    _AGREEMENT.valid_until,
    _AGREEMENT.granted_fields,
    _AGREEMENT.terms["purpose"].as_string(),
)
_ONE_STATE = _STATE.where(_AGREEMENT.id == bindparam("agreement_id"))
_MANY_STATES = _STATE.where(_AGREEMENT.id.in_(bindparam("agreement_ids", expanding=True)))


def _refusal(
    caller: Caller, state: AgreementState | None, wanted: Mapping[str, set[str]], now: datetime
) -> tuple[str, str] | None:
    """THE POLICY: return why the agreement does not allow this (reason, words), or None."""
    if state is None or state.business_id != caller.business_id:
        return "no_agreement", "There is no such agreement for this business."
    status = current_status(state, now)
    if status is not AgreementStatus.ACTIVE:
        return status.value, f"The agreement is {status.value}."
    if state.restricted:
        return "restricted", "The customer has paused this agreement."
    missing = sorted(k for k, modes in wanted.items() if state.granted_fields.get(k) not in modes)
    if missing:
        return "not_granted", "The agreement does not grant: " + ", ".join(missing) + "."
    return None


def _entry(
    caller: Caller,
    agreement_id: uuid.UUID,
    state: AgreementState | None,
    kind: str,
    fields: Iterable[str],
    outcome: str = ALLOWED,
) -> LogEntry:
    # A refused stranger's entry names no customer: it must not tie them to the business.
    own = state if state is not None and state.business_id == caller.business_id else None
    return LogEntry(
        kind=kind,
        actor=caller.actor,
        outcome=outcome,
        customer_id=own.customer_id if own else None,
        business_id=caller.business_id,
        agreement_id=agreement_id,
        purpose=own.purpose if own else None,
        fields=sorted(fields),
    )


def _noticed_expiry(state: AgreementState | None, reason: str) -> bool:
    # Past its term but still written down as active: the first reader to see it says so.
    return state is not None and reason == "expired" and state.status == AgreementStatus.ACTIVE


def _authorise(
    uow: UnitOfWork,
    caller: Caller,
    agreement_id: uuid.UUID,
    kind: str,
    wanted: Mapping[str, set[str]],
) -> AgreementState:
    # A shared hold on the agreement, taken before it is read: a change of state waits for
    # the reads in flight, and reads that start after it was asked for wait for it, then see
    # it (vault.agreements.locks).
    share_agreement(uow, agreement_id)
    row = uow.session.execute(_ONE_STATE, {"agreement_id": agreement_id}).first()
    state = None if row is None else AgreementState(*row)
    refusal = _refusal(caller, state, wanted, uow.now())
    if refusal is None:
        assert state is not None
        return state
    reason, message = refusal
    append_event(uow, _entry(caller, agreement_id, state, kind, wanted, f"denied:{reason}"))
    uow.commit()
    if _noticed_expiry(state, reason):
        _write_down_expiry(uow, agreement_id)
    raise AccessDenied(reason, message)


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
    uow: UnitOfWork, caller: Caller, state: AgreementState, kind: str, fields: Iterable[str]
) -> None:
    append_event(uow, _entry(caller, state.id, state, kind, fields))


def _readable(state: AgreementState) -> list[str]:
    return [k for k, m in state.granted_fields.items() if m in READABLE and k != INTERACTIONS]


def read_profile(
    uow: UnitOfWork,
    caller: Caller,
    agreement_id: uuid.UUID,
    fields: Iterable[str] | None = None,
    *,
    subject: str | None = None,
) -> GrantedProfile:
    """Return the granted fields (all readable ones, or those named) of the agreement's customer.

    `subject` is the caller's identifier for that customer when it has just looked it up.
    """
    if fields is None:
        state = _authorise(uow, caller, agreement_id, "profile.read", {})
        names = _readable(state)
    else:
        names = sorted(set(fields))
        # Interactions are not a profile field: asking for them here asks for too much.
        wanted = {k: (READABLE if k != INTERACTIONS else set()) for k in names}
        state = _authorise(uow, caller, agreement_id, "profile.read", wanted)
    assert state.customer_id is not None  # an active agreement has its customer
    values = read_fields(uow, state.customer_id, names)
    _allowed(uow, caller, state, "profile.read", names)
    if subject is None:
        subject = subject_for(uow, caller.business_id, state.customer_id)
    uow.commit()
    return GrantedProfile(subject, state.id, str(state.purpose), values)


def read_profiles(
    uow: UnitOfWork, caller: Caller, agreement_ids: Iterable[uuid.UUID]
) -> list[GrantedProfile]:
    """Return the readable granted fields under many agreements, in one transaction.

    Each agreement is held shared, then decided by the same policy as `read_profile`; one
    that does not allow the read is left out and logged as denied. One commit for the lot.
    """
    ids = list(dict.fromkeys(agreement_ids))
    if not ids:
        return []
    for agreement_id in sorted(ids):  # one order for every reader
        share_agreement(uow, agreement_id)
    states = {
        row.id: AgreementState(*row)
        for row in uow.session.execute(_MANY_STATES, {"agreement_ids": ids})
    }
    now = uow.now()
    allowed: list[AgreementState] = []
    noticed: list[uuid.UUID] = []
    for agreement_id in ids:
        state = states.get(agreement_id)
        refusal = _refusal(caller, state, {}, now)
        if refusal is None:
            allowed.append(states[agreement_id])
            continue
        denied = f"denied:{refusal[0]}"
        append_event(uow, _entry(caller, agreement_id, state, "profile.read", [], denied))
        if _noticed_expiry(state, refusal[0]):
            noticed.append(agreement_id)
    customers = {s.id: s.customer_id for s in allowed if s.customer_id is not None}
    subjects = subjects_for(uow, caller.business_id, customers.values())
    profiles = []
    for state in allowed:
        customer_id = customers[state.id]  # an active agreement has its customer
        names = _readable(state)
        values = read_fields(uow, customer_id, names)
        _allowed(uow, caller, state, "profile.read", names)
        purpose = str(state.purpose)
        profiles.append(GrantedProfile(subjects[customer_id], state.id, purpose, values))
    uow.commit()
    for agreement_id in noticed:
        _write_down_expiry(uow, agreement_id)
    return profiles


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
