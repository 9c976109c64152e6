"""Authlib grants with the gaps DESIGN lists closed: S256 PKCE for every client, one-use
codes, rotating refresh tokens whose replay revokes the family, tokens bound to agreements."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge

from broker.oauth.adapters import AgreementGrantee, Client, CodeRecord, Token
from broker.oauth.context import current_uow
from broker.oauth.tokens import consume_code, find_refresh_token, retire_refresh_token
from schemas.agreements import AgreementStatus
from vault.agreements.models import Agreement
from vault.agreements.services import current_status

AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


class S256Only(CodeChallenge):
    """RFC 7636 with `plain` refused and a challenge required of every client (RFC 9700 §2.1.1)."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge (S256).")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Only code_challenge_method=S256 is accepted.")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'.")
        super().validate_code_verifier(grant, result)

    def get_authorization_code_challenge(self, authorization_code: CodeRecord) -> str:
        return authorization_code.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code: CodeRecord) -> str:
        return "S256"


def _agreement_is_active(agreement_id: Any) -> bool:
    uow = current_uow()
    agreement = uow.session.get(Agreement, agreement_id)
    return agreement is not None and (
        current_status(agreement, uow.now()) is AgreementStatus.ACTIVE and not agreement.restricted
    )


class CodeGrant(grants.AuthorizationCodeGrant):
    """Authorization code grant (RFC 6749 §4.1); codes are issued by our consent flow."""

    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def save_authorization_code(self, code: str, request: Any) -> None:
        raise RuntimeError("codes are issued by broker.oauth.tokens.issue_code")

    def query_authorization_code(self, code: str, client: Client) -> CodeRecord | None:
        record = consume_code(current_uow(), code, client.client_id)
        if record is None:
            return None
        return CodeRecord(
            record.redirect_uri,
            record.scope,
            record.code_challenge,
            record.customer_id,
            record.agreement_id,
            record.code_hash,
        )

    def delete_authorization_code(self, authorization_code: CodeRecord) -> None:
        """Nothing to do: the code was consumed atomically when it was looked up."""

    def authenticate_user(self, authorization_code: CodeRecord) -> AgreementGrantee | None:
        if not _agreement_is_active(authorization_code.agreement_id):
            raise InvalidGrantError("The agreement behind this code is no longer active.")
        return AgreementGrantee(authorization_code.customer_id, authorization_code.agreement_id)


class RotatingRefreshGrant(grants.RefreshTokenGrant):
    """Refresh tokens rotate on every use; a replayed one revokes its family (RFC 9700 §4.14)."""

    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        uow = current_uow()
        record = find_refresh_token(uow, refresh_token)
        if record is None or record.agreement_id is None:
            return None
        if not _agreement_is_active(record.agreement_id):
            return None
        return Token(record, uow.now().timestamp())

    def authenticate_user(self, refresh_token: Token) -> AgreementGrantee | None:
        agreement = current_uow().session.get(Agreement, refresh_token.record.agreement_id)
        if agreement is None or agreement.customer_id is None:
            return None
        return AgreementGrantee(agreement.customer_id, agreement.id)

    def revoke_old_credential(self, refresh_token: Token) -> None:
        retire_refresh_token(current_uow(), refresh_token.record, current_uow().now())


class BulkSyncGrant(grants.ClientCredentialsGrant):
    """Client credentials for a business's bulk sync; reads still pass the gate per agreement."""

    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
