"""Writing the customer list's read model: one agreement's search terms, one customer's row.

The values come only from the gate (`broker.gate.read_profiles`); here they are turned into
keyed hashes at once and never stored. `search_index` decides what to (re)write and when.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import delete, insert, select

from broker.gate import READABLE, GrantedProfile
from business_portal.customers.list_query import active_by_customer
from business_portal.customers.models import (
    IndexedAgreement,
    ListedCustomer,
    SearchTerm,
)
from business_portal.customers.search_words import value_words
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
    return " " + " ".join(sorted(keys)) + " " if keys else ""


def write_terms(
    uow: UnitOfWork, cipher: BusinessCipher, profile: GrantedProfile, now: datetime
) -> None:
    """Replace an agreement's search terms with those of the values just read through the gate."""
    business_id = cipher.business_id
    drop_terms(uow, [profile.agreement_id])
    rows = [
        {
            "agreement_id": profile.agreement_id,
            "field_key": key,
            "term_hash": term_hash,
            "business_id": business_id,
        }
        for key, field in profile.fields.items()
        for term_hash in {
            cipher.search_term(w) for w in value_words(FIELD_CATALOGUE[key], field.value)
        }
    ]
    if rows:
        uow.session.execute(insert(SearchTerm), rows)
    uow.session.merge(
        IndexedAgreement(
            agreement_id=profile.agreement_id,
            business_id=business_id,
            subject=profile.subject,
            present_fields=present_marker(profile.fields),
            indexed_at=now,
        )
    )


def drop_terms(uow: UnitOfWork, agreement_ids: Iterable[uuid.UUID]) -> None:
    """Delete what the index keeps of these agreements' values."""
    ids = list(agreement_ids)
    if ids:
        uow.session.execute(delete(SearchTerm).where(SearchTerm.agreement_id.in_(ids)))


def forget_agreements(uow: UnitOfWork, agreement_ids: Iterable[uuid.UUID]) -> None:
    """Delete the terms and the index record of agreements the business may no longer read."""
    ids = list(agreement_ids)
    if ids:
        drop_terms(uow, ids)
        uow.session.execute(delete(IndexedAgreement).where(IndexedAgreement.agreement_id.in_(ids)))


def rebuild_listed(
    uow: UnitOfWork, business_id: uuid.UUID, customer_id: uuid.UUID, subject: str
) -> None:
    """Make the customer's list row match their active agreements now (or remove it)."""
    now = uow.now()
    active = uow.session.execute(
        select(Agreement.id, Agreement.valid_from, Agreement.decided_at, Agreement.valid_until)
        .where(Agreement.customer_id == customer_id, active_by_customer(business_id, now))
        .order_by(Agreement.id)
    ).all()
    indexed = set(
        uow.session.scalars(
            select(IndexedAgreement.agreement_id).where(
                IndexedAgreement.business_id == business_id, IndexedAgreement.subject == subject
            )
        )
    )
    forget_agreements(uow, indexed - {row.id for row in active})
    row = uow.session.get(ListedCustomer, (business_id, subject))
    if not active:
        if row is not None:
            uow.session.delete(row)
        return
    since = min(r.valid_from or r.decided_at or now for r in active)
    ends = max(r.valid_until or FAR_FUTURE for r in active)
    if row is None:
        uow.session.add(
            ListedCustomer(
                business_id=business_id,
                subject=subject,
                connected_since=since,
                ends_at=ends,
                updated_at=now,
            )
        )
    elif (row.connected_since, row.ends_at) != (since, ends):
        row.connected_since, row.ends_at, row.updated_at = since, ends, now
