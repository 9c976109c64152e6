"""Erasure by crypto-shredding (GDPR Art. 17; DESIGN invariant 3)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from vault.access_log.services import LogEntry, append_event
from vault.accounts.models import Customer
from vault.agreements.models import Agreement
from vault.agreements.services import end_for_erasure
from vault.interactions.models import Interaction
from vault.keys.models import CustomerKey
from vault.keys.rotation import RotationReport, rotate_kek
from vault.profile.models import ProfileField, ProfileFieldVersion
from vault.profile.services import lock_customer
from vault.unit_of_work import UnitOfWork, Vault


@dataclass(frozen=True)
class ErasureReport:
    """What erasure removed, and the KEK rotation that made older copies unreadable."""

    customer_id: uuid.UUID
    erased_at: datetime
    rotation: RotationReport | None


def erase_customer(uow: UnitOfWork, customer_id: uuid.UUID) -> datetime:
    """Destroy the customer's data key and data, keeping a pseudonymous stub; commit."""
    lock_customer(uow, customer_id)
    session = uow.session
    for table in (ProfileField, ProfileFieldVersion, Interaction, CustomerKey):
        session.execute(delete(table).where(table.customer_id == customer_id))
    customer = session.get(Customer, customer_id)
    assert customer is not None  # lock_customer found it
    now = uow.now()
    customer.email_index = None
    customer.email_ciphertext = None
    customer.password_hash = None
    customer.totp_ciphertext = None
    customer.totp_enabled_at = None
    customer.totp_last_step = None
    customer.erased_at = now
    for agreement in uow.session.scalars(
        select(Agreement).where(Agreement.customer_id == customer_id).with_for_update()
    ):
        end_for_erasure(uow, agreement)
    append_event(uow, LogEntry(kind="customer.erased", actor="customer", customer_id=customer_id))
    uow.commit()
    uow.keys.cache.forget(customer_id)
    return now


def erase_and_shred(vault: Vault, customer_id: uuid.UUID, *, shred: bool = True) -> ErasureReport:
    """Erase a customer, then rotate and retire the KEK so no older copy of the database
    can unwrap their data key with the keyring as it is now.

    With `shred=False` the old KEK stays until the next `emanet keys rotate`; batch many
    erasures that way on a large vault, since every rotation rewraps every data key.
    """
    with vault.unit_of_work() as uow:
        erased_at = erase_customer(uow, customer_id)
    rotation = rotate_kek(vault, retire=True) if shred else None
    return ErasureReport(customer_id, erased_at, rotation)
