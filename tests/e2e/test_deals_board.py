"""The deal board in Chromium: drag a card from New to Proposal and reload; move one with the
keyboard form (every page's accessibility: tests/e2e/test_portal_pages.py)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.business_portal.conftest import PortalBusiness
from tests.business_portal.test_deals import connected, open_deal, stage_ids
from tests.conftest import TEST_PASSWORD
from vault.unit_of_work import Vault

pytestmark = pytest.mark.e2e


def signed_in_page(browser: Browser, base: str, email: str) -> Page:
    context = browser.new_context(base_url=base)
    page = context.new_page()
    page.goto("/portal/login")
    page.fill("#email", email)
    page.fill("#password", TEST_PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(re.compile(r"/portal/(?!login)"))
    return page


def column(page: Page, stage_id: object) -> object:
    return page.locator(f".deal-cards[data-stage-id='{stage_id}']")


def test_a_card_is_dragged_from_new_to_proposal_and_stays_after_a_reload(
    vault: Vault,
    business: PortalBusiness,
    browser: Browser,
    live_server: str,
) -> None:
    customer = connected(vault, business)
    open_deal(vault, business, customer.subject, title="Dragged carpet")
    open_deal(vault, business, customer.subject, title="Keyboard lamp", amount="40")
    stages = stage_ids(vault, business)
    page = signed_in_page(browser, live_server, business.email("agent"))
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto("/portal/deals")
    card = page.locator(".deal-card", has_text="Dragged carpet")
    card.drag_to(column(page, stages["proposal"]))
    expect(page.locator("#board-status")).to_have_text("“Dragged carpet” is now in Proposal.")
    expect(page.locator(f"#total-{stages['proposal']}")).to_have_text("1 deal · AZN1,250.00")
    page.reload()
    expect(column(page, stages["proposal"])).to_contain_text("Dragged carpet")
    expect(column(page, stages["new"])).not_to_contain_text("Dragged carpet")

    lamp = page.locator(".deal-card", has_text="Keyboard lamp")
    lamp.locator("select").select_option(str(stages["meeting"]))
    lamp.locator("button", has_text="Move").press("Enter")
    expect(page.locator("#board-status")).to_have_text("“Keyboard lamp” is now in Meeting.")
    expect(column(page, stages["meeting"])).to_contain_text("Keyboard lamp")
    page.reload()
    expect(column(page, stages["meeting"])).to_contain_text("Keyboard lamp")
    assert errors == []
    page.context.close()
