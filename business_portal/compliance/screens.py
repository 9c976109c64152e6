"""What the console's pages show, gathered from the services in one read-only unit of work."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from wtforms import SelectChoice

from broker.businesses.models import Business
from broker.pairwise import derive_subject
from business_portal.compliance.models import ReviewEvent
from business_portal.compliance.services.diff import Version
from business_portal.compliance.services.dossier import (
    ACCESS_PAGE,
    AccessRow,
    actor_names,
    agreement_access,
    agreement_chain,
    agreement_receipts,
    chain_versions,
    lifecycle_events,
)
from business_portal.compliance.services.flags import Flag, agreement_flags
from business_portal.compliance.services.reviews import (
    business_templates,
    review_history,
    review_state,
    template_names,
)
from business_portal.compliance.words import field_words, group_words
from schemas.agreements import INTERACTIONS, AgreementTerms
from schemas.field_catalogue import FIELD_CATALOGUE
from vault.agreements.models import Agreement, AgreementEvent
from vault.agreements.status import current_status
from vault.receipts.models import ConsentReceipt
from vault.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class AgreementScreen:
    """Everything the agreement page shows."""

    agreement: Agreement
    terms: AgreementTerms
    status: str
    subject: str | None
    chain: list[Agreement]
    versions: list[Version]
    events: list[AgreementEvent]
    receipts: list[ConsentReceipt]
    access: list[AccessRow]
    older_before: int | None
    flags: list[Flag]
    names: dict[str, str]
    reviews: list[ReviewEvent]
    review_state: str
    templates: list[tuple[str, str]]
    template_names: dict[uuid.UUID, str]


def agreement_screen(
    uow: UnitOfWork, agreement: Agreement, before_seq: int | None
) -> AgreementScreen:
    """Gather the agreement's page: terms, versions, events, receipts, reads, flags, review."""
    chain = agreement_chain(uow, agreement)
    access = agreement_access(uow, agreement, before_seq)
    flags = agreement_flags(uow, agreement)
    actors = {row.actor for row in access} | {f.actor for f in flags if f.actor}
    subject = None
    if agreement.customer_id is not None:
        subject = derive_subject(uow, agreement.business_id, agreement.customer_id)
    return AgreementScreen(
        agreement=agreement,
        terms=AgreementTerms.model_validate(agreement.terms),
        status=current_status(agreement, uow.now()).value,
        subject=subject,
        chain=chain,
        versions=chain_versions(uow, chain),
        events=lifecycle_events(uow, agreement.id),
        receipts=agreement_receipts(uow, agreement.id),
        access=access,
        older_before=access[-1].seq if len(access) == ACCESS_PAGE else None,
        flags=flags,
        names=actor_names(uow, agreement.business_id, actors),
        reviews=review_history(uow, agreement),
        review_state=review_state(uow, agreement),
        templates=[(str(i), n) for i, n in business_templates(uow, agreement.business_id)],
        template_names=template_names(uow, agreement.business_id),
    )


def field_choices() -> list[SelectChoice]:
    """Return every catalogue field (and interactions) under its group, for a filter."""
    choices = [
        SelectChoice(key, field_words(key), optgroup=group_words(spec.group.value))
        for key, spec in FIELD_CATALOGUE.items()
    ]
    choices.append(
        SelectChoice(INTERACTIONS, field_words(INTERACTIONS), optgroup=group_words("interactions"))
    )
    return choices


def business_choices(uow: UnitOfWork) -> list[tuple[str, str]]:
    """Return every business by name (the auditor's filter)."""
    rows = uow.session.execute(
        select(Business.id, Business.legal_name).order_by(Business.legal_name, Business.id)
    )
    return [(str(business_id), name) for business_id, name in rows]


def registry_csv_header() -> list[str]:
    """Return the column names of the registry's CSV export (stable, for spreadsheets)."""
    return [
        "agreement_id",
        "customer_pseudonym",
        "business",
        "purpose",
        "fields_granted",
        "fields_requested",
        "status",
        "version",
        "granted_at",
        "valid_until",
        "retention",
        "last_access",
        "review_state",
    ]


def iso(value: Any) -> str:
    """Return a time as ISO 8601, or nothing."""
    return value.isoformat() if value is not None else ""
