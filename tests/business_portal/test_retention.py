"""Storage limitation: the business's records about a customer go when retention has run out."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from click.testing import CliRunner
from sqlalchemy import func, select

from business_portal.records.keys import BusinessKey, business_cipher
from business_portal.records.models import CustomerTag, Deal, Note, Task
from business_portal.records.retention import run_retention
from business_portal.records.stages import pipeline
from emanet.cli import main
from emanet.settings import Settings
from tests.business_portal.conftest import Clock, Connected, PortalBusiness, connect_customer
from vault.access_log.models import AccessEvent
from vault.agreements.services import Context, revoke_agreement
from vault.keys.rotation import key_status, rotate_kek
from vault.unit_of_work import Vault

FIELDS = {"identity.given_name": "read", "contact.phone": "read"}
PROFILE = {"identity.given_name": "Nigar", "contact.phone": "+994501234567"}


def add_records(vault: Vault, business: PortalBusiness, subject: str) -> uuid.UUID:
    """Give the business a deal, a task on it, a task, a note and a tag about the customer."""
    with vault.unit_of_work() as uow:
        cipher = business_cipher(uow, business.id)
        stage = pipeline(uow, business.id)[0]
        now = uow.now()
        deal_id, task_ids, note_id = uuid.uuid4(), (uuid.uuid4(), uuid.uuid4()), uuid.uuid4()
        uow.session.add(
            Deal(
                id=deal_id,
                business_id=business.id,
                subject=subject,
                stage_id=stage.id,
                sealed=cipher.seal("deals", deal_id, {"title": "Qajar-era carpet"}),
                amount=Decimal("1200.00"),
                currency="AZN",
                created_at=now,
                updated_at=now,
            )
        )
        uow.session.flush()
        for task_id, link in zip(
            task_ids, ({"deal_id": deal_id}, {"subject": subject}), strict=True
        ):
            uow.session.add(
                Task(
                    id=task_id,
                    business_id=business.id,
                    sealed=cipher.seal("tasks", task_id, {"title": "Call back"}),
                    due_on=date.today(),
                    created_at=now,
                    **link,
                )
            )
        uow.session.add(
            Note(
                id=note_id,
                business_id=business.id,
                subject=subject,
                sealed=cipher.seal("notes", note_id, {"body": "Collects carpets"}),
                created_at=now,
            )
        )
        uow.session.add(
            CustomerTag(business_id=business.id, subject=subject, tag="collector", created_at=now)
        )
        uow.commit()
    return deal_id


def record_counts(vault: Vault, business_id: uuid.UUID) -> dict[str, int]:
    with vault.unit_of_work(write=False) as uow:
        return {
            table.__tablename__: uow.session.scalar(
                select(func.count()).select_from(table).where(table.business_id == business_id)
            )
            or 0
            for table in (Deal, Task, Note, CustomerTag)
        }


def revoke(vault: Vault, connected: Connected) -> None:
    with vault.unit_of_work() as uow:
        revoke_agreement(uow, connected.agreement_id, connected.customer_id, Context("customer"))


def test_records_stay_through_the_retention_period_then_go_and_the_deletion_is_logged(
    vault: Vault, business: PortalBusiness, clock: Clock
) -> None:
    gone = connect_customer(vault, business.id, PROFILE, FIELDS)  # retention P30D
    stays = connect_customer(vault, business.id, PROFILE, FIELDS)
    add_records(vault, business, gone.subject)
    add_records(vault, business, stays.subject)
    revoke(vault, gone)

    clock.advance(days=29)
    assert run_retention(vault) == []
    assert record_counts(vault, business.id) == {
        "deals": 2,
        "tasks": 4,
        "notes": 2,
        "customer_tags": 2,
    }

    clock.advance(days=2)
    (deletion,) = run_retention(vault)
    assert deletion.subject == gone.subject
    assert deletion.counts == {"deals": 1, "tasks": 2, "notes": 1, "tags": 1, "scores": 0}
    assert record_counts(vault, business.id) == {
        "deals": 1,
        "tasks": 2,
        "notes": 1,
        "customer_tags": 1,
    }
    with vault.unit_of_work(write=False) as uow:
        (logged,) = uow.session.scalars(
            select(AccessEvent).where(AccessEvent.kind == "records.deleted")
        )
    assert logged.business_id == business.id
    assert logged.customer_id == gone.customer_id
    assert logged.actor == "retention"
    assert gone.subject in (logged.detail or "")
    assert run_retention(vault) == []  # nothing twice


def test_an_agreement_past_its_term_counts_from_its_end(
    vault: Vault, business: PortalBusiness, clock: Clock
) -> None:
    connected = connect_customer(vault, business.id, PROFILE, FIELDS, duration="P10D")
    add_records(vault, business, connected.subject)
    clock.advance(days=10 + 29)  # expired (never written down), retention not yet over
    assert run_retention(vault) == []
    clock.advance(days=2)
    assert [d.subject for d in run_retention(vault)] == [connected.subject]
    assert record_counts(vault, business.id)["deals"] == 0


def test_a_customer_who_reconnects_keeps_their_records(
    vault: Vault, business: PortalBusiness, clock: Clock
) -> None:
    connected = connect_customer(vault, business.id, PROFILE, FIELDS)
    add_records(vault, business, connected.subject)
    revoke(vault, connected)
    from tests.factories import make_active_agreement

    make_active_agreement(vault, business.id, connected.customer_id, FIELDS)
    clock.advance(days=400)
    make_active_agreement(vault, business.id, connected.customer_id, FIELDS, duration="P2Y")
    assert run_retention(vault) == []
    assert record_counts(vault, business.id)["notes"] == 1


def test_retention_run_from_the_command_line(
    vault: Vault, business: PortalBusiness, settings: Settings, clock: Clock
) -> None:
    connected = connect_customer(vault, business.id, PROFILE, FIELDS, duration="P1D")
    add_records(vault, business, connected.subject)
    env = {
        "EMANET_INSTANCE_DIR": str(settings.instance_dir),
        "EMANET_DATABASE_URL": settings.database_url,
    }
    result = CliRunner().invoke(main, ["retention", "run"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    # The command runs on the real clock: one day in, nothing is due yet.
    assert "records of 0 customer" in result.output
    assert record_counts(vault, business.id)["deals"] == 1


def test_kek_rotation_rewraps_business_keys_and_records_still_open(
    vault: Vault, business: PortalBusiness
) -> None:
    connected = connect_customer(vault, business.id, PROFILE, FIELDS)
    deal_id = add_records(vault, business, connected.subject)
    with vault.unit_of_work(write=False) as uow:
        old_kek = uow.session.scalar(
            select(BusinessKey.kek_id).where(BusinessKey.business_id == business.id)
        )
    report = rotate_kek(vault)
    assert old_kek in report.retired
    assert report.rewrapped >= 2  # the customer's key and the business's key
    with vault.unit_of_work(write=False) as uow:
        wrapped_by = uow.session.scalar(
            select(BusinessKey.kek_id).where(BusinessKey.business_id == business.id)
        )
        deal = uow.session.get(Deal, deal_id)
        assert deal is not None
        opened = business_cipher(uow, business.id).open("deals", deal_id, deal.sealed)
    assert wrapped_by == report.new_kek_id
    assert opened == {"title": "Qajar-era carpet"}
    usage = {u.kek_id: u.data_keys for u in key_status(vault)}
    assert usage[report.new_kek_id] >= 2
