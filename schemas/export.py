"""The machine-readable export of everything a customer's vault holds (GDPR Art. 15, 20).

Each section is a list of one row model; the ZIP writes the same rows as `vault.json` and
as one CSV per section (the columns are the model's fields, in order). Who acted is given by
role (`customer`, `business`, `client`, `staff`, `system`, `operator`) and in words, never by
another person's identifier.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, JsonValue

# Version 2 added agreements, their events, receipts and the access log, and actors in words.
EXPORT_FORMAT = "emanet-vault-export/2"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ExportedAccount(_Frozen):
    id: str
    email: str
    locale: str
    created_at: datetime


class ExportedField(_Frozen):
    key: str
    label: str
    value: JsonValue
    version: int
    updated_at: datetime


class ExportedFieldVersion(_Frozen):
    key: str
    version: int
    value: JsonValue | None
    deleted: bool
    changed_at: datetime
    changed_by: str
    changed_by_in_words: str


class ExportedInteraction(_Frozen):
    id: str
    kind: str
    occurred_at: datetime
    logged_by: str
    logged_by_in_words: str
    business_id: str | None
    summary: str | None
    details: str | None
    amount: Decimal | None
    currency: str | None
    created_at: datetime


class ExportedAgreement(_Frozen):
    id: str
    business_id: str
    business_name: str
    business: JsonValue  # the business as it was shown at consent
    status: str  # as of the export (an active agreement past its term reads "expired")
    restricted: bool
    terms: JsonValue
    granted_fields: dict[str, str]
    version: int
    supersedes_id: str | None
    valid_from: datetime | None
    valid_until: datetime | None
    created_at: datetime
    decided_at: datetime | None
    ended_at: datetime | None


class ExportedAgreementEvent(_Frozen):
    id: int
    agreement_id: str
    kind: str
    at: datetime
    actor: str
    actor_in_words: str
    ip: str | None  # only where the customer acted: their own address, nobody else's
    user_agent: str | None
    state: JsonValue  # the agreement's state after the event


class ExportedReceipt(_Frozen):
    id: str
    agreement_id: str
    event_id: int
    kind: str
    kid: str
    issued_at: datetime
    jws: str  # compact JWS, exactly as issued; check it against /.well-known/jwks.json


class ExportedAccessEvent(_Frozen):
    seq: int
    at: datetime
    kind: str
    outcome: str
    actor: str
    actor_in_words: str
    business_id: str | None
    business_name: str | None
    agreement_id: str | None
    purpose: str | None
    fields: list[str] | None


class ExportHeader(_Frozen):
    """What `vault.json` starts with, before the sections."""

    format: str = EXPORT_FORMAT
    exported_at: datetime
    language: str  # of the labels and the "in words" columns
    account: ExportedAccount


class VaultExport(ExportHeader):
    """Everything the vault holds for one customer, decrypted."""

    fields: list[ExportedField]
    field_history: list[ExportedFieldVersion]
    interactions: list[ExportedInteraction]
    agreements: list[ExportedAgreement]
    agreement_events: list[ExportedAgreementEvent]
    receipts: list[ExportedReceipt]
    access_log: list[ExportedAccessEvent]


# Section name (the key in vault.json, the CSV's file name) → its row model, in file order.
EXPORT_SECTIONS: dict[str, type[BaseModel]] = {
    "fields": ExportedField,
    "field_history": ExportedFieldVersion,
    "interactions": ExportedInteraction,
    "agreements": ExportedAgreement,
    "agreement_events": ExportedAgreementEvent,
    "receipts": ExportedReceipt,
    "access_log": ExportedAccessEvent,
}
