"""Each business's own data key, wrapped by the keyring's KEK like a customer's.

Deals, tasks and notes are the business's records, not the customer's, so they are sealed
under the business's key; the associated data names the table, the row and the business, so
a ciphertext moved to another row or business does not open.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import ForeignKey, LargeBinary, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from vault.keys import aead
from vault.keys.owner_keys import new_owner_key, open_owner_key
from vault.orm import Base, UTCDateTime
from vault.unit_of_work import UnitOfWork

KEY_CONTEXT = "emanet/business-key/v1"


class BusinessKey(Base):
    """One business's data key, stored only wrapped by a key-encryption key."""

    __tablename__ = "business_keys"
    # KEK rotation rewraps every table that names its key context (vault.keys.rotation).
    __dek_context__: ClassVar[str] = KEY_CONTEXT

    business_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), primary_key=True
    )
    kek_id: Mapped[str] = mapped_column(
        ForeignKey("key_encryption_keys.kek_id", ondelete="RESTRICT"), index=True
    )
    wrapped_dek: Mapped[bytes] = mapped_column(LargeBinary)
    wrapped_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BusinessCipher:
    """Seals and opens one business's records; build it with `business_cipher`."""

    def __init__(self, business_id: uuid.UUID, key: bytes) -> None:
        self.business_id = business_id
        self._key = key
        self._search_key = hmac.new(key, b"emanet/portal-search/v1", hashlib.sha256).digest()

    def seal(self, table: str, row_id: uuid.UUID, values: dict[str, Any]) -> bytes:
        """Encrypt a row's private values (a JSON object) bound to the table and row."""
        aad = aead.associated_data("emanet/portal-record/v1", table, row_id, self.business_id)
        return aead.seal(self._key, json.dumps(values, sort_keys=True).encode(), aad)

    def open(self, table: str, row_id: uuid.UUID, sealed: bytes) -> dict[str, Any]:
        """Decrypt what `seal` wrote for the same table and row."""
        aad = aead.associated_data("emanet/portal-record/v1", table, row_id, self.business_id)
        opened: dict[str, Any] = json.loads(aead.unseal(self._key, sealed, aad))
        return opened

    def search_term(self, term: str) -> bytes:
        """Return the keyed hash a search term is indexed by (16 bytes)."""
        return hmac.new(self._search_key, term.encode(), hashlib.sha256).digest()[:16]


def business_cipher(uow: UnitOfWork, business_id: uuid.UUID) -> BusinessCipher:
    """Return the business's cipher, making its data key on first use."""
    row = uow.session.execute(
        select(BusinessKey.kek_id, BusinessKey.wrapped_dek).where(
            BusinessKey.business_id == business_id
        )
    ).one_or_none()
    if row is not None:
        key = open_owner_key(uow.provider, KEY_CONTEXT, business_id, row.kek_id, row.wrapped_dek)
        return BusinessCipher(business_id, key)
    key, wrapped = new_owner_key(uow.provider, KEY_CONTEXT, business_id)
    uow.keys.register_kek(uow.session, wrapped.kek_id, uow.now())
    try:
        with uow.session.begin_nested():
            uow.session.add(
                BusinessKey(
                    business_id=business_id,
                    kek_id=wrapped.kek_id,
                    wrapped_dek=wrapped.blob,
                    wrapped_at=uow.now(),
                )
            )
    except IntegrityError:
        return business_cipher(uow, business_id)  # another request made it first: use theirs
    return BusinessCipher(business_id, key)
