"""The agreement a client asks for: RFC 9396 `authorization_details`, or the scope form."""

from __future__ import annotations

import json

from pydantic import ValidationError

from schemas.agreements import AgreementTerms, DataSharingAuthorizationDetail, Purpose

DETAIL_TYPE = "emanet_data_sharing"
MAX_DETAILS_LENGTH = 16_384
# The scope form carries no words of its own; these say each purpose in plain language.
PLAIN_PURPOSES = {
    Purpose.SERVICE_PROVISION: "To provide the service you asked for",
    Purpose.CUSTOMER_CARE: "To help you when you contact us",
    Purpose.MARKETING: "To tell you about offers",
    Purpose.PERSONALISATION: "To tailor what we show you",
    Purpose.DELIVERY: "To deliver what you ordered",
    Purpose.LOYALTY_PROGRAM: "To run our loyalty programme",
    Purpose.BILLING: "To bill you",
    Purpose.SERVICE_OPTIMISATION: "To improve our service",
}


class AuthorizationRequestError(ValueError):
    """The request cannot become an agreement; `error` is the OAuth error code to send back."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def _describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])


def terms_from_details(raw: str) -> AgreementTerms:
    """Read exactly one `emanet_data_sharing` entry from authorization_details (RFC 9396 §2)."""
    if len(raw) > MAX_DETAILS_LENGTH:
        raise AuthorizationRequestError("invalid_authorization_details", "Too long.")
    try:
        details = json.loads(raw)
    except json.JSONDecodeError:
        raise AuthorizationRequestError(
            "invalid_authorization_details", "authorization_details is not JSON."
        ) from None
    if not isinstance(details, list) or len(details) != 1 or not isinstance(details[0], dict):
        raise AuthorizationRequestError(
            "invalid_authorization_details",
            "authorization_details must be an array holding one emanet_data_sharing object.",
        )
    if details[0].get("type") != DETAIL_TYPE:
        raise AuthorizationRequestError(
            "invalid_authorization_details",
            f"Unknown authorization details type; use {DETAIL_TYPE}.",
        )
    try:
        return DataSharingAuthorizationDetail.model_validate(details[0]).terms()
    except ValidationError as exc:
        raise AuthorizationRequestError("invalid_authorization_details", _describe(exc)) from None


def terms_from_scope(scope: str) -> AgreementTerms:
    """Read `fields:<key>[:<mode>] … purpose:<code> [duration:P1Y] [retention:P30D]`."""
    fields: list[dict[str, str]] = []
    options: dict[str, str] = {}
    for token in scope.split():
        name, _, value = token.partition(":")
        if name == "fields" and value:
            key, _, mode = value.partition(":")
            fields.append({"key": key, "mode": mode or "read"})
        elif name in ("purpose", "duration", "retention", "frequency") and value:
            options[name] = value
        else:
            raise AuthorizationRequestError("invalid_scope", f"Unknown scope {token!r}.")
    purpose = options.get("purpose", "")
    try:
        plain = PLAIN_PURPOSES[Purpose(purpose)]
    except ValueError:
        raise AuthorizationRequestError(
            "invalid_scope", "Name a purpose, e.g. purpose:ServiceProvision."
        ) from None
    try:
        return AgreementTerms.model_validate(
            {
                "purpose": purpose,
                "purpose_description": plain,
                "fields": fields,
                "duration": options.get("duration", "P1Y"),
                "retention": options.get("retention", "P30D"),
                "frequency": options.get("frequency", "ongoing"),
            }
        )
    except ValidationError as exc:
        raise AuthorizationRequestError("invalid_scope", _describe(exc)) from None


def requested_terms(authorization_details: str | None, scope: str | None) -> AgreementTerms:
    """Return the terms asked for, preferring authorization_details when both are sent."""
    if authorization_details:
        return terms_from_details(authorization_details)
    if scope:
        return terms_from_scope(scope)
    raise AuthorizationRequestError(
        "invalid_request", "Send authorization_details or a scope naming fields and a purpose."
    )
