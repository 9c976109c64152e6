"""Pending authorization requests, authorization codes and tokens; every secret stored hashed."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from vault.orm import Base, UTCDateTime


class PendingAuthorization(Base):
    """An authorization request waiting for the customer's decision on the consent screen."""

    __tablename__ = "oauth_pending_authorizations"

    handle: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.client_id"))
    agreement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agreements.id"), index=True)
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    state: Mapped[str | None] = mapped_column(String(500))
    code_challenge: Mapped[str] = mapped_column(String(128))
    scope: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuthorizationCode(Base):
    """An issued code: one use, ten minutes at most (RFC 6749 §4.1.2)."""

    __tablename__ = "oauth_authorization_codes"

    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.client_id"))
    agreement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agreements.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    code_challenge: Mapped[str] = mapped_column(String(128))
    scope: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OAuthToken(Base):
    """An opaque access token and, for agreement tokens, its refresh token.

    Tokens issued one from another (code → token → rotated tokens) share a `family_id`, so a
    replayed refresh token or a reused code revokes them all at once.
    """

    __tablename__ = "oauth_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    access_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    refresh_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.client_id"), index=True)
    business_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("businesses.id"))
    agreement_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agreements.id"), index=True)
    family_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    code_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), index=True)
    scope: Mapped[str | None] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    access_expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    refresh_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refresh_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
