"""What it takes to register a business, a staff user or an OAuth client."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from schemas.text_types import CountryCode, EmailAddress, ShortText, short_text

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


class StaffRole(StrEnum):
    """What a staff user may do in the portal."""

    OWNER = "owner"
    AGENT = "agent"
    COMPLIANCE = "compliance"
    VIEWER = "viewer"


class TokenEndpointAuthMethod(StrEnum):
    """How a client proves who it is at the token endpoint (RFC 7591 §2)."""

    CLIENT_SECRET_BASIC = "client_secret_basic"
    CLIENT_SECRET_POST = "client_secret_post"


def _check_web_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise PydanticCustomError(
            "url_invalid", "Write a full web address, for example https://shop.example/privacy."
        )
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise PydanticCustomError(
            "url_not_https", "Use an https:// address; plain http is allowed only on this machine."
        )
    return text


def _check_redirect_uri(text: str) -> str:
    _check_web_url(text)
    if urlsplit(text).fragment or "#" in text:
        raise PydanticCustomError(
            "redirect_uri_fragment", "A redirect URI must not have a #fragment (RFC 6749 §3.1.2)."
        )
    return text


WebUrl = Annotated[str, short_text(2000), AfterValidator(_check_web_url)]
RedirectUri = Annotated[str, short_text(2000), AfterValidator(_check_redirect_uri)]


class BusinessIn(BaseModel):
    """A business to register."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    legal_name: ShortText
    country: CountryCode
    privacy_email: EmailAddress
    privacy_address: short_text(500)
    policy_url: WebUrl


class ClientIn(BaseModel):
    """An OAuth client to register for a business."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ShortText
    redirect_uris: Annotated[list[RedirectUri], Field(min_length=1, max_length=10)]
    token_endpoint_auth_method: TokenEndpointAuthMethod = (
        TokenEndpointAuthMethod.CLIENT_SECRET_BASIC
    )


class StaffIn(BaseModel):
    """A staff user to add to a business."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    email: EmailAddress
    display_name: ShortText
    role: StaffRole
