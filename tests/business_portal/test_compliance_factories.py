"""Builders of compliance data sets: agreements with chosen terms at chosen times, and log
entries at chosen times. No tests here; the compliance test modules import these."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from broker.businesses.services import business_snapshot
from broker.pairwise import subject_for
from business_portal.compliance.services.auditors import auditor_in, create_auditor
from schemas.agreements import AccessMode, AgreementTerms
from tests.business_portal.conftest import Clock
from tests.conftest import TEST_PASSWORD, make_customer
from vault.access_log.services import LogEntry, append_event
from vault.agreements.models import Agreement
from vault.agreements.services import (
    Context,
    decide_request,
    request_agreement,
    revoke_agreement,
)
from vault.unit_of_work import Vault

GOOD_DESCRIPTION = "Call you when a piece you collect comes in"
CUSTOMER = Context(actor="customer", ip="203.0.113.7", user_agent="pytest")


def terms(
    fields: Mapping[str, str],
    *,
    purpose: str = "CustomerCare",
    description: str = GOOD_DESCRIPTION,
    duration: str = "P1Y",
    retention: str = "P30D",
    third_parties: Iterable[Mapping[str, str]] = (),
) -> AgreementTerms:
    """Return agreement terms with every part chosen."""
    return AgreementTerms.model_validate(
        {
            "purpose": purpose,
            "purpose_description": description,
            "fields": [{"key": k, "mode": m} for k, m in fields.items()],
            "duration": duration,
            "retention": retention,
            "third_parties": list(third_parties),
        }
    )


def at(clock: Clock, moment: datetime) -> None:
    """Move the hand clock to a moment."""
    clock.now = moment


def agreement(
    vault: Vault,
    business_id: uuid.UUID,
    asked: AgreementTerms,
    *,
    granted: Mapping[str, str] | None = None,
    customer_id: uuid.UUID | None = None,
    profile: Mapping[str, object] | None = None,
    supersedes: uuid.UUID | None = None,
    client_id: str | None = None,
) -> uuid.UUID:
    """Request terms for a (new) customer and let them grant all, some, or none ({})."""
    if customer_id is None:
        customer_id = make_customer(vault, profile=dict(profile or {}))
    with vault.unit_of_work() as uow:
        previous = None
        if supersedes is not None:
            previous = uow.session.get(Agreement, supersedes)
        made = request_agreement(
            uow,
            business=business_snapshot(uow, business_id),
            terms=asked,
            context=Context(actor=f"business:{business_id}"),
            client_id=client_id,
            customer_id=customer_id,
            supersedes=previous,
        )
        uow.commit()
        agreement_id = made.id
    chosen = {f.key: f.mode.value for f in asked.fields} if granted is None else granted
    with vault.unit_of_work() as uow:
        decide_request(
            uow, agreement_id, customer_id, {k: AccessMode(m) for k, m in chosen.items()}, CUSTOMER
        )
    return agreement_id


def customer_of(vault: Vault, agreement_id: uuid.UUID) -> uuid.UUID:
    """Return the customer of an agreement."""
    with vault.unit_of_work(write=False) as uow:
        found = uow.session.get(Agreement, agreement_id)
        assert found is not None and found.customer_id is not None
        return found.customer_id


def pseudonym(vault: Vault, business_id: uuid.UUID, customer_id: uuid.UUID) -> str:
    """Return the customer's pairwise id at the business."""
    with vault.unit_of_work() as uow:
        subject = subject_for(uow, business_id, customer_id)
        uow.commit()
        return subject


def revoke(vault: Vault, agreement_id: uuid.UUID) -> None:
    """Let the customer revoke the agreement now."""
    with vault.unit_of_work() as uow:
        revoke_agreement(uow, agreement_id, customer_of(vault, agreement_id), CUSTOMER)


def log(
    vault: Vault,
    clock: Clock,
    moment: datetime,
    business_id: uuid.UUID,
    agreement_id: uuid.UUID | None,
    actor: str,
    fields: Iterable[str],
    *,
    times: int = 1,
    kind: str = "profile.read",
    outcome: str = "allowed",
    purpose: str | None = "CustomerCare",
) -> None:
    """Append `times` access log entries at one moment, as the gate would write them."""
    saved = clock.now
    clock.now = moment
    with vault.unit_of_work() as uow:
        for _ in range(times):
            append_event(
                uow,
                LogEntry(
                    kind=kind,
                    actor=actor,
                    outcome=outcome,
                    business_id=business_id,
                    agreement_id=agreement_id,
                    purpose=purpose,
                    fields=list(fields),
                ),
            )
        uow.commit()
    clock.now = saved


def auditor(vault: Vault, email: str = "auditor@emanet.example") -> uuid.UUID:
    """Create an auditor with the test password."""
    with vault.unit_of_work() as uow:
        return create_auditor(uow, auditor_in(email, "Aysel Auditor"), TEST_PASSWORD)


def day(year: int, month: int, number: int, hour: int = 12) -> datetime:
    """Return a UTC moment on a day."""
    return datetime(year, month, number, hour, tzinfo=UTC)
