"""What the settings pages read and do: staff, OAuth clients and webhook endpoints of a business.

The changes themselves are the broker's use cases (broker.businesses.services,
broker.webhooks.services); here are the reads shaped for the screens, each filtered by the
business, and the few wrappers that make a broker step one committed use case.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from broker.businesses.models import OAuthClient, StaffUser
from broker.businesses.services import (
    CLIENT_ID,
    ClientNotFoundError,
    IssuedClient,
    StaffNotFoundError,
    register_client,
)
from broker.webhooks.models import WebhookEndpoint
from broker.webhooks.services import EndpointNotFoundError
from schemas.businesses import ClientIn
from vault.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class StaffRow:
    """A staff member as the settings show them."""

    id: uuid.UUID
    display_name: str
    email: str
    role: str
    created_at: datetime
    disabled_at: datetime | None


@dataclass(frozen=True)
class ClientRow:
    """An OAuth client as the settings show it (never its secret, which is only hashed)."""

    client_id: str
    name: str
    redirect_uris: list[str]
    token_endpoint_auth_method: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class EndpointRow:
    """A webhook endpoint as the settings show it (never its signing secret)."""

    id: uuid.UUID
    url: str
    event_types: list[str]
    created_at: datetime
    disabled_at: datetime | None


@dataclass(frozen=True)
class SettingsCounts:
    """How many of each the business has, for the overview."""

    staff: int
    clients: int
    webhooks: int


def _staff_row(user: StaffUser) -> StaffRow:
    return StaffRow(
        user.id, user.display_name, user.email, user.role, user.created_at, user.disabled_at
    )


def list_staff(uow: UnitOfWork, business_id: uuid.UUID) -> list[StaffRow]:
    """Return the business's staff, those who can sign in first, by name."""
    users = uow.session.scalars(
        select(StaffUser)
        .where(StaffUser.business_id == business_id)
        .order_by(StaffUser.display_name, StaffUser.email)
    )
    return sorted((_staff_row(u) for u in users), key=lambda row: row.disabled_at is not None)


def get_staff(uow: UnitOfWork, business_id: uuid.UUID, staff_id: uuid.UUID) -> StaffRow:
    """Return one of the business's staff members, or raise StaffNotFoundError."""
    user = uow.session.scalar(
        select(StaffUser).where(StaffUser.id == staff_id, StaffUser.business_id == business_id)
    )
    if user is None:
        raise StaffNotFoundError(str(staff_id))
    return _staff_row(user)


def _client_row(client: OAuthClient) -> ClientRow:
    return ClientRow(
        client.client_id,
        client.name,
        list(client.redirect_uris),
        client.token_endpoint_auth_method,
        client.created_at,
        client.revoked_at,
    )


def list_clients(uow: UnitOfWork, business_id: uuid.UUID) -> list[ClientRow]:
    """Return the business's OAuth clients, those in use first, newest first."""
    clients = uow.session.scalars(
        select(OAuthClient)
        .where(OAuthClient.business_id == business_id)
        .order_by(OAuthClient.created_at.desc(), OAuthClient.client_id)
    )
    return sorted((_client_row(c) for c in clients), key=lambda row: row.revoked_at is not None)


def get_client(uow: UnitOfWork, business_id: uuid.UUID, client_id: str) -> ClientRow:
    """Return one of the business's OAuth clients, or raise ClientNotFoundError."""
    if not CLIENT_ID.fullmatch(client_id):
        raise ClientNotFoundError(client_id)
    client = uow.session.scalar(
        select(OAuthClient).where(
            OAuthClient.client_id == client_id, OAuthClient.business_id == business_id
        )
    )
    if client is None:
        raise ClientNotFoundError(client_id)
    return _client_row(client)


def create_client(
    uow: UnitOfWork, business_id: uuid.UUID, client: ClientIn, *, actor: str
) -> IssuedClient:
    """Register an OAuth client for the business; commit; return its id and only copy of secret."""
    issued = register_client(uow, business_id, client, actor=actor)
    uow.commit()
    return issued


def _endpoint_row(endpoint: WebhookEndpoint) -> EndpointRow:
    return EndpointRow(
        endpoint.id,
        endpoint.url,
        list(endpoint.event_types),
        endpoint.created_at,
        endpoint.disabled_at,
    )


def list_endpoints(uow: UnitOfWork, business_id: uuid.UUID) -> list[EndpointRow]:
    """Return the business's webhook endpoints, those in use first, newest first."""
    endpoints = uow.session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.business_id == business_id)
        .order_by(WebhookEndpoint.created_at.desc(), WebhookEndpoint.id)
    )
    return sorted(
        (_endpoint_row(e) for e in endpoints), key=lambda row: row.disabled_at is not None
    )


def get_endpoint(uow: UnitOfWork, business_id: uuid.UUID, endpoint_id: uuid.UUID) -> EndpointRow:
    """Return one of the business's webhook endpoints, or raise EndpointNotFoundError."""
    endpoint = uow.session.scalar(
        select(WebhookEndpoint).where(
            WebhookEndpoint.id == endpoint_id, WebhookEndpoint.business_id == business_id
        )
    )
    if endpoint is None:
        raise EndpointNotFoundError(str(endpoint_id))
    return _endpoint_row(endpoint)


def settings_counts(uow: UnitOfWork, business_id: uuid.UUID) -> SettingsCounts:
    """Return how many staff, clients in use and endpoints in use the business has."""
    staff = select(func.count(StaffUser.id)).where(
        StaffUser.business_id == business_id, StaffUser.disabled_at.is_(None)
    )
    clients = select(func.count(OAuthClient.client_id)).where(
        OAuthClient.business_id == business_id, OAuthClient.revoked_at.is_(None)
    )
    webhooks = select(func.count(WebhookEndpoint.id)).where(
        WebhookEndpoint.business_id == business_id, WebhookEndpoint.disabled_at.is_(None)
    )
    return SettingsCounts(
        staff=uow.session.scalar(staff) or 0,
        clients=uow.session.scalar(clients) or 0,
        webhooks=uow.session.scalar(webhooks) or 0,
    )
