"""The customer card in Chromium: axe finds nothing serious, forms open, at 1280 and 390 px."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from broker.gate import Caller, append_interaction
from business_portal.notes.services import add_note, add_tag
from emanet.bootstrap import Runtime
from schemas.interactions import InteractionEntry
from tests.business_portal.conftest import PortalBusiness, make_portal_business
from tests.business_portal.test_card_support import Customer, connect
from tests.conftest import TEST_PASSWORD
from tests.e2e.conftest import browser, live_server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.e2e
SHOTS = os.environ.get("EMANET_CARD_SCREENSHOTS")


def _serious(page: Page, axe: Axe) -> list[str]:
    violations = axe.run(page).response["violations"]
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    return [f"{v['id']}: {v['nodes'][0]['target']}" for v in serious]


def _seed(runtime: Runtime) -> tuple[PortalBusiness, Customer]:
    vault = runtime.vault
    business = make_portal_business(vault, "Köhnə Şəhər Antikvarları", "antiques.example")
    customer = connect(vault, business.id)
    with vault.unit_of_work() as uow:
        entry = InteractionEntry(
            kind="purchase",
            occurred_at=datetime.now(UTC) - timedelta(days=1),
            summary="Qajar-era carpet",
            amount=Decimal("1200.00"),
            currency="AZN",
        )
        append_interaction(uow, Caller(business.id, "test"), customer.agreement_id, entry)
    with vault.unit_of_work() as uow:
        add_note(uow, business.id, customer.subject, "Prefers calls after six")
    with vault.unit_of_work() as uow:
        add_tag(uow, business.id, customer.subject, "collector")
    return business, customer


def _shoot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def test_the_card_has_no_serious_accessibility_violation(
    runtime: Runtime,
    live_server: str,  # noqa: F811
    browser: Browser,  # noqa: F811
) -> None:
    business, customer = _seed(runtime)
    page = browser.new_page()
    axe = Axe()
    found: dict[str, list[str]] = {}
    try:
        page.goto(f"{live_server}/portal/login")
        page.locator("#email").fill(business.email("agent"))
        page.locator("#password").fill(TEST_PASSWORD)
        page.locator("#submit").click()
        page.wait_for_url(lambda url: "/login" not in url)
        for lang in ("en", "tr"):
            for width in (1280, 390):
                page.set_viewport_size({"width": width, "height": 900})
                page.goto(f"{live_server}{customer.card}?lang={lang}")
                for summary in page.locator("details > summary").all():
                    summary.click()  # every form open
                found[f"{lang}-{width}"] = _serious(page, axe)
                sideways = page.evaluate("document.documentElement.scrollWidth > innerWidth")
                assert not sideways, f"the card scrolls sideways at {width} px"
                _shoot(page, f"card-{lang}-{width}")
        # A form sent back with a problem beside a field.
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"{live_server}{customer.card}?lang=en")
        page.locator("#log > summary").click()
        page.locator("#kind").select_option("purchase")
        page.locator("#log-submit").click()
        page.wait_for_load_state("load")
        assert page.get_by_text("A purchase needs an amount").count() == 1
        found["with-errors"] = _serious(page, axe)
        _shoot(page, "card-errors")
    finally:
        page.close()
    assert {name: ids for name, ids in found.items() if ids} == {}
