"""The claims of a consent receipt: Kantara Consent Receipt v1.1 and an ISO/IEC TS 27560 record.

Specifications followed:
- Kantara Initiative, Consent Receipt Specification v1.1.0 (2018-02-20), §4.3-§4.5; its
  fields sit at the top level of the payload under their Kantara names.
- ISO/IEC TS 27560:2023, Consent record information structure; its information elements sit
  under `consentRecord`, named as in the DPVCG guide "Consent Records and Receipts as per
  ISO/IEC TS 27560:2023 using DPV" (metadata, processing, party and event fields).
- RFC 7519 §4.1 registered claims (`iss`, `sub`, `iat`, `jti`), plus `emanet:*` claims.

Kantara v1.1 field         ← Emanet source
  version                  ← "KI-CR-v1.1.0" (§4.3.1)
  jurisdiction             ← business snapshot `country` (the controller's)
  consentTimestamp         ← time of the agreement event, epoch seconds (§4.3.3)
  collectionMethod         ← consent screen or vault agreement page, by receipt kind
  consentReceiptID         ← receipt id, a UUID-4 (§4.3.5)
  language                 ← language the customer decided in (`Context.language`)
  piiPrincipalId           ← the customer's pairwise id at this business (services.principal_id)
  piiControllers[]         ← snapshot: piiController `legal_name`; contact and email
                             `privacy_email`; address {streetAddress `privacy_address`,
                             addressCountry `country`} (schema.org PostalAddress, §4.4.6);
                             piiControllerUrl `policy_url`; phone only if the snapshot has one
  policyUrl                ← snapshot `policy_url`
  services[].service       ← snapshot `legal_name`
  services[].purposes[]    ← purpose `purpose_description`; purposeCategory [DPV purpose IRI];
                             consentType "EXPLICIT"; piiCategory granted field keys;
                             primaryPurpose true; termination from validity and retention;
                             thirdPartyDisclosure / thirdPartyName from terms `third_parties`
  sensitive, spiCat        ← granted fields of HIGH sensitivity in schemas.field_catalogue
ISO/IEC TS 27560 element   ← Emanet source
  schema_version, record_id, receipt_id  ← RECORD_SCHEMA, agreement id, receipt id
  pii_principal_id         ← as piiPrincipalId
  privacy_notice           ← the terms shown: agreement id and version, and the policy URL
  language                 ← as above
  purposes[]               ← purpose, purpose_type (DPV), lawful_basis (+ GDPR Art. 6(1)),
                             pii_information (every requested field: mode, granted,
                             sensitivity), pii_controllers, collection_method,
                             processing_method (frequency), storage_locations, retention_period,
                             jurisdiction, recipient_third_parties, withdrawal_method, validity
  parties[]                ← the business (controller) and each named third party
  event                    ← event_time, event_type (receipt kind), event_state (given,
                             refused, withdrawn), consent_status (DPV), consent_type,
                             event_by / entity_id (who acted), validity_duration
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas.agreements import INTERACTIONS, AgreementTerms, BusinessSnapshot, LegalBasis
from schemas.field_catalogue import FIELD_CATALOGUE, Sensitivity
from vault.receipts.models import ReceiptKind

KANTARA_VERSION = "KI-CR-v1.1.0"
RECORD_SCHEMA = "emanet-consent-record/1"
DPV = "https://w3id.org/dpv#"
GDPR_ARTICLE = {  # legal basis → (GDPR Art. 6(1) point, DPV concept)
    LegalBasis.CONSENT: ("GDPR Art. 6(1)(a)", "Consent"),
    LegalBasis.CONTRACT: ("GDPR Art. 6(1)(b)", "Contract"),
    LegalBasis.LEGAL_OBLIGATION: ("GDPR Art. 6(1)(c)", "LegalObligation"),
    LegalBasis.LEGITIMATE_INTEREST: ("GDPR Art. 6(1)(f)", "LegitimateInterest"),
}
ON_SCREEN = "Emanet consent screen: the customer chose field by field and confirmed"
IN_VAULT = "Emanet vault: on the agreement's page the customer "
KIND_STATES = {  # kind → (27560 event state, DPV consent status, collection method)
    ReceiptKind.GRANTED: ("given", "ConsentGiven", ON_SCREEN),
    ReceiptKind.PARTIALLY_GRANTED: ("given", "ConsentGiven", ON_SCREEN),
    ReceiptKind.AMENDED: ("given", "RenewedConsentGiven", ON_SCREEN),
    ReceiptKind.DECLINED: ("refused", "ConsentRefused", ON_SCREEN),
    ReceiptKind.REVOKED: ("withdrawn", "ConsentWithdrawn", IN_VAULT + "withdrew consent"),
    ReceiptKind.NARROWED: ("given", "ConsentGiven", IN_VAULT + "took fields out"),
}


@dataclass(frozen=True)
class ReceiptFacts:
    """Everything a receipt states, gathered from the agreement and its event."""

    receipt_id: uuid.UUID
    kind: ReceiptKind
    issuer: str
    issued_at: datetime
    principal_id: str
    agreement_id: uuid.UUID
    supersedes_id: uuid.UUID | None
    version: int
    status: str
    terms: AgreementTerms
    business: BusinessSnapshot
    granted: Mapping[str, str]
    valid_from: datetime | None
    valid_until: datetime | None
    event_at: datetime
    actor: str
    language: str


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _sensitivity(key: str) -> str:
    spec = FIELD_CATALOGUE.get(key)
    return spec.sensitivity.value if spec else Sensitivity.MEDIUM.value  # interactions


def _sensitive_keys(keys: list[str]) -> list[str]:
    return [key for key in keys if key != INTERACTIONS and _sensitivity(key) == Sensitivity.HIGH]


def _termination(facts: ReceiptFacts) -> str:
    retention = f"the business keeps what it pulled for at most {facts.terms.retention}"
    if facts.kind is ReceiptKind.DECLINED:
        return "Not given: the customer declined, so nothing may be read."
    if facts.kind is ReceiptKind.REVOKED:
        return f"Withdrawn by the customer at {_iso(facts.event_at)}; {retention} after that."
    return (
        f"Ends at {_iso(facts.valid_until)} ({facts.terms.duration} from "
        f"{_iso(facts.valid_from)}), or sooner when the customer withdraws it in the Emanet "
        f"vault; {retention} after the end."
    )


def _controller(business: BusinessSnapshot) -> dict[str, Any]:
    controller: dict[str, Any] = {
        "piiController": business.legal_name,
        "contact": business.privacy_email,
        "address": {"streetAddress": business.privacy_address, "addressCountry": business.country},
        "email": business.privacy_email,
        "piiControllerUrl": business.policy_url,
    }
    phone = getattr(business, "privacy_phone", None)
    if phone:
        controller["phone"] = phone
    return controller


def kantara_fields(facts: ReceiptFacts) -> dict[str, Any]:
    """Return the Kantara Consent Receipt v1.1 fields (§4.3-§4.5) of a receipt."""
    terms, business = facts.terms, facts.business
    granted = sorted(facts.granted)
    sensitive = _sensitive_keys(granted)
    third_parties = [party.name for party in terms.third_parties]
    purpose: dict[str, Any] = {
        "purpose": terms.purpose_description,
        "purposeCategory": [DPV + terms.purpose.value],
        "consentType": "EXPLICIT",
        "piiCategory": granted,
        "primaryPurpose": True,
        "termination": _termination(facts),
        "thirdPartyDisclosure": bool(third_parties),
    }
    if third_parties:
        purpose["thirdPartyName"] = ", ".join(third_parties)
    fields: dict[str, Any] = {
        "version": KANTARA_VERSION,
        "jurisdiction": business.country,
        "consentTimestamp": int(facts.event_at.timestamp()),
        "collectionMethod": KIND_STATES[facts.kind][2],
        "consentReceiptID": str(facts.receipt_id),
        "language": facts.language,
        "piiPrincipalId": facts.principal_id,
        "piiControllers": [_controller(business)],
        "policyUrl": business.policy_url,
        "services": [{"service": business.legal_name, "purposes": [purpose]}],
        "sensitive": bool(sensitive),
    }
    if sensitive:
        fields["spiCat"] = sensitive
    return fields


def consent_record(facts: ReceiptFacts) -> dict[str, Any]:
    """Return the ISO/IEC TS 27560 consent record information carried by a receipt."""
    terms, business = facts.terms, facts.business
    state, dpv_status, method = KIND_STATES[facts.kind]
    article, dpv_basis = GDPR_ARTICLE[terms.legal_basis]
    controller_id = f"urn:emanet:business:{business.business_id}"
    validity = {
        "duration": str(terms.duration),
        "from": _iso(facts.valid_from),
        "until": _iso(facts.valid_until),
    }
    by_customer = facts.actor.split(":", 1)[0] == "customer"
    pii_information = [
        {
            "pii_type": key,
            "pii_attribute_id": key,
            "access_mode": mode.value,
            "granted": facts.granted.get(key) == mode.value,
            "sensitivity": _sensitivity(key),
        }
        for key, mode in terms.field_modes().items()
    ]
    parties = [
        {
            "party_id": controller_id,
            "party_name": business.legal_name,
            "party_address": business.privacy_address,
            "party_contact": business.privacy_email,
            "party_email": business.privacy_email,
            "party_url": business.policy_url,
            "party_role": "controller",
            "party_type": "recipient",
        },
        *(
            {"party_name": p.name, "party_role": p.role, "jurisdiction": p.country}
            for p in terms.third_parties
        ),
    ]
    purpose = {
        "purpose": terms.purpose_description,
        "purpose_type": DPV + terms.purpose.value,
        "lawful_basis": {"basis": DPV + dpv_basis, "article": article},
        "pii_information": pii_information,
        "pii_controllers": [controller_id],
        "collection_method": method,
        "processing_method": {"frequency": terms.frequency.value},
        "storage_locations": [
            {"holder": "the customer's Emanet vault", "url": facts.issuer},
            {"holder": business.legal_name, "jurisdiction": business.country},
        ],
        "retention_period": str(terms.retention),
        "jurisdiction": business.country,
        "recipient_third_parties": [p.model_dump(mode="json") for p in terms.third_parties],
        "withdrawal_method": f"Any time, in the Emanet vault at {facts.issuer}/",
        "validity": validity,
    }
    return {
        "schema_version": RECORD_SCHEMA,
        "conforms_to": ["ISO/IEC TS 27560:2023", KANTARA_VERSION],
        "record_id": str(facts.agreement_id),
        "receipt_id": str(facts.receipt_id),
        "pii_principal_id": facts.principal_id,
        "privacy_notice": {
            "notice_id": f"urn:emanet:agreement:{facts.agreement_id}:v{facts.version}",
            "version": facts.version,
            "policy_url": business.policy_url,
        },
        "language": facts.language,
        "purposes": [purpose],
        "parties": parties,
        "event": {
            "event_time": _iso(facts.event_at),
            "event_type": facts.kind.value,
            "event_state": state,
            "consent_status": DPV + dpv_status,
            "consent_type": "explicit",
            "event_by": "pii_principal" if by_customer else facts.actor,
            "entity_id": facts.principal_id if by_customer else facts.actor,
            "validity_duration": validity,
        },
    }


def receipt_claims(facts: ReceiptFacts) -> dict[str, Any]:
    """Return the full JWT claim set of a consent receipt."""
    claims: dict[str, Any] = {
        "iss": facts.issuer,
        "sub": facts.principal_id,
        "iat": int(facts.issued_at.timestamp()),
        "jti": str(facts.receipt_id),
        **kantara_fields(facts),
        "consentRecord": consent_record(facts),
        "emanet:kind": facts.kind.value,
        "emanet:agreement_id": str(facts.agreement_id),
        "emanet:agreement_version": facts.version,
        "emanet:status": facts.status,
        "emanet:granted_fields": dict(sorted(facts.granted.items())),
        "emanet:requested_fields": {k: m.value for k, m in facts.terms.field_modes().items()},
    }
    if facts.supersedes_id:
        claims["emanet:supersedes"] = str(facts.supersedes_id)
    return claims
