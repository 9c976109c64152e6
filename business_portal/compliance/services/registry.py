"""The agreement registry: every agreement in the officer's scope, filtered and paged.

A read model shaped for the screen: one query over agreements with their review state and
pseudonymous customer id, then one grouped query for the last access of the page's rows.
Customers appear only by the business's pairwise id (DESIGN invariant 7), never by a value.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, Text, and_, cast, func, or_, select, tuple_

from broker.businesses.models import PairwiseSubject
from broker.pairwise import derive_subject
from business_portal.compliance.models import AgreementReview
from schemas.agreements import AgreementStatus, AgreementTerms
from vault.access_log.models import AccessEvent
from vault.agreements.models import Agreement
from vault.agreements.status import current_status
from vault.unit_of_work import UnitOfWork

PAGE_SIZE = 50
EXPORT_BATCH = 500


class ReviewState(StrEnum):
    """Where the review of an agreement stands."""

    NOT_REVIEWED = "not_reviewed"
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    SIGNED_OFF = "signed_off"


@dataclass(frozen=True)
class RegistryFilter:
    """What the officer narrowed the registry to; None means "any"."""

    status: str | None = None
    purpose: str | None = None
    field: str | None = None
    business_id: uuid.UUID | None = None  # honoured for auditors only
    granted_from: date | None = None
    granted_to: date | None = None
    review: str | None = None


@dataclass(frozen=True)
class RegistryRow:
    """One agreement as the registry lists it."""

    agreement_id: uuid.UUID
    business_id: uuid.UUID
    business_name: str
    subject: str | None  # None while a request waits for its customer
    purpose: str
    requested: dict[str, str]
    granted: dict[str, str]
    status: str
    restricted: bool
    version: int
    granted_at: datetime | None
    valid_until: datetime | None
    retention: str
    last_access: datetime | None
    review: str


@dataclass(frozen=True)
class RegistryPage:
    """One page of the registry and where it sits among the others."""

    rows: list[RegistryRow]
    total: int
    page: int
    pages: int


def day_start(day: date) -> datetime:
    """Return the first moment of a UTC calendar day."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def status_condition(status: str, now: datetime) -> Any:
    """Return the SQL condition of agreements whose status at `now` is `status`."""
    lapsed = and_(
        Agreement.status == AgreementStatus.ACTIVE.value,
        Agreement.valid_until.is_not(None),
        Agreement.valid_until <= now,
    )
    if status == AgreementStatus.ACTIVE.value:
        return and_(Agreement.status == status, ~lapsed)
    if status == AgreementStatus.EXPIRED.value:
        return or_(Agreement.status == status, lapsed)
    return Agreement.status == status


def registry_query(
    scope: uuid.UUID | None, filters: RegistryFilter, now: datetime
) -> Select[tuple[Agreement, str | None]]:
    """Return the query of agreements in scope that pass the filters, newest first."""
    query = select(Agreement, AgreementReview.state).outerjoin(
        AgreementReview, AgreementReview.agreement_id == Agreement.id
    )
    if scope is not None:
        query = query.where(Agreement.business_id == scope)
    elif filters.business_id is not None:
        query = query.where(Agreement.business_id == filters.business_id)
    if filters.status:
        query = query.where(status_condition(filters.status, now))
    if filters.purpose:
        query = query.where(Agreement.terms["purpose"].as_string() == filters.purpose)
    if filters.field:
        # Field keys sit in the terms' JSON text in quotes, on SQLite and PostgreSQL alike;
        # a quote inside free text is escaped there, so it cannot fake a key.
        pattern = f'"{filters.field}"'
        query = query.where(cast(Agreement.terms, Text).contains(pattern, autoescape=True))
    if filters.granted_from:
        query = query.where(Agreement.valid_from >= day_start(filters.granted_from))
    if filters.granted_to:
        end = day_start(filters.granted_to) + timedelta(days=1)
        query = query.where(Agreement.valid_from < end)
    if filters.review == ReviewState.NOT_REVIEWED:
        query = query.where(AgreementReview.state.is_(None))
    elif filters.review:
        query = query.where(AgreementReview.state == filters.review)
    return query.order_by(Agreement.created_at.desc(), Agreement.id)


def last_accesses(uow: UnitOfWork, agreement_ids: list[uuid.UUID]) -> dict[uuid.UUID, datetime]:
    """Return when each agreement was last used by its business (allowed accesses only)."""
    if not agreement_ids:
        return {}
    rows = uow.session.execute(
        select(AccessEvent.agreement_id, func.max(AccessEvent.at))
        .where(AccessEvent.agreement_id.in_(agreement_ids), AccessEvent.outcome == "allowed")
        .group_by(AccessEvent.agreement_id)
    )
    return {agreement_id: at for agreement_id, at in rows if agreement_id is not None}


def pseudonyms(uow: UnitOfWork, agreements: list[Agreement]) -> dict[uuid.UUID, str]:
    """Return each agreement's customer as that business's pairwise id (no writes)."""
    pairs = sorted({(a.business_id, a.customer_id) for a in agreements if a.customer_id})
    known: dict[tuple[uuid.UUID, uuid.UUID], str] = {}
    if pairs:
        business, customer = PairwiseSubject.business_id, PairwiseSubject.customer_id
        rows = uow.session.execute(
            select(business, customer, PairwiseSubject.subject).where(
                tuple_(business, customer).in_(pairs)
            )
        )
        known = {(b, c): subject for b, c, subject in rows}
    subjects = {}
    for a in agreements:
        if a.customer_id is None:
            continue
        # Not recorded yet (the business never used it): derived the same keyed way, without
        # recording a new pairing from a page that only reads.
        subjects[a.id] = known.get((a.business_id, a.customer_id)) or derive_subject(
            uow, a.business_id, a.customer_id
        )
    return subjects


def _rows(
    uow: UnitOfWork, found: list[tuple[Agreement, str | None]], now: datetime
) -> list[RegistryRow]:
    agreements = [agreement for agreement, _ in found]
    ids = [a.id for a in agreements]
    accessed = last_accesses(uow, ids)
    subjects = pseudonyms(uow, agreements)
    rows = []
    for agreement, review in found:
        terms = AgreementTerms.model_validate(agreement.terms)
        rows.append(
            RegistryRow(
                agreement_id=agreement.id,
                business_id=agreement.business_id,
                business_name=str(agreement.business.get("legal_name", "")),
                subject=subjects.get(agreement.id),
                purpose=terms.purpose.value,
                requested={k: m.value for k, m in terms.field_modes().items()},
                granted=dict(agreement.granted_fields),
                status=current_status(agreement, now).value,
                restricted=agreement.restricted,
                version=agreement.version,
                granted_at=agreement.valid_from,
                valid_until=agreement.valid_until,
                retention=str(terms.retention),
                last_access=accessed.get(agreement.id),
                review=review or ReviewState.NOT_REVIEWED.value,
            )
        )
    return rows


def registry_page(
    uow: UnitOfWork, scope: uuid.UUID | None, filters: RegistryFilter, page: int = 1
) -> RegistryPage:
    """Return one page of the registry (pages count from 1; past the end gives the last)."""
    now = uow.now()
    query = registry_query(scope, filters, now)
    total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    found = uow.session.execute(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return RegistryPage(_rows(uow, [tuple(r) for r in found], now), total, page, pages)


def registry_rows(
    uow: UnitOfWork, scope: uuid.UUID | None, filters: RegistryFilter
) -> Iterator[RegistryRow]:
    """Yield every row of the filtered registry, a batch at a time (for the CSV export)."""
    now = uow.now()
    query = registry_query(scope, filters, now).execution_options(yield_per=EXPORT_BATCH)
    for batch in uow.session.execute(query).partitions():
        yield from _rows(uow, [tuple(r) for r in batch], now)
