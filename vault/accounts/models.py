"""The customer account table: no clear personal data, only ciphertext and a blind index."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String, Uuid
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
    # Sessions issued before this moment are ended (vault.account_views checks every request).
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Two-factor sign-in (RFC 6238): the shared secret sealed under the customer's data key;
    # a secret without `totp_enabled_at` is a set-up waiting for its first code.
    totp_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last time step a code was accepted for: no code is accepted twice (RFC 6238 §5.2).
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # Wrong codes in a row, and when the last one came, to slow down guessing per account.
    totp_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    totp_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
