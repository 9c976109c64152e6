"""Demo businesses and their relationships with the demo customers, made through the real
use cases: requests, consent, reads and interactions through the gate, a sealed log."""

from __future__ import annotations

import json
import os
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from broker.businesses.models import Business
from broker.businesses.services import add_staff, business_snapshot, create_business
from broker.gate import Caller, append_interaction, read_profile
from schemas.agreements import AccessMode, AgreementTerms
from schemas.businesses import BusinessIn, ClientIn, StaffIn, StaffRole
from schemas.interactions import InteractionEntry, InteractionKind
from vault.access_log.sealer import seal_pending
from vault.accounts.models import Customer
from vault.agreements.services import Context, decide_request, request_agreement, revoke_agreement
from vault.unit_of_work import Vault

DEMO_REDIRECT_URI = "http://127.0.0.1:8000/callback"


@dataclass(frozen=True)
class DemoBusiness:
    """A business of the demo and what it asks its customers for."""

    legal_name: str
    country: str
    domain: str
    address: str
    currency: str
    purpose: str
    description: str
    fields: dict[str, str]
    interactions: tuple[tuple[InteractionKind, str], ...]


BUSINESSES = (
    DemoBusiness(
        "Köhnə Şəhər Antikvarları",
        "AZ",
        "antiques.example",
        "Qüllə küçəsi 5, İçərişəhər, Bakı",
        "AZN",
        "CustomerCare",
        "Call you when a piece you collect comes in",
        {
            "identity.given_name": "read",
            "identity.family_name": "read",
            "contact.phone": "read",
            "preferences.interests": "read",
            "interactions": "append",
        },
        (
            (InteractionKind.VISIT, "Looked at the 19th-century Quba rug"),
            (InteractionKind.CALL, "Rang about a copper jug from Lahıc"),
            (InteractionKind.PURCHASE, "Silver belt buckle"),
        ),
    ),
    DemoBusiness(
        "Anadolu Halı Evi",
        "TR",
        "anadoluhali.example",
        "Kapalıçarşı, Fatih, İstanbul",
        "TRY",
        "Marketing",
        "Send you our seasonal carpet catalogue",
        {
            "identity.given_name": "read",
            "contact.email": "read",
            "contact.preferred_channel": "read",
            "contact.address": "read",
            "interactions": "append",
        },
        (
            (InteractionKind.EMAIL, "Sent the autumn catalogue"),
            (InteractionKind.PURCHASE, "Hand-knotted Uşak runner"),
        ),
    ),
    DemoBusiness(
        "Mill Lane Books",
        "GB",
        "milllanebooks.example",
        "12 Mill Lane, Bristol BS1 4DJ",
        "GBP",
        "LoyaltyProgram",
        "Run your loyalty card and birthday voucher",
        {
            "identity.given_name": "read",
            "identity.birth_date": "read",
            "contact.email": "read",
            "interactions": "append",
        },
        (
            (InteractionKind.PURCHASE, "Two novels and a map of the Caucasus"),
            (InteractionKind.SUPPORT_TICKET, "Loyalty points missing after a purchase"),
        ),
    ),
)


def _terms(spec: DemoBusiness) -> AgreementTerms:
    return AgreementTerms.model_validate(
        {
            "purpose": spec.purpose,
            "purpose_description": spec.description,
            "fields": [{"key": k, "mode": m} for k, m in spec.fields.items()],
            "duration": "P1Y",
            "retention": "P30D",
        }
    )


def _create(vault: Vault, spec: DemoBusiness, password: str) -> tuple[uuid.UUID, dict[str, str]]:
    with vault.unit_of_work() as uow:
        business_id, issued = create_business(
            uow,
            BusinessIn(
                legal_name=spec.legal_name,
                country=spec.country,
                privacy_email=f"privacy@{spec.domain}",
                privacy_address=spec.address,
                policy_url=f"https://{spec.domain}/privacy",
            ),
            ClientIn(name=f"{spec.legal_name} website", redirect_uris=[DEMO_REDIRECT_URI]),
            actor="demo",
        )
    for role in (StaffRole.OWNER, StaffRole.AGENT, StaffRole.COMPLIANCE, StaffRole.VIEWER):
        with vault.unit_of_work() as uow:
            add_staff(
                uow,
                business_id,
                StaffIn(
                    email=f"{role.value}@{spec.domain}",
                    display_name=f"{role.value.title()} of {spec.legal_name}",
                    role=role,
                ),
                password,
                actor="demo",
            )
    return business_id, {
        "business": spec.legal_name,
        "business_id": str(business_id),
        "client_id": issued.client_id,
        "client_secret": issued.client_secret,
        "redirect_uri": DEMO_REDIRECT_URI,
        "staff_password": password,
        "staff": [f"{r.value}@{spec.domain}" for r in StaffRole],
    }


def _relate(
    vault: Vault,
    rng: random.Random,
    business_id: uuid.UUID,
    spec: DemoBusiness,
    customer_id: uuid.UUID,
) -> None:
    context = Context(actor="customer", ip="192.0.2.10", user_agent="Emanet demo")
    with vault.unit_of_work() as uow:
        agreement = request_agreement(
            uow,
            business=business_snapshot(uow, business_id),
            terms=_terms(spec),
            context=Context(actor="demo"),
            customer_id=customer_id,
        )
        uow.commit()
        agreement_id = agreement.id
    fate = rng.random()
    if fate < 0.15:
        return  # still waiting in the customer's inbox
    keys = list(spec.fields)
    granted = keys if fate < 0.6 else [k for k in keys if rng.random() < 0.7 or k == keys[0]]
    with vault.unit_of_work() as uow:
        decide_request(
            uow,
            agreement_id,
            customer_id,
            {k: AccessMode(spec.fields[k]) for k in granted} if fate < 0.93 else None,
            context,
        )
    if fate >= 0.93:
        return  # declined
    caller = Caller(business_id, "client:demo")
    with vault.unit_of_work() as uow:
        read_profile(uow, caller, agreement_id)
    if "interactions" in granted:
        for back, (kind, summary) in enumerate(spec.interactions):
            if rng.random() < 0.6:
                with vault.unit_of_work() as uow:
                    append_interaction(
                        uow,
                        caller,
                        agreement_id,
                        InteractionEntry(
                            kind=kind,
                            summary=summary,
                            occurred_at=datetime.now(UTC)
                            - timedelta(days=12 * back + rng.randint(1, 9)),
                            amount=Decimal(rng.randint(40, 2500))
                            if kind is InteractionKind.PURCHASE
                            else None,
                            currency=spec.currency if kind is InteractionKind.PURCHASE else None,
                        ),
                    )
    if rng.random() < 0.12:
        with vault.unit_of_work() as uow:
            revoke_agreement(uow, agreement_id, customer_id, context)


def seed_broker_demo(vault: Vault, instance_dir: Path, password: str) -> int:
    """Create the demo businesses and relationships once; return how many businesses."""
    with vault.unit_of_work(write=False) as uow:
        if uow.session.scalar(select(Business.id).limit(1)) is not None:
            return 0
        customers = list(
            uow.session.scalars(
                select(Customer.id)
                .where(Customer.erased_at.is_(None))
                .order_by(Customer.created_at)
            )
        )
    rng = random.Random(20261124)  # demo data only; nothing secret is drawn
    credentials = []
    for spec in BUSINESSES:
        business_id, creds = _create(vault, spec, password)
        credentials.append(creds)
        for customer_id in customers:
            if rng.random() < 0.55:
                _relate(vault, rng, business_id, spec, customer_id)
    seal_pending(vault, settle_seconds=0)
    path = instance_dir / "demo-credentials.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(credentials, handle, indent=2, ensure_ascii=False)
    return len(BUSINESSES)
