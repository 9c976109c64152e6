"""OAuth endpoints: authorize (→ the vault's consent screen → back), token, revoke,
introspect, and the RFC 8414 metadata."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from authlib.oauth2 import OAuth2Error
from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from broker.businesses.models import OAuthClient
from broker.businesses.services import business_snapshot
from broker.oauth.models import PendingAuthorization
from broker.oauth.rich_authorization import AuthorizationRequestError, requested_terms
from broker.oauth.server import EmanetAuthorizationServer
from broker.oauth.tokens import PENDING_LIFETIME, issue_code
from schemas.agreements import AgreementStatus
from vault.agreements.models import Agreement
from vault.agreements.services import Context, request_agreement
from vault.unit_of_work import Vault
from vault.web_session import current_customer, customer_required

blueprint = Blueprint("oauth", __name__, template_folder="templates")
server = EmanetAuthorizationServer()
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _vault() -> Vault:
    vault: Vault = current_app.extensions["emanet"].vault
    return vault


def _to_client(redirect_uri: str, params: dict[str, str | None]) -> Response:
    # RFC 9207: every authorization response names its issuer. 303 so a POST is not repeated.
    query = {k: v for k, v in params.items() if v is not None}
    query["iss"] = _vault().issuer
    separator = "&" if "?" in redirect_uri else "?"
    response = redirect(redirect_uri + separator + urlencode(query), 303)
    response.headers.update(NO_STORE)
    return response


def _refuse(message: str) -> tuple[str, int]:
    # Never redirect to an address we could not verify (RFC 6749 §4.1.2.1).
    return render_template("oauth/error.html", message=message), 400


@blueprint.get("/oauth/authorize")
def authorize() -> Response | tuple[str, int]:
    """Validate the request, record a pending agreement, and send the browser to consent."""
    args = request.args
    if "request_uri" in args or "request" in args:
        return _refuse(_("Request objects are not supported; send the parameters directly."))
    with _vault().unit_of_work() as uow:
        g.oauth_uow = uow
        client = uow.session.get(OAuthClient, args.get("client_id", ""))
        redirect_uri = args.get("redirect_uri", "")
        if client is None or client.revoked_at is not None:
            return _refuse(_("This application is not registered with Emanet."))
        if redirect_uri not in client.redirect_uris:
            return _refuse(_("This redirect address is not registered for the application."))
        state = args.get("state")
        try:
            server.get_consent_grant(end_user=None)
            terms = requested_terms(args.get("authorization_details"), args.get("scope"))
        except OAuth2Error as error:
            return _to_client(
                redirect_uri,
                {"error": error.error, "error_description": error.description, "state": state},
            )
        except AuthorizationRequestError as error:
            return _to_client(
                redirect_uri,
                {"error": error.error, "error_description": error.description, "state": state},
            )
        agreement = request_agreement(
            uow,
            business=business_snapshot(uow, client.business_id),
            terms=terms,
            client_id=client.client_id,
            context=Context(
                actor=f"client:{client.client_id}",
                ip=request.remote_addr,
                user_agent=request.user_agent.string,
            ),
        )
        pending = PendingAuthorization(
            handle=secrets.token_urlsafe(24),
            client_id=client.client_id,
            agreement_id=agreement.id,
            redirect_uri=redirect_uri,
            state=state,
            code_challenge=args["code_challenge"],
            scope=args.get("scope"),
            created_at=uow.now(),
            expires_at=uow.now() + PENDING_LIFETIME,
        )
        uow.session.add(pending)
        uow.commit()
        resume = url_for("oauth.resume", handle=pending.handle)
    return redirect(url_for("vault_consent.consent", agreement_id=agreement.id, next=resume), 303)


@blueprint.get("/oauth/authorize/resume/<handle>")
@customer_required
def resume(handle: str) -> Response | tuple[str, int]:
    """Come back from the consent screen: issue the code, or tell the client it was declined."""
    with _vault().unit_of_work() as uow:
        pending = uow.session.get(PendingAuthorization, handle, with_for_update=True)
        if pending is None or pending.completed_at is not None or pending.expires_at <= uow.now():
            return _refuse(_("This sign-in link has already been used or has expired."))
        agreement = uow.session.get(Agreement, pending.agreement_id)
        customer_id = current_customer()
        if agreement is None or agreement.customer_id != customer_id or customer_id is None:
            return _refuse(_("This request belongs to someone else."))
        if agreement.status == AgreementStatus.REQUESTED:
            return redirect(
                url_for("vault_consent.consent", agreement_id=agreement.id, next=request.path), 303
            )
        if agreement.status != AgreementStatus.ACTIVE:
            pending.completed_at = uow.now()
            uow.commit()
            return _to_client(
                pending.redirect_uri, {"error": "access_denied", "state": pending.state}
            )
        code = issue_code(uow, pending, customer_id)
        uow.commit()
        return _to_client(pending.redirect_uri, {"code": code, "state": pending.state})


def _with_uow(endpoint: str) -> Response:
    # One transaction per call. It commits on errors too: a reused code or a replayed refresh
    # token must stay revoked even though the request itself fails.
    with _vault().unit_of_work() as uow:
        g.oauth_uow = uow
        if endpoint == "token":
            response = server.create_token_response()
        else:
            response = server.create_endpoint_response(endpoint)
        uow.commit()
    response.headers.update(NO_STORE)
    return response


@blueprint.post("/oauth/token")
def token() -> Response:
    """The token endpoint (RFC 6749 §3.2)."""
    return _with_uow("token")


@blueprint.post("/oauth/revoke")
def revoke() -> Response:
    """Token revocation (RFC 7009)."""
    return _with_uow("revocation")


@blueprint.post("/oauth/introspect")
def introspect() -> Response:
    """Token introspection (RFC 7662)."""
    return _with_uow("introspection")


@blueprint.get("/.well-known/jwks.json")
def jwks() -> Response:
    """The public keys that sign consent receipts (RFC 7517 §5)."""
    response = jsonify(_vault().provider.public_jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@blueprint.get("/.well-known/oauth-authorization-server")
def metadata() -> Response:
    """Authorization server metadata (RFC 8414 §2)."""
    issuer = _vault().issuer
    return jsonify(
        {
            "issuer": issuer,
            "authorization_endpoint": issuer + "/oauth/authorize",
            "token_endpoint": issuer + "/oauth/token",
            "revocation_endpoint": issuer + "/oauth/revoke",
            "introspection_endpoint": issuer + "/oauth/introspect",
            "jwks_uri": issuer + "/.well-known/jwks.json",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "revocation_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
            ],
            "introspection_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
            ],
            "authorization_details_types_supported": ["emanet_data_sharing"],
            "authorization_response_iss_parameter_supported": True,
            "scopes_supported": ["bulk_sync"],
            "service_documentation": issuer + "/api/v1/openapi.json",
        }
    )
