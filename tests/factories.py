"""Factories that build businesses and agreements the way the product does."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from broker.businesses.services import IssuedClient, business_snapshot, create_business
from schemas.agreements import AccessMode, AgreementTerms
from schemas.businesses import BusinessIn, ClientIn
from vault.agreements.services import Context, decide_request, request_agreement
from vault.unit_of_work import Vault

REDIRECT_URI = "https://shop.example/callback"


def make_business(
    vault: Vault, name: str = "Köhnə Şəhər Antikvarları", redirect_uri: str = REDIRECT_URI
) -> tuple[uuid.UUID, IssuedClient]:
    """Register a business with one OAuth client."""
    with vault.unit_of_work() as uow:
        return create_business(
            uow,
            BusinessIn(
                legal_name=name,
                country="AZ",
                privacy_email="privacy@antiques.example",
                privacy_address="İçərişəhər, Qüllə küçəsi 5, Bakı",
                policy_url="https://antiques.example/privacy",
            ),
            ClientIn(name=f"{name} website", redirect_uris=[redirect_uri]),
        )


def terms_for(
    fields: Mapping[str, str], purpose: str = "CustomerCare", duration: str = "P1Y"
) -> AgreementTerms:
    """Return agreement terms asking for these fields (key → mode)."""
    return AgreementTerms.model_validate(
        {
            "purpose": purpose,
            "purpose_description": "Call you when a piece you collect comes in",
            "fields": [{"key": k, "mode": m} for k, m in fields.items()],
            "duration": duration,
            "retention": "P30D",
        }
    )


def make_request(
    vault: Vault,
    business_id: uuid.UUID,
    fields: Mapping[str, str],
    customer_id: uuid.UUID | None = None,
    **terms: str,
) -> uuid.UUID:
    """Record a pending request from a business."""
    with vault.unit_of_work() as uow:
        agreement = request_agreement(
            uow,
            business=business_snapshot(uow, business_id),
            terms=terms_for(fields, **terms),
            context=Context(actor=f"business:{business_id}"),
            customer_id=customer_id,
        )
        uow.commit()
        return agreement.id


def make_active_agreement(
    vault: Vault,
    business_id: uuid.UUID,
    customer_id: uuid.UUID,
    fields: Mapping[str, str],
    granted: Mapping[str, str] | None = None,
    **terms: str,
) -> uuid.UUID:
    """Request fields and let the customer grant them (all, or those in `granted`)."""
    agreement_id = make_request(vault, business_id, fields, customer_id, **terms)
    with vault.unit_of_work() as uow:
        decide_request(
            uow,
            agreement_id,
            customer_id,
            {k: AccessMode(m) for k, m in (granted if granted is not None else fields).items()},
            Context(actor="customer", ip="203.0.113.7", user_agent="pytest"),
        )
    return agreement_id
