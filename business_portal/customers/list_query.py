"""The SQL of the customer list: which customers, in which order, a page at a time.

Every statement starts from the business's list rows (`ListedCustomer`) in the order of an
index, checks each row's active agreement and filters with keyed lookups, and stops after a
page: its cost follows the page, not the number of customers. A search first finds the
customers whose terms match every word (index lookups, so it costs as many rows as match).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    and_,
    bindparam,
    false,
    intersect,
    or_,
    select,
    tuple_,
)

from broker.businesses.models import PairwiseSubject
from business_portal.customers.models import IndexedAgreement, ListedCustomer, SearchTerm
from business_portal.customers.paging import Mark
from business_portal.records.connections import active_by_key
from business_portal.records.models import CustomerTag
from business_portal.records.planner_hints import per_row
from business_portal.segments.models import RfmScore
from schemas.agreements import Purpose
from schemas.field_catalogue import FIELD_CATALOGUE
from vault.agreements.models import Agreement

SORTS = ("newest", "oldest", "ending", "id")
STATUSES = ("active", "paused", "expiring")
SEGMENTS = (
    "champions",
    "loyal",
    "potential_loyalist",
    "new",
    "at_risk",
    "hibernating",
    "lost",
)
EXPIRING_WITHIN = timedelta(days=30)
# Up to this many matches a search hands the page their ids; beyond, matches are so common
# that walking the list in order meets a page of them quickly.
SEARCH_ID_LIMIT = 2000
MAX_SEARCH_LENGTH = 200
MAX_TAG_LENGTH = 40

_L = ListedCustomer


@dataclass(frozen=True)
class CustomerQuery:
    """What the list shows: a search, filters and a sort, each optional."""

    q: str = ""
    present: str = ""
    segment: str = ""
    tag: str = ""
    status: str = ""
    purpose: str = ""
    sort: str = "newest"

    @classmethod
    def from_params(cls, params: Any) -> CustomerQuery:
        """Read a query string (or saved view), keeping only values the list understands."""

        def text(name: str, longest: int) -> str:
            value = params.get(name)
            return value.strip()[:longest] if isinstance(value, str) else ""

        def choice(name: str, allowed: Any) -> str:
            value = text(name, 60)
            return value if value in allowed else ""

        return cls(
            q=text("q", MAX_SEARCH_LENGTH),
            present=choice("present", FIELD_CATALOGUE),
            segment=choice("segment", SEGMENTS),
            tag=text("tag", MAX_TAG_LENGTH),
            status=choice("status", STATUSES),
            purpose=choice("purpose", {p.value for p in Purpose}),
            sort=choice("sort", SORTS) or "newest",
        )

    def as_params(self) -> dict[str, str]:
        """Return the query as URL parameters, leaving out what is empty or the default."""
        params = {f.name: getattr(self, f.name) for f in fields(self)}
        if params["sort"] == "newest":
            del params["sort"]
        return {name: value for name, value in params.items() if value}


def _agreements_of_row(business_id: uuid.UUID, now: datetime, *conditions: Any) -> Select[Any]:
    """Return the active agreements of the list row being looked at (correlated)."""
    return (
        select(Agreement.id)
        .join(
            PairwiseSubject,
            and_(
                PairwiseSubject.customer_id == Agreement.customer_id,
                PairwiseSubject.business_id == business_id,
            ),
        )
        .where(PairwiseSubject.subject == _L.subject, active_by_key(business_id, now))
        .where(*conditions)
    )


def _has(business_id: uuid.UUID, now: datetime, *conditions: Any) -> ColumnElement[bool]:
    return per_row(_agreements_of_row(business_id, now, *conditions)).exists()


def _status(business_id: uuid.UUID, status: str, now: datetime) -> list[ColumnElement[bool]]:
    unrestricted = Agreement.restricted == false()
    lasting = or_(Agreement.valid_until.is_(None), Agreement.valid_until > now + EXPIRING_WITHIN)
    if status == "paused":
        return [~_has(business_id, now, unrestricted)]
    if status == "expiring":
        return [
            _has(business_id, now, unrestricted),
            ~_has(business_id, now, unrestricted, lasting),
        ]
    return [_has(business_id, now, unrestricted, lasting)]


def _filters(business_id: uuid.UUID, query: CustomerQuery, now: datetime) -> list[Any]:
    conditions: list[Any] = [_L.business_id == business_id, _has(business_id, now)]
    if query.status:
        conditions += _status(business_id, query.status, now)
    if query.purpose:
        purpose = Agreement.terms["purpose"].as_string() == query.purpose
        conditions.append(_has(business_id, now, purpose))
    if query.present:
        holds = per_row(
            select(IndexedAgreement.agreement_id).where(
                IndexedAgreement.agreement_id == Agreement.id,
                IndexedAgreement.present_fields.contains(f" {query.present} ", autoescape=True),
            )
        ).exists()
        conditions.append(_has(business_id, now, Agreement.restricted == false(), holds))
    if query.segment:
        conditions.append(
            select(RfmScore.subject)
            .where(
                RfmScore.business_id == business_id,
                RfmScore.subject == _L.subject,
                RfmScore.segment == query.segment,
            )
            .exists()
        )
    if query.tag:
        conditions.append(
            select(CustomerTag.subject)
            .where(
                CustomerTag.business_id == business_id,
                CustomerTag.subject == _L.subject,
                CustomerTag.tag == query.tag,
            )
            .exists()
        )
    if query.sort == "ending":
        conditions.append(_L.ends_at > now)  # ended rows wait for cleaning; skip them by index
    return conditions


def matching_subjects(
    business_id: uuid.UUID, term_hashes: list[bytes], now: datetime
) -> Select[Any] | CompoundSelect:
    """Return the pairwise ids whose readable agreements hold every one of these terms.

    Each word is looked up in the terms index, so a search costs as many rows as match; an
    agreement no longer active, or paused, is checked per match and never found.
    """
    readable = per_row(
        select(Agreement.id).where(
            Agreement.id == SearchTerm.agreement_id,
            active_by_key(business_id, now),
            Agreement.restricted == false(),
        )
    ).exists()
    per_term = [
        select(IndexedAgreement.subject)
        .select_from(SearchTerm)
        .join(IndexedAgreement, IndexedAgreement.agreement_id == SearchTerm.agreement_id)
        .where(SearchTerm.business_id == business_id, SearchTerm.term_hash == term_hash, readable)
        for term_hash in term_hashes
    ]
    # INTERSECT returns each id once; one word alone can match several fields of a customer.
    return per_term[0].distinct() if len(per_term) == 1 else intersect(*per_term)


def _sort_columns(sort: str) -> tuple[list[Any], bool]:
    """Return the columns a sort orders by and whether it runs newest first."""
    if sort == "id":
        return [_L.subject], False
    if sort == "ending":
        return [_L.ends_at, _L.subject], False
    return [_L.connected_since, _L.subject], sort == "newest"


def page_statement(
    business_id: uuid.UUID,
    query: CustomerQuery,
    now: datetime,
    *,
    matched: list[str] | Select[Any] | CompoundSelect | None,
    mark: Mark | None,
    backwards: bool,
    limit: int,
) -> Select[Any]:
    """Return the statement of one page of list rows after (or before) a mark."""
    columns, descending = _sort_columns(query.sort)
    ascending = descending == backwards
    statement = select(_L.subject, _L.connected_since, _L.ends_at).where(
        *_filters(business_id, query, now)
    )
    if matched is not None:
        statement = statement.where(_L.subject.in_(matched))
    if mark is not None:
        values = [mark.subject] if query.sort == "id" else [mark.key, mark.subject]
        pairs = zip(columns, values, strict=True)
        bound = tuple_(*(bindparam(None, value, type_=c.type) for c, value in pairs))
        row = tuple_(*columns)
        statement = statement.where(row > bound if ascending else row < bound)
    order = [c.asc() if ascending else c.desc() for c in columns]
    return statement.order_by(*order).limit(limit)


def found_statement(
    business_id: uuid.UUID, query: CustomerQuery, now: datetime, subjects: list[str]
) -> Select[Any]:
    """Return the list rows, among these found by a search, that the filters keep (unsorted).

    Without an order to keep, both databases look the rows up by primary key, one per match;
    the few found are sorted and cut into pages in Python (`paging.page_of_found`).
    """
    return select(_L.subject, _L.connected_since, _L.ends_at).where(
        *_filters(business_id, query, now), _L.subject.in_(subjects)
    )
