"""Use cases of the profile: set, read, delete fields and read their history."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select

from schemas.agreements import AgreementStatus
from schemas.field_catalogue import JsonValue, field_spec, validate_field_value
from vault.accounts.models import Customer
from vault.agreements.models import Agreement
from vault.agreements.status import current_status
from vault.errors import CustomerNotFoundError
from vault.keys import aead
from vault.outbox.services import emit
from vault.profile.models import ProfileField, ProfileFieldVersion
from vault.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class FieldValue:
    """A field's current value as the customer sees it."""

    key: str
    value: JsonValue
    version: int
    updated_at: datetime


@dataclass(frozen=True)
class FieldVersion:
    """One entry of a field's history; `value` is None where the field was deleted."""

    key: str
    version: int
    value: JsonValue | None
    deleted: bool
    changed_at: datetime
    changed_by: str


FIELD_AAD_CONTEXT = "emanet/field/v1"
_CURRENT = ProfileField.__table__.c


def field_aad(customer_id: uuid.UUID, field_key: str, version: int) -> bytes:
    """Bind a field ciphertext to its customer, field and version (invariant 1)."""
    return aead.associated_data(FIELD_AAD_CONTEXT, customer_id, field_key, version)


def _encode(value: JsonValue) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def lock_customer(uow: UnitOfWork, customer_id: uuid.UUID) -> None:
    """Hold the customer's row until commit so concurrent writers queue instead of racing."""
    found = uow.session.scalar(
        select(Customer.id)
        .where(Customer.id == customer_id, Customer.erased_at.is_(None))
        .with_for_update()
    )
    if found is None:
        raise CustomerNotFoundError(f"No customer {customer_id}.")


def _next_version(uow: UnitOfWork, customer_id: uuid.UUID, key: str) -> int:
    latest = uow.session.scalar(
        select(func.max(ProfileFieldVersion.version)).where(
            ProfileFieldVersion.customer_id == customer_id, ProfileFieldVersion.field_key == key
        )
    )
    return (latest or 0) + 1


def write_fields(
    uow: UnitOfWork, customer_id: uuid.UUID, values: Mapping[str, object], *, actor: str
) -> dict[str, int]:
    """Validate and store several fields in the current transaction; return their versions."""
    canonical = {key: validate_field_value(key, raw) for key, raw in values.items()}
    lock_customer(uow, customer_id)
    now = uow.now()
    versions: dict[str, int] = {}
    for key, value in canonical.items():
        version = _next_version(uow, customer_id, key)
        sealed = uow.keys.encrypt(
            uow.session, customer_id, _encode(value), field_aad(customer_id, key, version)
        )
        uow.session.add(
            ProfileFieldVersion(
                customer_id=customer_id,
                field_key=key,
                version=version,
                ciphertext=sealed,
                changed_at=now,
                changed_by=actor,
            )
        )
        uow.session.merge(
            ProfileField(
                customer_id=customer_id,
                field_key=key,
                version=version,
                ciphertext=sealed,
                updated_at=now,
            )
        )
        versions[key] = version
    uow.session.flush()
    _tell_businesses(uow, customer_id, set(versions))
    return versions


def _tell_businesses(uow: UnitOfWork, customer_id: uuid.UUID, changed: set[str]) -> None:
    # profile.updated names the granted fields that changed, never their values.
    agreements = uow.session.scalars(
        select(Agreement).where(
            Agreement.customer_id == customer_id,
            Agreement.status == AgreementStatus.ACTIVE.value,
        )
    )
    for agreement in agreements:
        if current_status(agreement, uow.now()) is not AgreementStatus.ACTIVE:
            continue  # past its term: it has ended, whether or not the expiry was recorded
        seen = sorted(changed & set(agreement.granted_fields))
        if seen:
            emit(
                uow,
                agreement.business_id,
                "profile.updated",
                {"agreement_id": str(agreement.id), "fields": seen},
                agreement_id=agreement.id,
            )


def set_field(
    uow: UnitOfWork, customer_id: uuid.UUID, key: str, raw: object, *, actor: str = "customer"
) -> int:
    """Validate and store a new version of one field; return the version number."""
    version = write_fields(uow, customer_id, {key: raw}, actor=actor)[key]
    uow.commit()
    return version


def delete_field(
    uow: UnitOfWork, customer_id: uuid.UUID, key: str, *, actor: str = "customer"
) -> bool:
    """Remove a field's current value, keeping the deletion in its history."""
    field_spec(key)
    lock_customer(uow, customer_id)
    removed = uow.session.execute(
        delete(ProfileField).where(
            ProfileField.customer_id == customer_id, ProfileField.field_key == key
        )
    ).rowcount
    if removed:
        uow.session.add(
            ProfileFieldVersion(
                customer_id=customer_id,
                field_key=key,
                version=_next_version(uow, customer_id, key),
                ciphertext=None,
                changed_at=uow.now(),
                changed_by=actor,
            )
        )
    if removed:
        _tell_businesses(uow, customer_id, {key})
    uow.commit()
    return bool(removed)


def read_fields(
    uow: UnitOfWork, customer_id: uuid.UUID, keys: Iterable[str] | None = None
) -> dict[str, FieldValue]:
    """Return the current values of the customer's fields (all, or those named)."""
    # On the hot path: plain table columns, one cipher and one AAD prefix per read.
    query = select(_CURRENT.field_key, _CURRENT.version, _CURRENT.ciphertext, _CURRENT.updated_at)
    query = query.where(_CURRENT.customer_id == customer_id)
    if keys is not None:
        wanted = list(keys)
        for key in wanted:
            field_spec(key)
        query = query.where(_CURRENT.field_key.in_(wanted))
    rows = uow.session.execute(query).all()
    if not rows:
        return {}
    opener = aead.Opener(uow.keys.get(uow.session, customer_id))
    prefix = aead.associated_data(FIELD_AAD_CONTEXT, customer_id)
    values = {}
    for key, version, ciphertext, updated_at in rows:
        plaintext = opener.unseal(ciphertext, aead.extend_associated_data(prefix, key, version))
        values[key] = FieldValue(key, json.loads(plaintext.decode()), version, updated_at)
    return values


def get_field(uow: UnitOfWork, customer_id: uuid.UUID, key: str) -> FieldValue | None:
    """Return the current value of one field, or None when it is not set."""
    return read_fields(uow, customer_id, [key]).get(key)


def field_history(uow: UnitOfWork, customer_id: uuid.UUID, key: str) -> list[FieldVersion]:
    """Return every version of one field, newest first."""
    field_spec(key)
    return _history(uow, customer_id, key)


def full_history(uow: UnitOfWork, customer_id: uuid.UUID) -> list[FieldVersion]:
    """Return every version of every field, oldest first (for export)."""
    return sorted(_history(uow, customer_id, None), key=lambda v: (v.changed_at, v.key, v.version))


def _history(uow: UnitOfWork, customer_id: uuid.UUID, key: str | None) -> list[FieldVersion]:
    query = select(ProfileFieldVersion).where(ProfileFieldVersion.customer_id == customer_id)
    if key is not None:
        query = query.where(ProfileFieldVersion.field_key == key)
    rows = uow.session.scalars(query.order_by(ProfileFieldVersion.version.desc())).all()
    if not rows:
        return []
    dek = uow.keys.get(uow.session, customer_id)
    return [
        FieldVersion(
            row.field_key,
            row.version,
            None
            if row.ciphertext is None
            else json.loads(
                aead.unseal(dek, row.ciphertext, field_aad(customer_id, row.field_key, row.version))
            ),
            row.ciphertext is None,
            row.changed_at,
            row.changed_by,
        )
        for row in rows
    ]
