"""Bodies of the resource API (the OpenAPI document is generated from these)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from schemas.agreements import AgreementTerms, FieldRequest
from schemas.durations import Duration
from schemas.text_types import short_text


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class FieldOut(_Out):
    """One granted field's value."""

    value: JsonValue
    version: int
    updated_at: datetime


class ProfileOut(_Out):
    """The fields a business may see of one customer, and the agreement that lets it."""

    customer: str
    agreement_id: str
    purpose: str
    fields: dict[str, FieldOut]


class FieldGrantOut(_Out):
    """A field and the access mode asked for or granted."""

    key: str
    mode: str


class AgreementEventOut(_Out):
    """One step in an agreement's history, as the business sees it."""

    kind: str
    actor: str
    at: datetime
    version: int
    status: str


class AgreementOut(_Out):
    """An agreement between this business and one customer."""

    id: str
    customer: str | None
    status: str
    version: int
    restricted: bool
    purpose: str
    purpose_description: str
    legal_basis: str
    requested_fields: list[FieldGrantOut]
    granted_fields: list[FieldGrantOut]
    duration: str
    retention: str
    frequency: str
    valid_from: datetime | None
    valid_until: datetime | None
    supersedes: str | None
    created_at: datetime
    updated_at: datetime


class ReceiptOut(_Out):
    """A signed consent receipt (compact JWS; verify it with /.well-known/jwks.json)."""

    id: str
    kind: str
    jws: str
    issued_at: datetime


class AgreementDetailOut(AgreementOut):
    """An agreement with its full history and receipts."""

    history: list[AgreementEventOut]
    receipts: list[ReceiptOut]


class AgreementPage(_Out):
    """One page of agreements; pass `next_cursor` back as `cursor` for the next."""

    items: list[AgreementOut]
    next_cursor: str | None


class ProfilePage(_Out):
    """One page of granted profiles for a bulk sync."""

    items: list[ProfileOut]
    next_cursor: str | None


class InteractionOut(_Out):
    """An interaction this business logged in the customer's vault."""

    id: str
    kind: str
    occurred_at: datetime
    summary: str | None
    details: str | None
    amount: str | None
    currency: str | None


class InteractionList(_Out):
    """This business's interactions with one customer, newest first."""

    items: list[InteractionOut]


class AmendmentIn(BaseModel):
    """More fields or a longer term for a connected customer; it waits in their inbox."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fields: list[FieldRequest] = Field(default_factory=list, max_length=40)
    duration: Duration | None = None
    purpose_description: short_text(500) | None = None


class Created(_Out):
    """Where to find what was just created."""

    id: str
    status: str


class InviteIn(BaseModel):
    """An invite to hand out at the counter: the request it makes, and how long it works."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: short_text(200)
    terms: AgreementTerms
    valid_for: Duration | None = None


class InviteOut(_Out):
    """A created invite: the link, and its QR code to print."""

    code: str
    url: str
    qr_svg: str
    qr_png: str
    expires_at: datetime | None
