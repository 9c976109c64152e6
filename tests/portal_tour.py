"""A business with something of every kind in its CRM, made through the portal's use cases.

Route tests fill every URL from it (tenant isolation, roles) and browser tests walk it. Each
customer shares some fields and keeps others back; the kept-back values (`secrets`) must
appear on no portal page.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from broker.businesses.services import register_client
from broker.gate import Caller
from broker.webhooks.services import register_endpoint
from business_portal.card.services import log_contact
from business_portal.compliance.services.jobs import JobRequest, create_job
from business_portal.customers.list_query import CustomerQuery
from business_portal.customers.saved_views import save_view
from business_portal.deals.inputs import DealIn
from business_portal.deals.services import create_deal
from business_portal.notes.services import add_note, add_tag
from business_portal.requests.services import (
    InviteIn,
    TemplateIn,
    create_template,
    invite_from_template,
)
from business_portal.segments.services import recompute_segments, worker_caller
from business_portal.tasks.services import TaskIn, create_task
from schemas.agreements import AgreementTerms
from schemas.businesses import ClientIn
from schemas.interactions import InteractionEntry, InteractionKind
from tests.business_portal.conftest import PortalBusiness, connect_customer
from vault.receipts.models import ConsentReceipt
from vault.unit_of_work import Vault

SHARED = {
    "identity.given_name": "read",
    "identity.family_name": "read",
    "contact.phone": "read",
    "interactions": "append",
}
# Asked for, but each customer keeps these back.
KEPT_BACK = {"contact.email": "read", "identity.birth_date": "read"}


@dataclass
class PortalTour:
    """What the tour made for one business, by the names its URLs use."""

    business: PortalBusiness
    subjects: list[str]
    agreement_ids: list[uuid.UUID]
    customer_ids: list[uuid.UUID]
    values: dict[str, object] = field(default_factory=dict)
    shared: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)


def _people(tag: str) -> list[dict[str, object]]:
    return [
        {
            "identity.given_name": "Aysel",
            "identity.family_name": f"Məmmədova{tag}",
            "contact.phone": "+994 50 123 45 67",
            "contact.email": f"aysel.secret{tag}@mail.example",
            "identity.birth_date": "1987-03-14",
        },
        {
            "identity.given_name": "Kerem",
            "identity.family_name": f"Yıldız{tag}",
            "contact.phone": "+90 532 765 43 21",
            "contact.email": f"kerem.secret{tag}@mail.example",
            "identity.birth_date": "1979-11-02",
        },
        {
            "identity.given_name": "Nigar",
            "identity.family_name": f"Əliyeva{tag}",
            "contact.phone": "+994 55 987 65 43",
            "contact.email": f"nigar.secret{tag}@mail.example",
            "identity.birth_date": "1992-07-21",
        },
    ]


def build_portal_tour(vault: Vault, business: PortalBusiness, tag: str = "") -> PortalTour:
    """Connect three customers and give the business a record of every kind about them."""
    owner = business.staff_id("owner")
    people = _people(tag)
    connected = [
        connect_customer(vault, business.id, person, {**SHARED, **KEPT_BACK}, SHARED)
        for person in people
    ]
    tour = PortalTour(
        business,
        [c.subject for c in connected],
        [c.agreement_id for c in connected],
        [c.customer_id for c in connected],
    )
    tour.shared = [str(p["identity.family_name"]) for p in people]
    tour.secrets = [str(p["contact.email"]) for p in people] + ["1987-03-14", "14.03.1987"]
    subject = tour.subjects[0]
    caller = Caller(business.id, f"staff:{owner}")
    now = datetime.now(UTC)
    for number, person in enumerate(tour.subjects):
        for back in range(number + 1):
            with vault.unit_of_work() as uow:
                log_contact(
                    uow,
                    caller,
                    person,
                    InteractionEntry(
                        kind=InteractionKind.PURCHASE,
                        occurred_at=now - timedelta(days=5 + 40 * back + number),
                        summary="Copper jug from Lahıc",
                        amount=Decimal("120.00") * (number + 1),
                        currency="AZN",
                    ),
                )
    with vault.unit_of_work() as uow:
        deal_id = create_deal(
            uow,
            business.id,
            owner,
            DealIn(subject=subject, title="Quba rug", amount=Decimal("900"), currency="AZN"),
        )
    with vault.unit_of_work() as uow:
        task_id = create_task(
            uow,
            business.id,
            owner,
            TaskIn(title="Call about the rug", due_on=date.today(), subject=subject),
        )
    with vault.unit_of_work() as uow:
        add_note(uow, business.id, subject, "Prefers a call after six.", author_id=owner)
    with vault.unit_of_work() as uow:
        add_tag(uow, business.id, subject, "collector")
    terms = AgreementTerms.model_validate(
        {
            "purpose": "CustomerCare",
            "purpose_description": "Call you when a piece you collect comes in",
            "fields": [{"key": "contact.phone", "mode": "read"}],
            "duration": "P1Y",
            "retention": "P30D",
        }
    )
    with vault.unit_of_work() as uow:
        template_id = create_template(
            uow, business.id, TemplateIn(name="Counter", terms=terms), staff_id=owner
        )
    with vault.unit_of_work() as uow:
        code = invite_from_template(
            uow, business.id, template_id, InviteIn(label="Poster"), actor=f"staff:{owner}"
        )
    with vault.unit_of_work() as uow:
        client = register_client(
            uow,
            business.id,
            ClientIn(name="Till app", redirect_uris=["https://till.example/callback"]),
            actor="test",
        )
        uow.commit()
    with vault.unit_of_work() as uow:
        endpoint_id, _secret = register_endpoint(
            uow, business.id, "https://hooks.example/emanet", allow_loopback=False
        )
    with vault.unit_of_work() as uow:
        view_id = save_view(uow, business.id, owner, "Collectors", CustomerQuery(tag="collector"))
    with vault.unit_of_work() as uow:
        recompute_segments(uow, worker_caller(business.id), business.id)
    with vault.unit_of_work() as uow:
        job_id = create_job(
            uow,
            JobRequest(business.id, f"staff:{owner}", "processing", "csv", "en"),
        )
    with vault.unit_of_work(write=False) as uow:
        receipt_id = uow.session.scalar(
            select(ConsentReceipt.id).where(ConsentReceipt.agreement_id == tour.agreement_ids[0])
        )
    tour.values = {
        "subject": subject,
        "deal_id": deal_id,
        "task_id": task_id,
        "template_id": template_id,
        "code": code,
        "client_id": client.client_id,
        "endpoint_id": endpoint_id,
        "staff_id": business.staff_id("agent"),
        "view_id": view_id,
        "receipt_id": receipt_id,
        "agreement_id": tour.agreement_ids[0],
        "job_id": job_id,
    }
    return tour
