"""Bodies of the resource API (the OpenAPI document is generated from these)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, JsonValue


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
