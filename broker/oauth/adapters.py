"""Our client and token records seen through Authlib's ClientMixin and TokenMixin."""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass

from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin

from broker.businesses.models import OAuthClient
from broker.businesses.services import hash_client_secret
from broker.oauth.models import OAuthToken
from vault.unit_of_work import UnitOfWork

GRANT_TYPES = {"authorization_code", "refresh_token", "client_credentials"}


class Client(ClientMixin):
    """A registered confidential client (RFC 6749 §2.1); redirect URIs match exactly."""

    def __init__(self, record: OAuthClient, uow: UnitOfWork) -> None:
        self.record = record
        self._uow = uow

    @property
    def client_id(self) -> str:
        return self.record.client_id

    @property
    def business_id(self) -> uuid.UUID:
        return self.record.business_id

    def get_client_id(self) -> str:
        return self.record.client_id

    def get_default_redirect_uri(self) -> None:
        # OAuth 2.1 §4.1.1: the request must name its redirect URI; we never guess one.
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        return scope or ""

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # RFC 9700 §4.1.3: simple string comparison, no patterns, no normalisation.
        return redirect_uri in self.record.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        expected = hash_client_secret(self._uow, client_secret)
        return hmac.compare_digest(self.record.secret_hash, expected)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in GRANT_TYPES


@dataclass
class Token(TokenMixin):
    """A stored token; live only while neither revoked nor expired."""

    record: OAuthToken
    now_timestamp: float

    def check_client(self, client: Client) -> bool:
        return self.record.client_id == client.client_id

    def get_scope(self) -> str:
        return self.record.scope or ""

    def get_expires_in(self) -> int:
        return int(self.record.access_expires_at.timestamp() - self.now_timestamp)

    def is_revoked(self) -> bool:
        return self.record.revoked_at is not None

    def is_expired(self) -> bool:
        return self.record.access_expires_at.timestamp() <= self.now_timestamp


@dataclass(frozen=True)
class CodeRecord:
    """A consumed authorization code as Authlib's grant expects to see it."""

    redirect_uri: str
    scope: str | None
    code_challenge: str
    customer_id: uuid.UUID
    agreement_id: uuid.UUID
    code_hash: bytes

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope or ""


@dataclass(frozen=True)
class AgreementGrantee:
    """The "user" a token is issued for: one customer's agreement (tokens bind to it)."""

    customer_id: uuid.UUID
    agreement_id: uuid.UUID

    def get_user_id(self) -> str:
        return str(self.customer_id)
