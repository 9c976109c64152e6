"""Tables for key-encryption keys in use and the wrapped data key of each customer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from vault.orm import Base, UTCDateTime


class KekRecord(Base):
    """A key-encryption key that wrapped data keys may name.

    The foreign key from `customer_keys` makes retiring a key that still wraps a data key
    fail inside the database, so no race can leave a data key without its KEK.
    """

    __tablename__ = "key_encryption_keys"

    kek_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CustomerKey(Base):
    """One customer's data key, stored only wrapped by a key-encryption key."""

    __tablename__ = "customer_keys"
    # KEK rotation rewraps every table that names its key context (vault.keys.rotation).
    __dek_context__: ClassVar[str] = "emanet/dek/v1"

    customer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    kek_id: Mapped[str] = mapped_column(
        ForeignKey("key_encryption_keys.kek_id", ondelete="RESTRICT"), index=True
    )
    wrapped_dek: Mapped[bytes] = mapped_column(LargeBinary)
    wrapped_at: Mapped[datetime] = mapped_column(UTCDateTime())
