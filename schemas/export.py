"""The machine-readable export of everything a customer's vault holds (GDPR Art. 15, 20)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, JsonValue

EXPORT_FORMAT = "emanet-vault-export/1"


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


class ExportedInteraction(_Frozen):
    id: str
    kind: str
    occurred_at: datetime
    logged_by: str
    summary: str | None
    details: str | None
    amount: Decimal | None
    currency: str | None


class VaultExport(_Frozen):
    """Everything the vault holds for one customer, decrypted."""

    format: str = EXPORT_FORMAT
    exported_at: datetime
    account: ExportedAccount
    fields: list[ExportedField]
    field_history: list[ExportedFieldVersion]
    interactions: list[ExportedInteraction]
