"""Codes and tokens: issue, consume once, look up by keyed hash, rotate, revoke by family."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update

from broker.oauth.models import AuthorizationCode, OAuthToken, PendingAuthorization
from vault.unit_of_work import UnitOfWork

CODE_LIFETIME = timedelta(minutes=5)
ACCESS_LIFETIME = timedelta(minutes=10)  # short: revocation is immediate anyway (invariant 5)
REFRESH_LIFETIME = timedelta(days=30)
PENDING_LIFETIME = timedelta(minutes=30)
TOKEN_HASH_PURPOSE = "oauth-token"


def token_hash(uow: UnitOfWork, token: str) -> bytes:
    """Return the keyed hash a code or token is stored and looked up by."""
    return uow.provider.blind_index(TOKEN_HASH_PURPOSE, token.encode())


def new_secret() -> str:
    """Return an unguessable opaque value for a code or token (256 bits)."""
    return secrets.token_urlsafe(32)


def issue_code(uow: UnitOfWork, pending: PendingAuthorization, customer_id: uuid.UUID) -> str:
    """Create the authorization code for a completed request; return it (shown once)."""
    code = new_secret()
    now = uow.now()
    uow.session.add(
        AuthorizationCode(
            code_hash=token_hash(uow, code),
            client_id=pending.client_id,
            agreement_id=pending.agreement_id,
            customer_id=customer_id,
            redirect_uri=pending.redirect_uri,
            code_challenge=pending.code_challenge,
            scope=pending.scope,
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
    )
    pending.completed_at = now
    return code


def consume_code(uow: UnitOfWork, code: str, client_id: str) -> AuthorizationCode | None:
    """Use a code exactly once; a second use revokes what the first one issued (RFC 9700 §4.2)."""
    digest = token_hash(uow, code)
    now = uow.now()
    claimed = uow.session.execute(
        update(AuthorizationCode)
        .where(
            AuthorizationCode.code_hash == digest,
            AuthorizationCode.client_id == client_id,
            AuthorizationCode.consumed_at.is_(None),
            AuthorizationCode.expires_at > now,
        )
        .values(consumed_at=now)
    ).rowcount
    record = uow.session.get(AuthorizationCode, digest, populate_existing=True)
    if claimed == 1:
        return record
    if record is not None and record.consumed_at is not None:
        revoke_issued_from_code(uow, digest)
    return None


def revoke_issued_from_code(uow: UnitOfWork, code_hash: bytes) -> int:
    """Revoke every token family that started from this code."""
    families = list(
        uow.session.scalars(select(OAuthToken.family_id).where(OAuthToken.code_hash == code_hash))
    )
    return sum(revoke_family(uow, family) for family in set(families))


def revoke_family(uow: UnitOfWork, family_id: uuid.UUID) -> int:
    """Revoke every token of a family; return how many were still live."""
    return uow.session.execute(
        update(OAuthToken)
        .where(OAuthToken.family_id == family_id, OAuthToken.revoked_at.is_(None))
        .values(revoked_at=uow.now())
    ).rowcount


@dataclass(frozen=True)
class NewToken:
    """What the token endpoint hands out; the values are never stored."""

    access_token: str
    refresh_token: str | None
    expires_in: int


def store_token(
    uow: UnitOfWork,
    *,
    client_id: str,
    business_id: uuid.UUID,
    agreement_id: uuid.UUID | None,
    scope: str | None,
    family_id: uuid.UUID | None = None,
    code_hash: bytes | None = None,
    with_refresh: bool,
) -> NewToken:
    """Issue an access token (and a refresh token) and store only their hashes."""
    access, refresh = new_secret(), new_secret() if with_refresh else None
    now = uow.now()
    uow.session.add(
        OAuthToken(
            id=uuid.uuid4(),
            access_hash=token_hash(uow, access),
            refresh_hash=token_hash(uow, refresh) if refresh else None,
            client_id=client_id,
            business_id=business_id,
            agreement_id=agreement_id,
            family_id=family_id or uuid.uuid4(),
            code_hash=code_hash,
            scope=scope,
            issued_at=now,
            access_expires_at=now + ACCESS_LIFETIME,
            refresh_expires_at=now + REFRESH_LIFETIME if refresh else None,
        )
    )
    uow.session.flush()
    return NewToken(access, refresh, int(ACCESS_LIFETIME.total_seconds()))


@dataclass(frozen=True, slots=True)
class LiveToken:
    """Who a live access token speaks for, and the agreement it is bound to, if any."""

    client_id: str
    business_id: uuid.UUID
    agreement_id: uuid.UUID | None


_TOKENS = OAuthToken.__table__.c
# Read on every API call and never changed by it: plain columns, built once.
_LIVE_TOKEN = select(
    _TOKENS.client_id,
    _TOKENS.business_id,
    _TOKENS.agreement_id,
    _TOKENS.revoked_at,
    _TOKENS.access_expires_at,
).where(_TOKENS.access_hash == bindparam("access_hash"))


def live_access_token(uow: UnitOfWork, token: str) -> LiveToken | None:
    """Return the access token's grant when it is neither revoked nor expired."""
    record = uow.session.execute(_LIVE_TOKEN, {"access_hash": token_hash(uow, token)}).first()
    if record is None or record.revoked_at is not None or record.access_expires_at <= uow.now():
        return None
    return LiveToken(record.client_id, record.business_id, record.agreement_id)


def find_refresh_token(uow: UnitOfWork, token: str) -> OAuthToken | None:
    """Return a refresh token's record, rotating it; a replayed one revokes its family."""
    record = uow.session.scalar(
        select(OAuthToken)
        .where(OAuthToken.refresh_hash == token_hash(uow, token))
        .with_for_update()
    )
    if record is None:
        return None
    if record.refresh_used_at is not None:
        revoke_family(uow, record.family_id)  # replay: someone else holds a copy (RFC 9700 §4.14)
        return None
    if record.revoked_at is not None or (
        record.refresh_expires_at is not None and record.refresh_expires_at <= uow.now()
    ):
        return None
    return record


def retire_refresh_token(uow: UnitOfWork, record: OAuthToken, at: datetime) -> None:
    """Mark a refresh token used and end its access token: it was just rotated."""
    record.refresh_used_at = at
    record.revoked_at = at
