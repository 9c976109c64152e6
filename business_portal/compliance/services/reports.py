"""The figures of the console's two reports, computed from agreements and the access log.

- Records of processing (GDPR Art. 30(1)): per controller and purpose, the purposes' words,
  legal bases, categories of data (the catalogue's field groups), recipients (the business
  and the third parties its terms name), transfers abroad, retention and safeguards.
- Access report: reads in a period per purpose, per field and per client, and refusals.

Both call `progress(done, total)` as they go, so a page can show how far they are.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Text, cast, func, select

from broker.businesses.models import Business, OAuthClient, StaffUser
from business_portal.compliance.services.registry import day_start
from schemas.agreements import INTERACTIONS, AgreementStatus, AgreementTerms
from schemas.durations import CalendarDuration
from schemas.field_catalogue import FIELD_CATALOGUE
from vault.access_log.models import AccessEvent
from vault.agreements.models import Agreement
from vault.agreements.status import current_status
from vault.unit_of_work import UnitOfWork

Progress = Callable[[int, int], None]
BATCH = 500
MAX_PERIOD_DAYS = 366
READ_KINDS = ("profile.read", "interaction.read")
GATE_KINDS = ("profile.read", "profile.write", "interaction.read", "interaction.append")
# What protects every record Emanet keeps for a business (DESIGN invariants 1-8).
SAFEGUARDS = (
    "encryption_at_rest",
    "envelope_keys",
    "pseudonymous_ids",
    "one_gate",
    "access_log",
    "signed_receipts",
    "revocation",
    "erasure",
)
INTERACTIONS_GROUP = "interactions"
# Agreements that never shared anything have no processing to record.
NEVER_SHARED = (AgreementStatus.REQUESTED.value, AgreementStatus.DECLINED.value)


class PeriodError(ValueError):
    """A report period is out of range; `field` says which end, the message says why."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


def check_period(start: date, end: date, today: date) -> None:
    """Raise PeriodError unless start <= end <= today and the period is at most a year."""
    if end > today:
        raise PeriodError("period_to", "The period cannot end in the future.")
    if start > end:
        raise PeriodError("period_from", "The start must be on or before the end.")
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise PeriodError("period_from", f"A period is at most {MAX_PERIOD_DAYS} days long.")


def _no_progress(done: int, total: int) -> None:
    """Report nothing."""


@dataclass
class PurposeRecord:
    """One purpose of one controller, as Art. 30(1)(b)-(f) asks."""

    purpose: str
    descriptions: set[str] = field(default_factory=set)
    legal_bases: set[str] = field(default_factory=set)
    data_groups: set[str] = field(default_factory=set)
    fields: set[str] = field(default_factory=set)
    third_parties: set[tuple[str, str, str]] = field(default_factory=set)  # name, country, role
    retention: set[str] = field(default_factory=set)
    agreements: int = 0
    active: int = 0


@dataclass
class ControllerRecord:
    """A business as controller (Art. 30(1)(a)) and its purposes."""

    business_id: uuid.UUID
    name: str
    country: str
    privacy_email: str
    privacy_address: str
    policy_url: str
    purposes: dict[str, PurposeRecord] = field(default_factory=dict)

    def transfers(self) -> list[tuple[str, str]]:
        """Return third parties outside the controller's country (Art. 30(1)(e))."""
        found = {
            (name, country)
            for record in self.purposes.values()
            for name, country, _ in record.third_parties
            if country.upper() != self.country.upper()
        }
        return sorted(found)


@dataclass(frozen=True)
class ProcessingReport:
    """The records of processing of every controller in scope."""

    generated_at: datetime
    controllers: list[ControllerRecord]
    safeguards: tuple[str, ...] = SAFEGUARDS


def _in_processing(agreement: Agreement, terms: AgreementTerms, now: datetime) -> bool:
    """Whether data shared under the agreement may still be held: active, or in retention."""
    if agreement.status in NEVER_SHARED:
        return False
    if current_status(agreement, now) is AgreementStatus.ACTIVE:
        return True
    ended = agreement.ended_at or agreement.valid_until or agreement.updated_at
    kept_until = CalendarDuration.parse(str(terms.retention)).after(ended)
    return kept_until > now


def _group(key: str) -> str:
    spec = FIELD_CATALOGUE.get(key)
    return spec.group.value if spec is not None else INTERACTIONS_GROUP


def _controllers(uow: UnitOfWork, scope: uuid.UUID | None) -> dict[uuid.UUID, ControllerRecord]:
    query = select(Business).order_by(Business.legal_name, Business.id)
    if scope is not None:
        query = query.where(Business.id == scope)
    return {
        b.id: ControllerRecord(
            b.id, b.legal_name, b.country, b.privacy_email, b.privacy_address, b.policy_url
        )
        for b in uow.session.scalars(query)
    }


def processing_records(
    uow: UnitOfWork, scope: uuid.UUID | None, progress: Progress = _no_progress
) -> ProcessingReport:
    """Return the records of processing (GDPR Art. 30(1)) built from the agreements."""
    now = uow.now()
    controllers = _controllers(uow, scope)
    query = select(Agreement).where(Agreement.status.not_in(NEVER_SHARED))
    if scope is not None:
        query = query.where(Agreement.business_id == scope)
    total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    done = 0
    progress(done, total)
    ordered = query.order_by(Agreement.id).execution_options(yield_per=BATCH)
    for batch in uow.session.scalars(ordered).partitions():
        for agreement in batch:
            terms = AgreementTerms.model_validate(agreement.terms)
            controller = controllers.get(agreement.business_id)
            if controller is None or not _in_processing(agreement, terms, now):
                continue
            record = controller.purposes.setdefault(
                terms.purpose.value, PurposeRecord(terms.purpose.value)
            )
            record.descriptions.add(terms.purpose_description)
            record.legal_bases.add(terms.legal_basis.value)
            record.fields.update(agreement.granted_fields)
            record.data_groups.update(_group(k) for k in agreement.granted_fields)
            record.third_parties.update((p.name, p.country, p.role) for p in terms.third_parties)
            record.retention.add(str(terms.retention))
            record.agreements += 1
            record.active += current_status(agreement, now) is AgreementStatus.ACTIVE
        done += len(batch)
        progress(done, total)
    return ProcessingReport(now, list(controllers.values()))


@dataclass
class AccessReport:
    """Accesses in a period: reads per purpose, field and client, and what was refused."""

    period_from: date
    period_to: date
    generated_at: datetime
    businesses: dict[uuid.UUID, str]
    reads: int = 0
    by_purpose: Counter[str] = field(default_factory=Counter)
    by_field: Counter[str] = field(default_factory=Counter)
    by_client: Counter[tuple[uuid.UUID, str]] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    client_names: dict[str, str] = field(default_factory=dict)


def _months(start: date, end: date) -> list[tuple[date, date]]:
    """Split [start, end] into calendar-month pieces (the report's steps)."""
    pieces, first = [], start
    while first <= end:
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        last = min(end, following - timedelta(days=1))
        pieces.append((first, last))
        first = following
    return pieces


def access_report(
    uow: UnitOfWork,
    scope: uuid.UUID | None,
    period_from: date,
    period_to: date,
    progress: Progress = _no_progress,
) -> AccessReport:
    """Return the accesses of the period (UTC days, both ends included), month by month."""
    check_period(period_from, period_to, uow.now().date())
    names = {c.business_id: c.name for c in _controllers(uow, scope).values()}
    report = AccessReport(period_from, period_to, uow.now(), names)
    pieces = _months(period_from, period_to)
    progress(0, len(pieces))
    fields_text = cast(AccessEvent.fields, Text)
    columns = (
        AccessEvent.business_id,
        AccessEvent.kind,
        AccessEvent.outcome,
        AccessEvent.actor,
        AccessEvent.purpose,
        fields_text,
    )
    for done, (first, last) in enumerate(pieces, start=1):
        query = (
            select(*columns, func.count())
            .where(
                AccessEvent.kind.in_(GATE_KINDS),
                AccessEvent.business_id.is_not(None),
                AccessEvent.at >= day_start(first),
                AccessEvent.at < day_start(last) + timedelta(days=1),
            )
            .group_by(*columns)
        )
        if scope is not None:
            query = query.where(AccessEvent.business_id == scope)
        for business_id, kind, outcome, actor, purpose, fields, count in uow.session.execute(query):
            _add(report, business_id, kind, outcome, actor, purpose, fields, int(count))
        progress(done, len(pieces))
    report.client_names = _client_names(uow, {actor for _, actor in report.by_client})
    return report


def _add(
    report: AccessReport,
    business_id: uuid.UUID,
    kind: str,
    outcome: str,
    actor: str,
    purpose: str | None,
    fields: str | None,
    count: int,
) -> None:
    if outcome != "allowed":
        report.refused[outcome.removeprefix("denied:")] += count
        return
    report.by_kind[kind] += count
    if kind not in READ_KINDS:
        return
    report.reads += count
    report.by_purpose[purpose or ""] += count
    report.by_client[(business_id, actor)] += count
    for key in json.loads(fields) if fields else []:
        report.by_field[key] += count


def _client_names(uow: UnitOfWork, actors: set[str]) -> dict[str, str]:
    """Return the names of the clients and staff members the log names (any business)."""
    clients = [a.partition(":")[2] for a in actors if a.startswith("client:")]
    staff = []
    for actor in actors:
        if actor.startswith("staff:"):
            try:
                staff.append(uuid.UUID(actor.partition(":")[2]))
            except ValueError:
                continue
    names: dict[str, str] = {}
    if clients:
        rows = uow.session.execute(
            select(OAuthClient.client_id, OAuthClient.name).where(
                OAuthClient.client_id.in_(clients)
            )
        )
        names.update((f"client:{client_id}", name) for client_id, name in rows)
    if staff:
        rows = uow.session.execute(
            select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(staff))
        )
        names.update((f"staff:{staff_id}", name) for staff_id, name in rows)
    return names


def field_order(keys: set[str] | list[str]) -> list[str]:
    """Return field keys in catalogue order, interactions last, unknown keys after."""
    order = {key: n for n, key in enumerate([*FIELD_CATALOGUE, INTERACTIONS])}
    return sorted(keys, key=lambda k: (order.get(k, len(order)), k))
