"""Use cases of businesses: register one, add staff and clients, authenticate a client."""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select

from broker.businesses.models import Business, OAuthClient, StaffUser
from schemas.agreements import BusinessSnapshot
from schemas.businesses import BusinessIn, ClientIn, StaffIn
from vault.access_log.services import LogEntry, append_event
from vault.unit_of_work import UnitOfWork

CLIENT_SECRET_PURPOSE = "oauth-client-secret"


class BusinessNotFoundError(LookupError):
    """No such business."""


class StaffEmailTakenError(ValueError):
    """Another staff user already signs in with this e-mail address."""


@dataclass(frozen=True)
class IssuedClient:
    """A new client's credentials; the secret is shown this once and never stored."""

    client_id: str
    client_secret: str


def hash_client_secret(uow: UnitOfWork, secret: str) -> bytes:
    """Return the keyed hash a client secret is stored as (high-entropy, so HMAC suffices)."""
    return uow.provider.blind_index(CLIENT_SECRET_PURPOSE, secret.encode())


def register_client(
    uow: UnitOfWork, business_id: uuid.UUID, client: ClientIn, *, actor: str
) -> IssuedClient:
    """Create an OAuth client for a business in the current transaction."""
    issued = IssuedClient("emc_" + secrets.token_urlsafe(18), secrets.token_urlsafe(32))
    uow.session.add(
        OAuthClient(
            client_id=issued.client_id,
            business_id=business_id,
            name=client.name,
            secret_hash=hash_client_secret(uow, issued.client_secret),
            redirect_uris=list(client.redirect_uris),
            token_endpoint_auth_method=client.token_endpoint_auth_method.value,
            created_at=uow.now(),
        )
    )
    append_event(
        uow,
        LogEntry(
            kind="client.created", actor=actor, business_id=business_id, detail=issued.client_id
        ),
    )
    return issued


def create_business(
    uow: UnitOfWork, business: BusinessIn, client: ClientIn, *, actor: str = "operator"
) -> tuple[uuid.UUID, IssuedClient]:
    """Register a business with its first OAuth client; commit."""
    record = Business(
        id=uuid.uuid4(),
        legal_name=business.legal_name,
        country=business.country,
        privacy_email=business.privacy_email,
        privacy_address=business.privacy_address,
        policy_url=business.policy_url,
        created_at=uow.now(),
    )
    uow.session.add(record)
    uow.session.flush()
    append_event(uow, LogEntry(kind="business.created", actor=actor, business_id=record.id))
    issued = register_client(uow, record.id, client, actor=actor)
    uow.commit()
    return record.id, issued


def add_staff(
    uow: UnitOfWork,
    business_id: uuid.UUID,
    staff: StaffIn,
    password: str,
    *,
    actor: str = "operator",
) -> uuid.UUID:
    """Add a staff user with an Argon2id password; commit."""
    if uow.session.get(Business, business_id) is None:
        raise BusinessNotFoundError(f"No business {business_id}.")
    email = staff.email.casefold()
    if uow.session.scalar(select(StaffUser.id).where(StaffUser.email == email)):
        raise StaffEmailTakenError("A staff user with this e-mail address already exists.")
    user = StaffUser(
        id=uuid.uuid4(),
        business_id=business_id,
        email=email,
        display_name=staff.display_name,
        role=staff.role.value,
        password_hash=uow.passwords.hash(password),
        created_at=uow.now(),
    )
    uow.session.add(user)
    append_event(
        uow,
        LogEntry(
            kind="staff.created",
            actor=actor,
            business_id=business_id,
            detail=f"{user.id} {staff.role.value}",
        ),
    )
    uow.commit()
    return user.id


def authenticate_client(uow: UnitOfWork, client_id: str, secret: str) -> OAuthClient | None:
    """Return the client when the secret matches and the client is not revoked."""
    client = uow.session.get(OAuthClient, client_id)
    expected = hash_client_secret(uow, secret)
    if client is None or client.revoked_at is not None:
        return None
    return client if hmac.compare_digest(client.secret_hash, expected) else None


def business_snapshot(uow: UnitOfWork, business_id: uuid.UUID) -> BusinessSnapshot:
    """Return the business as a customer is shown it on the consent screen."""
    business = uow.session.get(Business, business_id)
    if business is None:
        raise BusinessNotFoundError(f"No business {business_id}.")
    return BusinessSnapshot(
        business_id=str(business.id),
        legal_name=business.legal_name,
        country=business.country,
        privacy_email=business.privacy_email,
        privacy_address=business.privacy_address,
        policy_url=business.policy_url,
    )
