"""The customer account table: no clear personal data, only ciphertext and a blind index."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from vault.orm import Base, UTCDateTime


class Customer(Base):
    """A customer; after erasure only a pseudonymous stub (id and dates) is left."""

    __tablename__ = "customers"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # HMAC of the normalised login e-mail: finds the account without storing the address.
    email_index: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    email_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
