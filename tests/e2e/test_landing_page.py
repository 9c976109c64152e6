"""The landing page in a real browser: languages by keyboard, no serious accessibility issue."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e


def test_a_visitor_switches_language_with_the_keyboard(live_server: str, page: Page) -> None:
    page.goto(live_server + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Your personal data, entrusted to you"
    )
    page.get_by_role("link", name="Azərbaycanca").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Şəxsi məlumatlarınız sizə əmanətdir")
    screenshot(page, "landing-az")
    page.goto(live_server + "/")  # the choice is remembered
    expect(page.locator("html")).to_have_attribute("lang", "az")


@pytest.mark.parametrize("lang", ["en", "az", "tr"])
def test_landing_page_has_no_serious_accessibility_violation(
    live_server: str, page: Page, lang: str
) -> None:
    page.goto(f"{live_server}/?lang={lang}")
    violations = Axe().run(page).response["violations"]
    serious = [v["id"] for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == []


def test_landing_page_fits_a_phone(live_server: str, page: Page) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(live_server + "/?lang=tr")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
    screenshot(page, "landing-tr-phone")
