"""The dashboard's figures equal a hand-built business: agreements in every state with the
clock moved, deals in stages with amounts, tasks today, overdue, later and done."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from babel.numbers import format_currency
from flask.testing import FlaskClient
from sqlalchemy import func, select

from business_portal.dashboard.services import dashboard_figures
from business_portal.records.models import PipelineStage
from business_portal.records.stages import DEFAULT_STAGES
from tests.business_portal.conftest import Clock, Connected, PortalBusiness, connect_customer
from tests.business_portal.test_tasks_support import FIELDS, PROFILE, add_deal, add_task, app_clock
from tests.conftest import make_customer
from tests.factories import make_request
from vault.agreements.models import Agreement
from vault.agreements.services import (
    Context,
    decide_request,
    record_expiry_if_due,
    revoke_agreement,
)
from vault.unit_of_work import Vault

__all__ = ["app_clock"]  # a fixture these tests use

StaffClient = Callable[..., FlaskClient]


def _revoke(vault: Vault, connected: Connected) -> None:
    with vault.unit_of_work() as uow:
        revoke_agreement(uow, connected.agreement_id, connected.customer_id, Context("customer"))


@dataclass(frozen=True)
class World:
    """The hand-built business and what its dashboard must say."""

    now: datetime
    active: list[Connected]
    revoked_lately: Connected
    expired_lately: Connected
    expiry_written: Connected
    ended_long_ago: list[Connected]


def build_world(
    vault: Vault, business: PortalBusiness, other: PortalBusiness, clock: Clock
) -> World:
    """Agreements in every state, deals in stages, tasks for me and a colleague."""
    now = clock.now
    today = now.date()
    me, colleague = business.staff_id("agent"), business.staff_id("owner")

    clock.now = now - timedelta(days=50)
    expired_long_ago = connect_customer(vault, business.id, PROFILE, FIELDS, duration="P10D")
    revoked_long_ago = connect_customer(vault, business.id, PROFILE, FIELDS)
    _revoke(vault, revoked_long_ago)

    clock.now = now - timedelta(days=15)
    expired_lately = connect_customer(vault, business.id, PROFILE, FIELDS, duration="P10D")
    expiry_written = connect_customer(vault, business.id, PROFILE, FIELDS, duration="P8D")

    clock.now = now - timedelta(days=10)
    revoked_lately = connect_customer(vault, business.id, PROFILE, FIELDS)
    add_deal(vault, business.id, revoked_lately.subject, amount="999.00", currency="AZN")
    add_task(
        vault, business.id, me, "About a customer who left", today, subject=revoked_lately.subject
    )
    _revoke(vault, revoked_lately)

    clock.now = now
    with vault.unit_of_work() as uow:
        agreement = uow.session.get(Agreement, expiry_written.agreement_id)
        assert agreement is not None and record_expiry_if_due(uow, agreement)
        uow.commit()
    first, second, third = (connect_customer(vault, business.id, PROFILE, FIELDS) for _ in range(3))
    make_request(vault, business.id, FIELDS)
    make_request(vault, business.id, FIELDS, first.customer_id, purpose="Marketing")
    declined = make_customer(vault)
    declined_id = make_request(vault, business.id, FIELDS, declined)
    with vault.unit_of_work() as uow:
        decide_request(uow, declined_id, declined, None, Context("customer"))

    theirs = connect_customer(vault, other.id, PROFILE, FIELDS)
    make_request(vault, other.id, FIELDS)
    add_deal(vault, other.id, theirs.subject, amount="5.00", currency="AZN")
    _revoke(vault, connect_customer(vault, other.id, PROFILE, FIELDS))

    add_deal(vault, business.id, first.subject, amount="100.00", currency="AZN")
    add_deal(vault, business.id, first.subject, amount="50.50", currency="AZN")
    add_deal(vault, business.id, second.subject, amount="20", currency="USD")
    add_deal(vault, business.id, third.subject, stage="proposal", amount="1000", currency="AZN")
    add_deal(vault, business.id, first.subject, stage="won")

    add_task(vault, business.id, me, "Overdue two", today - timedelta(days=2))
    add_task(
        vault, business.id, me, "Overdue one", today - timedelta(days=1), subject=first.subject
    )
    add_task(vault, business.id, me, "Due today", today)
    add_task(vault, business.id, me, "Due later", today + timedelta(days=3))
    add_task(vault, business.id, me, "Done already", today - timedelta(days=5), done=True)
    add_task(vault, business.id, colleague, "Colleague today", today)
    add_task(vault, business.id, colleague, "Colleague late", today - timedelta(days=1))
    add_task(vault, other.id, other.staff_id("agent"), "Other business today", today)

    return World(
        now,
        [first, second, third],
        revoked_lately,
        expired_lately,
        expiry_written,
        [expired_long_ago, revoked_long_ago],
    )


EXPECTED_STAGES = {
    "new": (3, [("AZN", Decimal("150.50")), ("USD", Decimal("20.00"))]),
    "contacted": (0, []),
    "meeting": (0, []),
    "proposal": (1, [("AZN", Decimal("1000.00"))]),
    "invoice": (0, []),
    "won": (1, []),
    "lost": (0, []),
}


def test_the_figures_equal_the_hand_built_business(
    vault: Vault, business: PortalBusiness, other_business: PortalBusiness, clock: Clock
) -> None:
    world = build_world(vault, business, other_business, clock)
    with vault.unit_of_work(write=False) as uow:
        figures = dashboard_figures(uow, business.id, business.staff_id("agent"), world.now.date())

    assert figures.active_agreements == 3
    assert figures.connected_customers == 3
    assert figures.pending_requests == 2
    assert (figures.revoked, figures.expired) == (1, 2)
    assert [(e.kind, e.subject) for e in figures.endings] == [
        ("expired", world.expired_lately.subject),
        ("expired", world.expiry_written.subject),
        ("revoked", world.revoked_lately.subject),
    ]
    assert figures.endings[0].at == world.now - timedelta(days=5)
    assert figures.endings[2].at == world.now - timedelta(days=10)
    assert {t.stage.code: (t.count, t.sums) for t in figures.stages} == EXPECTED_STAGES
    assert [t.stage.code for t in figures.stages] == [code for code, _ in DEFAULT_STAGES]
    assert [t.title for t in figures.overdue.tasks] == ["Overdue two", "Overdue one"]
    assert [t.title for t in figures.due_today.tasks] == ["Due today"]
    assert (figures.overdue.counts["overdue"], figures.due_today.counts["today"]) == (2, 1)


def test_the_page_shows_the_figures_and_no_personal_data(
    vault: Vault,
    business: PortalBusiness,
    other_business: PortalBusiness,
    staff_client: StaffClient,
    app_clock: Clock,
) -> None:
    world = build_world(vault, business, other_business, app_clock)
    page = staff_client("agent").get("/portal/")
    assert page.status_code == 200
    html = page.text

    assert re.findall(r'<span class="figure">(\d+)</span>', html) == ["3", "2", "1", "2"]
    for shown in (world.expired_lately, world.expiry_written, world.revoked_lately):
        assert shown.subject in html
    for hidden in [*world.ended_long_ago, *world.active]:
        assert f'<span class="subject">{hidden.subject}</span>' not in html
    assert "Nigar" not in html
    for amount, currency in (("150.50", "AZN"), ("20.00", "USD"), ("1000.00", "AZN")):
        assert format_currency(Decimal(amount), currency, locale="en") in html
    assert format_currency(Decimal("999.00"), "AZN", locale="en") not in html
    for title in ("Overdue two", "Overdue one", "Due today"):
        assert f">{title}</a>" in html
    for title in ("Due later", "Done already", "Colleague today", "Colleague late"):
        assert title not in html
    assert "About a customer who left" not in html
    assert "Other business today" not in html
    assert html.count("Mark done") == 3
    for lang in ("az", "tr"):
        assert staff_client("owner").get(f"/portal/?lang={lang}").status_code == 200


def test_a_new_business_sees_zeros_and_the_default_stages_without_a_write(
    vault: Vault, business: PortalBusiness, staff_client: StaffClient
) -> None:
    page = staff_client("viewer").get("/portal/")
    assert page.status_code == 200
    assert re.findall(r'<span class="figure">(\d+)</span>', page.text) == ["0"] * 4
    for name in ("New", "Contacted", "Meeting", "Proposal", "Invoice", "Won", "Lost"):
        assert f'<th scope="row">{name}</th>' in page.text
    assert "Nothing is overdue." in page.text and "Nothing is due today." in page.text
    with vault.unit_of_work(write=False) as uow:
        stored = uow.session.scalar(
            select(func.count())
            .select_from(PipelineStage)
            .where(PipelineStage.business_id == business.id)
        )
    assert stored == 0


def test_a_long_overdue_list_is_cut_with_a_link_to_all(
    vault: Vault, business: PortalBusiness, staff_client: StaffClient, app_clock: Clock
) -> None:
    today: date = app_clock.now.date()
    for number in range(12):
        add_task(
            vault,
            business.id,
            business.staff_id("agent"),
            f"Late {number:02}",
            today - timedelta(days=number + 1),
        )
    html = staff_client("agent").get("/portal/").text
    assert html.count('class="dash-task-title"') == 10
    assert "See all 12" in html
    assert "/portal/tasks?show=overdue" in html
    assert "Late 11" in html and "Late 01" not in html  # the oldest first
