"""Bearer tokens on the resource API (RFC 6750), from the Authorization header only."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request

from broker.api.problems import Problem
from broker.gate import Caller
from broker.oauth.tokens import LiveToken, live_access_token
from vault.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Bearer:
    """The token a request presented, and who it speaks for."""

    token: LiveToken
    caller: Caller


def _challenge(error: str, description: str) -> dict[str, str]:
    return {
        "WWW-Authenticate": f'Bearer realm="emanet", error="{error}", '
        f'error_description="{description}"'
    }


def authenticate_bearer(uow: UnitOfWork) -> Bearer:
    """Return the live token of this request or raise a 400/401 problem."""
    if "access_token" in request.args or "access_token" in request.form:
        # RFC 9700 §2.5: tokens in URLs leak into logs and referrers.
        raise Problem(
            400,
            "token-in-query",
            "Access tokens in the URL are refused",
            "Send the token in the Authorization header: Bearer <token>.",
            headers=_challenge("invalid_request", "token in query string"),
        )
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Problem(
            401,
            "unauthenticated",
            "An access token is required",
            "Send the token in the Authorization header: Bearer <token>.",
            headers={"WWW-Authenticate": 'Bearer realm="emanet"'},
        )
    record = live_access_token(uow, value.strip())
    if record is None:
        raise Problem(
            401,
            "invalid-token",
            "The access token is not valid",
            "It is unknown, expired or revoked. Get a new one from /oauth/token.",
            headers=_challenge("invalid_token", "unknown, expired or revoked"),
        )
    return Bearer(record, Caller(record.business_id, f"client:{record.client_id}"))
