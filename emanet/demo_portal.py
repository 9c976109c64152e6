"""The business portal's demo: deals across the pipeline, tasks for today and overdue, notes,
tags, more purchases for the RFM segments, request templates with an invite, a search index.

Everything is made through the portal's use cases and, for the customer's data, the gate.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from broker.businesses.models import Business, StaffUser
from broker.gate import AccessDenied, Caller, append_interaction
from business_portal.customers.search_index import refresh_search_index
from business_portal.deals.inputs import DealIn
from business_portal.deals.services import create_deal, ensure_pipeline, move_deal
from business_portal.notes.services import add_note, add_tag
from business_portal.records.connections import agreement_is_active, connected_subjects
from business_portal.requests.services import (
    InviteIn,
    TemplateIn,
    create_template,
    invite_from_template,
)
from business_portal.segments.services import recompute_segments, worker_caller
from business_portal.tasks.services import TaskIn, create_task, set_done
from emanet.demo_broker import BUSINESSES, DemoBusiness
from schemas.agreements import INTERACTIONS, AgreementTerms
from schemas.interactions import InteractionEntry, InteractionKind
from vault.agreements.models import Agreement
from vault.unit_of_work import Vault

DEALS = {
    "antiques.example": (
        "Quba rug, 19th century",
        "Copper jug from Lahıc",
        "Silver belt buckle set",
        "Samovar restoration",
        "Pair of Shirvan saddle bags",
        "Miniature painting, Tabriz school",
    ),
    "anadoluhali.example": (
        "Hand-knotted Uşak runner",
        "Kilim for a hotel lobby",
        "Carpet washing contract",
        "Hereke silk prayer rug",
        "Six runners for a restaurant",
    ),
    "milllanebooks.example": (
        "First edition of Ali and Nino",
        "School library order",
        "Signed map collection",
        "Book club subscription",
        "Rare atlas of the Caucasus",
    ),
}
TASKS = (
    "Call back about the price",
    "Send photos of the piece",
    "Confirm the delivery day",
    "Ask how the piece arrived",
    "Prepare the invoice",
)
NOTES = (
    "Prefers a call after six in the evening.",
    "Collects copper and brass; not interested in textiles.",
    "Asked to hear first when a Karabakh rug comes in.",
)
TAGS = ("collector", "wholesale", "VIP", "restorer")


def _staff(vault: Vault, business_id: uuid.UUID) -> dict[str, uuid.UUID]:
    with vault.unit_of_work(write=False) as uow:
        rows = uow.session.execute(
            select(StaffUser.role, StaffUser.id).where(StaffUser.business_id == business_id)
        ).all()
    return {role: staff_id for role, staff_id in rows}


def _subjects(vault: Vault, business_id: uuid.UUID) -> list[str]:
    with vault.unit_of_work(write=False) as uow:
        return sorted(uow.session.scalars(connected_subjects(business_id, uow.now())))


def _more_purchases(
    vault: Vault, rng: random.Random, business_id: uuid.UUID, spec: DemoBusiness
) -> None:
    """Give the customers who share interactions a history of purchases, so segments vary."""
    caller = Caller(business_id, "client:demo")
    with vault.unit_of_work(write=False) as uow:
        agreements = [
            agreement_id
            for agreement_id, granted in uow.session.execute(
                select(Agreement.id, Agreement.granted_fields).where(
                    agreement_is_active(business_id, uow.now())
                )
            )
            if INTERACTIONS in granted
        ]
    now = datetime.now(UTC)
    for agreement_id in agreements:
        habit = rng.choice((0, 1, 2, 4, 7))
        last = rng.choice((2, 9, 30, 80, 200, 330))
        for number in range(habit):
            with vault.unit_of_work() as uow:
                try:
                    append_interaction(
                        uow,
                        caller,
                        agreement_id,
                        InteractionEntry(
                            kind=InteractionKind.PURCHASE,
                            occurred_at=now - timedelta(days=last + 23 * number),
                            summary=rng.choice(DEALS[spec.domain]),
                            amount=Decimal(rng.randint(15, 900)),
                            currency=spec.currency,
                        ),
                    )
                except AccessDenied:
                    break  # a paused agreement: the customer said not now


def _records(vault: Vault, rng: random.Random, business_id: uuid.UUID, spec: DemoBusiness) -> None:
    staff = _staff(vault, business_id)
    with vault.unit_of_work() as uow:
        stages = ensure_pipeline(uow, business_id)
    subjects = _subjects(vault, business_id)
    today = date.today()
    for number, subject in enumerate(subjects[:14]):
        with vault.unit_of_work() as uow:
            deal_id = create_deal(
                uow,
                business_id,
                staff["agent"],
                DealIn(
                    subject=subject,
                    title=DEALS[spec.domain][number % len(DEALS[spec.domain])],
                    amount=Decimal(rng.randint(8, 400) * 10),
                    currency=spec.currency,
                    expected_close=today + timedelta(days=rng.randint(3, 60)),
                    owner_id=staff["agent" if number % 3 else "owner"],
                ),
            )
        stage = stages[number % len(stages)]
        if stage.position:
            with vault.unit_of_work() as uow:
                move_deal(uow, business_id, deal_id, stage.id)
        due = today + timedelta(days=(-3, 0, 0, 2, 7)[number % 5])
        with vault.unit_of_work() as uow:
            task_id = create_task(
                uow,
                business_id,
                staff["owner"],
                TaskIn(
                    title=TASKS[number % len(TASKS)],
                    due_on=due,
                    assignee_id=staff["agent" if number % 2 else "owner"],
                    deal_id=deal_id,
                ),
            )
        if number % 6 == 5:
            with vault.unit_of_work() as uow:
                set_done(uow, business_id, task_id, True)
        if number % 3 == 0:
            with vault.unit_of_work() as uow:
                add_note(uow, business_id, subject, NOTES[number % len(NOTES)])
        with vault.unit_of_work() as uow:
            add_tag(uow, business_id, subject, TAGS[number % len(TAGS)])


def _templates(vault: Vault, business_id: uuid.UUID, spec: DemoBusiness) -> None:
    staff = _staff(vault, business_id)
    terms = AgreementTerms.model_validate(
        {
            "purpose": spec.purpose,
            "purpose_description": spec.description,
            "fields": [{"key": k, "mode": m} for k, m in spec.fields.items()],
            "duration": "P1Y",
            "retention": "P30D",
        }
    )
    with vault.unit_of_work() as uow:
        template_id = create_template(
            uow,
            business_id,
            TemplateIn(name="At the counter", terms=terms),
            staff_id=staff["owner"],
        )
    with vault.unit_of_work() as uow:
        invite_from_template(
            uow,
            business_id,
            template_id,
            InviteIn(label="Poster by the till"),
            actor=f"staff:{staff['owner']}",
        )


def seed_portal_demo(vault: Vault) -> int:
    """Fill each demo business's CRM once; return how many businesses got records."""
    rng = random.Random(20261125)  # demo data only; nothing secret is drawn
    seeded = 0
    for spec in BUSINESSES:
        with vault.unit_of_work(write=False) as uow:
            business_id = uow.session.scalar(
                select(Business.id).where(Business.legal_name == spec.legal_name)
            )
        if business_id is None:
            continue
        _more_purchases(vault, rng, business_id, spec)
        _records(vault, rng, business_id, spec)
        _templates(vault, business_id, spec)
        with vault.unit_of_work() as uow:
            recompute_segments(uow, worker_caller(business_id), business_id)
        while True:  # index every connected customer now, not on the first search
            with vault.unit_of_work() as uow:
                if not refresh_search_index(uow, business_id):
                    break
        seeded += 1
    return seeded
