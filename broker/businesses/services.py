"""Use cases of businesses: register one, manage staff and clients, authenticate a client."""

from __future__ import annotations

import hmac
import re
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select, update

from broker.businesses.models import Business, OAuthClient, StaffUser
from broker.oauth.models import OAuthToken
from schemas.agreements import BusinessSnapshot
from schemas.businesses import BusinessIn, ClientIn, StaffIn, StaffRole
from vault.access_log.services import LogEntry, append_event
from vault.unit_of_work import UnitOfWork

CLIENT_SECRET_PURPOSE = "oauth-client-secret"
# A client id as this module makes them ("emc_" and URL-safe base64), within the column's length.
CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


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


class ClientNotFoundError(LookupError):
    """No such OAuth client (for this business), or it is revoked."""


class StaffNotFoundError(LookupError):
    """No such staff user (for this business)."""


class LastOwnerError(ValueError):
    """The change would leave the business without an owner who can sign in."""


def _own_client(uow: UnitOfWork, business_id: uuid.UUID, client_id: str) -> OAuthClient:
    if not CLIENT_ID.fullmatch(client_id):  # as register_client makes them; nothing else is one
        raise ClientNotFoundError(f"No client {client_id!r}.")
    client = uow.session.get(OAuthClient, client_id, with_for_update=True)
    if client is None or client.business_id != business_id or client.revoked_at is not None:
        raise ClientNotFoundError(f"No client {client_id}.")
    return client


def rotate_client_secret(
    uow: UnitOfWork, business_id: uuid.UUID, client_id: str, *, actor: str
) -> IssuedClient:
    """Give a client a new secret (the old one stops working at once); commit."""
    client = _own_client(uow, business_id, client_id)
    secret = secrets.token_urlsafe(32)
    client.secret_hash = hash_client_secret(uow, secret)
    append_event(
        uow,
        LogEntry(
            kind="client.secret_rotated", actor=actor, business_id=business_id, detail=client_id
        ),
    )
    uow.commit()
    return IssuedClient(client_id, secret)


def revoke_client(uow: UnitOfWork, business_id: uuid.UUID, client_id: str, *, actor: str) -> None:
    """Switch a client off for good, with every token it holds (RFC 7009 in bulk); commit."""
    client = _own_client(uow, business_id, client_id)
    now = uow.now()
    client.revoked_at = now
    # An access token is checked by its own row, not its client's: end them here too.
    uow.session.execute(
        update(OAuthToken)
        .where(OAuthToken.client_id == client_id, OAuthToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    append_event(
        uow, LogEntry(kind="client.revoked", actor=actor, business_id=business_id, detail=client_id)
    )
    uow.commit()


def _own_staff(uow: UnitOfWork, business_id: uuid.UUID, staff_id: uuid.UUID) -> StaffUser:
    user = uow.session.get(StaffUser, staff_id, with_for_update=True)
    if user is None or user.business_id != business_id:
        raise StaffNotFoundError(f"No staff user {staff_id}.")
    return user


def _keep_an_owner(uow: UnitOfWork, business_id: uuid.UUID, leaving: StaffUser) -> None:
    """Refuse when `leaving` is the business's last owner who can still sign in."""
    if leaving.role != StaffRole.OWNER.value or leaving.disabled_at is not None:
        return
    # Locked, so two owners demoting each other at once cannot both succeed.
    owners = uow.session.scalars(
        select(StaffUser.id)
        .where(
            StaffUser.business_id == business_id,
            StaffUser.role == StaffRole.OWNER.value,
            StaffUser.disabled_at.is_(None),
        )
        .with_for_update()
    ).all()
    if not set(owners) - {leaving.id}:
        raise LastOwnerError("A business needs at least one owner who can sign in.")


def change_staff_role(
    uow: UnitOfWork, business_id: uuid.UUID, staff_id: uuid.UUID, role: StaffRole, *, actor: str
) -> None:
    """Give a staff user another role (never taking the last owner's); commit."""
    user = _own_staff(uow, business_id, staff_id)
    if user.role == role.value:
        return
    if role is not StaffRole.OWNER:
        _keep_an_owner(uow, business_id, user)
    user.role = role.value
    append_event(
        uow,
        LogEntry(
            kind="staff.role_changed",
            actor=actor,
            business_id=business_id,
            detail=f"{user.id} {role.value}",
        ),
    )
    uow.commit()


def set_staff_disabled(
    uow: UnitOfWork, business_id: uuid.UUID, staff_id: uuid.UUID, disabled: bool, *, actor: str
) -> None:
    """Stop a staff user signing in (their session ends at the next page), or let them again."""
    user = _own_staff(uow, business_id, staff_id)
    if (user.disabled_at is not None) == disabled:
        return
    if disabled:
        _keep_an_owner(uow, business_id, user)
    user.disabled_at = uow.now() if disabled else None
    append_event(
        uow,
        LogEntry(
            kind="staff.disabled" if disabled else "staff.enabled",
            actor=actor,
            business_id=business_id,
            detail=str(user.id),
        ),
    )
    uow.commit()
