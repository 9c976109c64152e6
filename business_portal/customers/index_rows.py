"""Writing the customer list's read model: agreements' search terms, customers' list rows.

The values come only from the gate (`broker.gate.read_profiles`); here they are turned into
keyed hashes at once and never stored. `search_index` decides what to (re)write and when;
each function here handles a whole batch in a few statements.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from sqlalchemy import delete, insert, select

from broker.gate import READABLE, GrantedProfile
from business_portal.customers.models import IndexedAgreement, ListedCustomer, SearchTerm
from business_portal.customers.search_words import value_words
from business_portal.records.connections import active_by_key
from business_portal.records.keys import BusinessCipher
from schemas.agreements import INTERACTIONS
from schemas.field_catalogue import FIELD_CATALOGUE
from vault.agreements.models import Agreement
from vault.unit_of_work import UnitOfWork

# An agreement without an end sorts after every real date, the same way on both backends.
FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)


def readable_keys(granted_fields: dict[str, str]) -> set[str]:
    """Return the profile fields an agreement lets the business read."""
    return {
        key
        for key, mode in granted_fields.items()
        if mode in READABLE and key != INTERACTIONS and key in FIELD_CATALOGUE
    }


def present_marker(keys: Iterable[str]) -> str:
    """Return field keys as IndexedAgreement.present_fields keeps them (" a b ")."""
    ordered = sorted(keys)
    return " " + " ".join(ordered) + " " if ordered else ""


def write_terms(
    uow: UnitOfWork,
    cipher: BusinessCipher,
    profiles: Iterable[GrantedProfile],
    now: datetime,
) -> None:
    """Replace agreements' terms with those of the values just read through the gate."""
    profiles = list(profiles)
    forget_agreements(uow, [p.agreement_id for p in profiles])
    business_id = cipher.business_id
    terms = [
        {
            "agreement_id": profile.agreement_id,
            "field_key": key,
            "term_hash": term_hash,
            "business_id": business_id,
        }
        for profile in profiles
        for key, field in profile.fields.items()
        for term_hash in {
            cipher.search_term(w) for w in value_words(FIELD_CATALOGUE[key], field.value)
        }
    ]
    indexed = [
        {
            "agreement_id": profile.agreement_id,
            "business_id": business_id,
            "subject": profile.subject,
            "present_fields": present_marker(profile.fields),
            "indexed_at": now,
        }
        for profile in profiles
    ]
    # Core inserts: thousands of small rows, no objects to track.
    if terms:
        uow.session.execute(insert(SearchTerm.__table__), terms)
    if indexed:
        uow.session.execute(insert(IndexedAgreement.__table__), indexed)


def forget_agreements(uow: UnitOfWork, agreement_ids: Iterable[uuid.UUID]) -> None:
    """Delete the terms and the index record of these agreements."""
    ids = list(agreement_ids)
    if ids:
        uow.session.execute(delete(SearchTerm).where(SearchTerm.agreement_id.in_(ids)))
        uow.session.execute(delete(IndexedAgreement).where(IndexedAgreement.agreement_id.in_(ids)))


def rebuild_listed(
    uow: UnitOfWork, business_id: uuid.UUID, owners: Mapping[uuid.UUID, str]
) -> None:
    """Make these customers' list rows (customer id → pairwise id) match their agreements now.

    A customer without an active agreement loses their row and whatever is still indexed of
    them; an agreement that ended quietly (its term ran out) is dropped from the index too.
    """
    if not owners:
        return
    now = uow.now()
    active = uow.session.execute(
        select(
            Agreement.customer_id,
            Agreement.id,
            Agreement.valid_from,
            Agreement.decided_at,
            Agreement.valid_until,
        ).where(Agreement.customer_id.in_(list(owners)), active_by_key(business_id, now))
    ).all()
    subjects = list(owners.values())
    indexed = uow.session.scalars(
        select(IndexedAgreement.agreement_id).where(
            IndexedAgreement.business_id == business_id, IndexedAgreement.subject.in_(subjects)
        )
    )
    forget_agreements(uow, set(indexed) - {row.id for row in active})
    rows = {
        row.subject: row
        for row in uow.session.scalars(
            select(ListedCustomer).where(
                ListedCustomer.business_id == business_id, ListedCustomer.subject.in_(subjects)
            )
        )
    }
    spans: dict[str, tuple[datetime, datetime]] = {}
    for found in active:
        since = found.valid_from or found.decided_at or now
        ends = found.valid_until or FAR_FUTURE
        subject = owners[found.customer_id]
        known = spans.get(subject)
        spans[subject] = (min(known[0], since), max(known[1], ends)) if known else (since, ends)
    for subject in subjects:
        row, span = rows.get(subject), spans.get(subject)
        if span is None:
            if row is not None:
                uow.session.delete(row)
        elif row is None:
            uow.session.add(
                ListedCustomer(
                    business_id=business_id,
                    subject=subject,
                    connected_since=span[0],
                    ends_at=span[1],
                    updated_at=now,
                )
            )
        elif (row.connected_since, row.ends_at) != span:
            row.connected_since, row.ends_at, row.updated_at = span[0], span[1], now
