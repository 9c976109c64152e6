"""Per-customer data keys: create, wrap, look up (through the cache) and encrypt with."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vault.keys import aead
from vault.keys.dek_cache import DekCache
from vault.keys.models import CustomerKey, KekRecord
from vault.keys.provider import KeyProvider, WrappedKey


class NoDataKeyError(LookupError):
    """The customer has no data key: they were erased, or never existed."""


def dek_aad(customer_id: uuid.UUID) -> bytes:
    """Bind a wrapped data key to its customer: moved to another customer, it won't unwrap."""
    return aead.associated_data(CustomerKey.__dek_context__, customer_id)


class DataKeys:
    """Gives each customer a data key and finds it again, unwrapping at most once per TTL."""

    def __init__(self, provider: KeyProvider, cache: DekCache) -> None:
        self.provider = provider
        self.cache = cache

    def create(self, session: Session, customer_id: uuid.UUID, now: datetime) -> bytes:
        """Make a fresh data key for a new customer and store it wrapped."""
        dek = aead.new_key()
        wrapped = self.provider.wrap(dek, dek_aad(customer_id))
        session.add(
            CustomerKey(
                customer_id=customer_id,
                kek_id=wrapped.kek_id,
                wrapped_dek=wrapped.blob,
                wrapped_at=now,
            )
        )
        self.cache.put(customer_id, dek)
        return dek

    def get(self, session: Session, customer_id: uuid.UUID) -> bytes:
        """Return the customer's data key, from the cache or by unwrapping the stored one."""
        dek = self.cache.get(customer_id)
        if dek is not None:
            return dek
        row = session.execute(
            select(CustomerKey.kek_id, CustomerKey.wrapped_dek).where(
                CustomerKey.customer_id == customer_id
            )
        ).one_or_none()
        if row is None:
            raise NoDataKeyError(f"customer {customer_id} has no data key")
        dek = self.provider.unwrap(WrappedKey(row.kek_id, row.wrapped_dek), dek_aad(customer_id))
        self.cache.put(customer_id, dek)
        return dek

    def encrypt(self, session: Session, customer_id: uuid.UUID, data: bytes, aad: bytes) -> bytes:
        """Seal data under the customer's data key."""
        return aead.seal(self.get(session, customer_id), data, aad)

    def decrypt(self, session: Session, customer_id: uuid.UUID, sealed: bytes, aad: bytes) -> bytes:
        """Open data sealed under the customer's data key."""
        return aead.unseal(self.get(session, customer_id), sealed, aad)

    def register_kek(self, session: Session, kek_id: str, now: datetime) -> str:
        """Record a KEK in the database so that data keys may name it."""
        if session.get(KekRecord, kek_id) is None:
            try:
                with session.begin_nested():
                    session.add(KekRecord(kek_id=kek_id, registered_at=now))
            except IntegrityError:
                pass  # another process registered it first, which is just as good
        return kek_id
