"""Data-sharing agreement terms: purpose, legal basis, fields and modes, term, retention."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from schemas.durations import Duration
from schemas.field_catalogue import FIELD_CATALOGUE
from schemas.text_types import CountryCode, ShortText, short_text

INTERACTIONS = "interactions"  # the relationship record, asked for like a field


class Purpose(StrEnum):
    """Purposes from the W3C Data Privacy Vocabulary (DPV) that a business may state."""

    SERVICE_PROVISION = "ServiceProvision"
    CUSTOMER_CARE = "CustomerCare"
    MARKETING = "Marketing"
    PERSONALISATION = "Personalisation"
    DELIVERY = "Delivery"
    LOYALTY_PROGRAM = "LoyaltyProgram"
    BILLING = "Billing"
    SERVICE_OPTIMISATION = "ServiceOptimisation"


class LegalBasis(StrEnum):
    """The GDPR Art. 6(1) ground the business relies on."""

    CONSENT = "consent"  # (a)
    CONTRACT = "contract"  # (b)
    LEGAL_OBLIGATION = "legal_obligation"  # (c)
    LEGITIMATE_INTEREST = "legitimate_interest"  # (f)


class AccessMode(StrEnum):
    """What a business may do with a field: read it, update it, or add interactions."""

    READ = "read"
    WRITE = "write"
    APPEND = "append"


class Frequency(StrEnum):
    """Whether the business reads once or keeps reading while the agreement lasts."""

    ONE_OFF = "one_off"
    ONGOING = "ongoing"


class AgreementStatus(StrEnum):
    """Where an agreement is in its life (DESIGN: the data-sharing agreement)."""

    REQUESTED = "requested"
    ACTIVE = "active"
    DECLINED = "declined"
    REVOKED = "revoked"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"


class ThirdParty(BaseModel):
    """A processor the business passes granted data to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ShortText
    country: CountryCode
    role: short_text(200) = "processor"


class FieldRequest(BaseModel):
    """One field a business asks for, with the access it wants."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    mode: AccessMode = AccessMode.READ

    @model_validator(mode="after")
    def _known_key_and_mode(self) -> Self:
        if self.key == INTERACTIONS:
            if self.mode is AccessMode.WRITE:
                raise PydanticCustomError(
                    "interactions_mode", "Interactions can be read or appended, not rewritten."
                )
            return self
        if self.key not in FIELD_CATALOGUE:
            raise PydanticCustomError(
                "field_unknown",
                "Unknown field {key}. Ask only for fields of the catalogue.",
                {"key": self.key},
            )
        if self.mode is AccessMode.APPEND:
            raise PydanticCustomError(
                "append_only_for_interactions",
                "Only interactions can be appended to; ask for read or write access.",
            )
        return self


class AgreementTerms(BaseModel):
    """What a business asks a customer to agree to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    purpose: Purpose
    purpose_description: short_text(500)
    legal_basis: LegalBasis = LegalBasis.CONSENT
    fields: Annotated[list[FieldRequest], Field(min_length=1, max_length=40)]
    duration: Duration
    retention: Duration
    frequency: Frequency = Frequency.ONGOING
    third_parties: Annotated[list[ThirdParty], Field(max_length=20)] = []

    @field_validator("fields")
    @classmethod
    def _each_field_once(cls, fields: list[FieldRequest]) -> list[FieldRequest]:
        keys = [f.key for f in fields]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise PydanticCustomError(
                "field_repeated",
                "Each field may be asked for once: {keys}.",
                {"keys": ", ".join(repeated)},
            )
        return fields

    def field_modes(self) -> dict[str, AccessMode]:
        """Return the requested fields as key → mode."""
        return {f.key: f.mode for f in self.fields}


class BusinessSnapshot(BaseModel):
    """The business as the customer was shown it when deciding (kept with the agreement)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    business_id: str
    legal_name: str
    country: str
    privacy_email: str
    privacy_address: str
    policy_url: str


class DataSharingAuthorizationDetail(BaseModel):
    """An RFC 9396 authorization_details entry of type `emanet_data_sharing`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["emanet_data_sharing"]
    fields: Annotated[list[FieldRequest | str], Field(min_length=1, max_length=40)]
    purpose: Purpose
    purpose_description: short_text(500)
    legal_basis: LegalBasis = LegalBasis.CONSENT
    duration: Duration
    retention: Duration
    frequency: Frequency = Frequency.ONGOING
    third_parties: Annotated[list[ThirdParty], Field(max_length=20)] = []

    def terms(self) -> AgreementTerms:
        """Return the agreement terms this detail asks for (a bare key means read access)."""
        requested = [
            FieldRequest(key=item) if isinstance(item, str) else item for item in self.fields
        ]
        return AgreementTerms(
            purpose=self.purpose,
            purpose_description=self.purpose_description,
            legal_basis=self.legal_basis,
            fields=requested,
            duration=self.duration,
            retention=self.retention,
            frequency=self.frequency,
            third_parties=self.third_parties,
        )


def narrowed(requested: Mapping[str, AccessMode], granted: Mapping[str, AccessMode]) -> bool:
    """Tell whether `granted` is within what was requested (never more fields or modes)."""
    return all(requested.get(key) is mode for key, mode in granted.items())
