"""What the segment pages show: counts, members and the CSV export, and filters for others.

Read at every page load, each limited to customers whose agreement is active now
(`records.connections`), so a customer who revoked is gone before the next recompute.
The export reads the members' granted fields through the gate, which logs each read.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from pydantic import JsonValue
from sqlalchemy import Select, and_, func, select

from broker.businesses.models import PairwiseSubject
from broker.gate import Caller, read_profiles
from business_portal.records.connections import agreement_is_active, connected_subjects
from business_portal.segments.models import RfmScore
from business_portal.segments.rfm import SEGMENT_CODES
from schemas.field_catalogue import FIELD_CATALOGUE
from schemas.spreadsheet_cells import csv_cell
from vault.agreements.models import Agreement
from vault.unit_of_work import UnitOfWork

MEMBERS_PER_PAGE = 50
_FIELD_ORDER = {key: position for position, key in enumerate(FIELD_CATALOGUE)}


class UnknownSegmentError(LookupError):
    """No segment has this code."""


def _check_code(code: str) -> None:
    if code not in SEGMENT_CODES:
        raise UnknownSegmentError(code)


@dataclass(frozen=True)
class SegmentSummary:
    """How many visible customers each segment holds, and when the scores were computed."""

    counts: dict[str, int]
    computed_at: datetime | None
    currency: str | None

    @property
    def total(self) -> int:
        """Return how many visible customers have a score."""
        return sum(self.counts.values())


def _visible_scores(uow: UnitOfWork, business_id: uuid.UUID) -> Select[tuple[RfmScore]]:
    # Checked at every load, not at recompute: a revocation hides a customer at once.
    return select(RfmScore).where(
        RfmScore.business_id == business_id,
        RfmScore.subject.in_(connected_subjects(business_id, uow.now())),
    )


def segment_summary(uow: UnitOfWork, business_id: uuid.UUID) -> SegmentSummary:
    """Return every segment's count of customers connected now (zero included)."""
    visible = _visible_scores(uow, business_id).subquery()
    grouped = select(visible.c.segment, func.count()).group_by(visible.c.segment)
    found = {segment: count for segment, count in uow.session.execute(grouped)}
    computed_at, currency = uow.session.execute(
        select(func.max(RfmScore.computed_at), func.min(RfmScore.currency)).where(
            RfmScore.business_id == business_id
        )
    ).one()
    counts = {code: int(found.get(code, 0)) for code in SEGMENT_CODES}
    return SegmentSummary(counts, computed_at, currency)


@dataclass(frozen=True)
class Member:
    """One customer of a segment as the member list shows them."""

    subject: str
    recency: int
    frequency: int
    monetary: int
    last_purchase_at: datetime
    purchases: int
    spent: Decimal
    currency: str


@dataclass(frozen=True)
class MemberPage:
    """One page of a segment's members, best first."""

    members: list[Member]
    total: int
    page: int
    pages: int


def segment_members(
    uow: UnitOfWork, business_id: uuid.UUID, code: str, page: int = 1
) -> MemberPage:
    """Return a page of the segment's customers connected now; raise for an unknown code."""
    _check_code(code)
    query = _visible_scores(uow, business_id).where(RfmScore.segment == code)
    total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // MEMBERS_PER_PAGE))
    page = min(max(page, 1), pages)
    rows = uow.session.scalars(
        query.order_by(
            RfmScore.recency.desc(),
            RfmScore.frequency.desc(),
            RfmScore.monetary.desc(),
            RfmScore.spent.desc(),
            RfmScore.subject,
        )
        .offset((page - 1) * MEMBERS_PER_PAGE)
        .limit(MEMBERS_PER_PAGE)
    )
    members = [
        Member(
            r.subject,
            r.recency,
            r.frequency,
            r.monetary,
            r.last_purchase_at,
            r.purchases,
            r.spent,
            r.currency,
        )
        for r in rows
    ]
    return MemberPage(members, total, page, pages)


@dataclass(frozen=True)
class SegmentExport:
    """A segment's members and the fields they granted, as read through the gate."""

    field_keys: list[str]
    rows: list[tuple[str, dict[str, JsonValue]]]

    def csv(self) -> str:
        """Return the export as CSV: a header row, one row per customer, no formulas."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["customer", *self.field_keys])
        for subject, values in self.rows:
            writer.writerow(
                [csv_cell(subject), *(csv_cell(values.get(k)) for k in self.field_keys)]
            )
        return "\ufeff" + buffer.getvalue()


def segment_export(
    uow: UnitOfWork, caller: Caller, business_id: uuid.UUID, code: str
) -> SegmentExport:
    """Read the granted fields of the segment's connected customers through the gate."""
    _check_code(code)
    pairs = uow.session.execute(
        select(RfmScore.subject, Agreement.id)
        .join(
            PairwiseSubject,
            and_(
                PairwiseSubject.business_id == RfmScore.business_id,
                PairwiseSubject.subject == RfmScore.subject,
            ),
        )
        .join(
            Agreement,
            and_(
                Agreement.customer_id == PairwiseSubject.customer_id,
                Agreement.business_id == PairwiseSubject.business_id,
            ),
        )
        .where(
            RfmScore.business_id == business_id,
            RfmScore.segment == code,
            agreement_is_active(business_id, uow.now()),
        )
        .order_by(RfmScore.subject, Agreement.id)
    ).all()
    subjects = list(dict.fromkeys(subject for subject, _agreement in pairs))
    values: dict[str, dict[str, JsonValue]] = {subject: {} for subject in subjects}
    for profile in read_profiles(uow, caller, [agreement for _subject, agreement in pairs]):
        if profile.subject in values:
            values[profile.subject].update({k: f.value for k, f in profile.fields.items()})
    keys = {key for fields in values.values() for key in fields}
    ordered = sorted(keys, key=lambda key: (_FIELD_ORDER.get(key, len(_FIELD_ORDER)), key))
    return SegmentExport(ordered, [(subject, values[subject]) for subject in subjects])


def subjects_in_segment(uow: UnitOfWork, business_id: uuid.UUID, code: str) -> Select[tuple[str]]:
    """Return a query of the pairwise ids in a segment who are connected now (list filters)."""
    _check_code(code)
    return select(RfmScore.subject).where(
        RfmScore.business_id == business_id,
        RfmScore.segment == code,
        RfmScore.subject.in_(connected_subjects(business_id, uow.now())),
    )


def segments_of(uow: UnitOfWork, business_id: uuid.UUID, subjects: Iterable[str]) -> dict[str, str]:
    """Return the segment code of each of these pairwise ids that has a score."""
    wanted = sorted(set(subjects))
    if not wanted:
        return {}
    rows = uow.session.execute(
        select(RfmScore.subject, RfmScore.segment).where(
            RfmScore.business_id == business_id, RfmScore.subject.in_(wanted)
        )
    )
    return {subject: segment for subject, segment in rows}
