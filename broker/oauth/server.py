"""The authorization server: Authlib's Flask server with our storage and endpoints."""

from __future__ import annotations

import uuid
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from sqlalchemy import or_, select

from broker.businesses.models import OAuthClient
from broker.oauth.adapters import AgreementGrantee, Client, Token
from broker.oauth.context import current_uow
from broker.oauth.grants import BulkSyncGrant, CodeGrant, RotatingRefreshGrant, S256Only
from broker.oauth.models import OAuthToken
from broker.oauth.tokens import (
    ACCESS_LIFETIME,
    REFRESH_LIFETIME,
    new_secret,
    revoke_family,
    token_hash,
)
from broker.pairwise import subject_for
from schemas.agreements import AgreementStatus
from vault.agreements.models import Agreement
from vault.agreements.services import current_status

BULK_SYNC_SCOPE = "bulk_sync"


class EmanetAuthorizationServer(AuthorizationServer):
    """Authlib's server, storing token hashes only and binding tokens to agreements."""

    def __init__(self) -> None:
        super().__init__()
        self.register_grant(CodeGrant, [S256Only()])
        self.register_grant(RotatingRefreshGrant)
        self.register_grant(BulkSyncGrant)
        self.register_endpoint(TokenRevocation)
        self.register_endpoint(TokenIntrospection)

    def load_config(self, config: Any) -> None:
        lifetime = int(ACCESS_LIFETIME.total_seconds())
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                lambda *args, **kwargs: new_secret(),
                lambda *args, **kwargs: new_secret(),
                lambda client, grant_type: lifetime,
            ),
        )
        self.scopes_supported = None

    def query_client(self, client_id: str) -> Client | None:
        uow = current_uow()
        record = uow.session.get(OAuthClient, client_id)
        if record is None or record.revoked_at is not None:
            return None
        return Client(record, uow)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        uow = current_uow()
        client: Client = request.client
        grantee: AgreementGrantee | None = request.user
        family_id = code_hash = None
        if request.refresh_token is not None:
            family_id = request.refresh_token.record.family_id
        if request.authorization_code is not None:
            code_hash = request.authorization_code.code_hash
        scope = token.get("scope") or (None if grantee else BULK_SYNC_SCOPE)
        now = uow.now()
        uow.session.add(
            OAuthToken(
                access_hash=token_hash(uow, token["access_token"]),
                refresh_hash=token_hash(uow, token["refresh_token"])
                if token.get("refresh_token")
                else None,
                client_id=client.client_id,
                business_id=client.business_id,
                agreement_id=grantee.agreement_id if grantee else None,
                family_id=family_id or uuid.uuid4(),
                code_hash=code_hash,
                scope=scope,
                issued_at=now,
                access_expires_at=now + ACCESS_LIFETIME,
                refresh_expires_at=now + REFRESH_LIFETIME if token.get("refresh_token") else None,
            )
        )
        if grantee is not None:
            agreement = uow.session.get(Agreement, grantee.agreement_id)
            assert agreement is not None
            token["agreement_id"] = str(agreement.id)
            token["customer"] = subject_for(uow, client.business_id, grantee.customer_id)
            token["authorization_details"] = [
                {
                    "type": "emanet_data_sharing",
                    "agreement_id": str(agreement.id),
                    "fields": [{"key": k, "mode": m} for k, m in agreement.granted_fields.items()],
                    "purpose": agreement.terms.get("purpose"),
                }
            ]
        else:
            token["scope"] = BULK_SYNC_SCOPE


def _query_any_token(token_string: str) -> Token | None:
    uow = current_uow()
    digest = token_hash(uow, token_string)
    record = uow.session.scalar(
        select(OAuthToken).where(
            or_(OAuthToken.access_hash == digest, OAuthToken.refresh_hash == digest)
        )
    )
    return Token(record, uow.now().timestamp()) if record else None


class TokenRevocation(RevocationEndpoint):
    """RFC 7009: revoking either token of a grant ends the whole family."""

    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        return _query_any_token(token_string)

    def revoke_token(self, token: Token, request: OAuth2Request) -> None:
        revoke_family(current_uow(), token.record.family_id)


class TokenIntrospection(IntrospectionEndpoint):
    """RFC 7662: inactive the moment the agreement behind the token is no longer active."""

    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        return _query_any_token(token_string)

    def check_permission(self, token: Token, client: Client, request: OAuth2Request) -> bool:
        # A business may introspect its own tokens only (tenant isolation).
        return token.record.business_id == client.business_id

    def introspect_token(self, token: Token) -> dict[str, Any]:
        uow = current_uow()
        record = token.record
        if record.agreement_id is not None:
            agreement = uow.session.get(Agreement, record.agreement_id)
            if (
                agreement is None
                or agreement.restricted
                or (current_status(agreement, uow.now()) is not AgreementStatus.ACTIVE)
            ):
                return {"active": False}
        return {
            "active": True,
            "client_id": record.client_id,
            "scope": record.scope or "",
            "token_type": "Bearer",
            "exp": int(record.access_expires_at.timestamp()),
            "iat": int(record.issued_at.timestamp()),
            "iss": uow.issuer,
            "agreement_id": str(record.agreement_id) if record.agreement_id else None,
        }
