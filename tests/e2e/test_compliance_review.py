"""The compliance console in Chromium: an officer filters the registry, opens an agreement,
sees the diff between two versions, verifies a receipt, comments and signs off, and makes a
report whose progress the page follows; axe finds nothing serious on any console page.

With EMANET_SCREENSHOTS=<folder> set, a picture of each page at 1280 and 390 px is kept.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.business_portal.conftest import Clock, PortalBusiness
from tests.business_portal.test_compliance_factories import (
    agreement,
    auditor,
    customer_of,
    log,
    pseudonym,
    terms,
)
from tests.conftest import TEST_PASSWORD
from vault.unit_of_work import Vault

pytestmark = pytest.mark.e2e
SCREENSHOTS = os.environ.get("EMANET_SCREENSHOTS")
FIELDS = {"identity.given_name": "read", "contact.email": "read"}


def _serious(page: Page, axe: Axe) -> list[str]:
    violations = axe.run(page).response["violations"]
    return [v["id"] for v in violations if v["impact"] in ("serious", "critical")]


def _shoot(page: Page, name: str) -> None:
    if not SCREENSHOTS:
        return
    folder = Path(SCREENSHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def _data(vault: Vault, business: PortalBusiness, clock: Clock) -> tuple[str, str]:
    first = agreement(vault, business.id, terms(FIELDS, duration="P1Y"))
    customer_id = customer_of(vault, first)
    wider = {**FIELDS, "identity.family_name": "read"}
    second = agreement(
        vault,
        business.id,
        terms(wider, duration="P2Y", description="Marketing"),
        customer_id=customer_id,
        supersedes=first,
    )
    agreement(vault, business.id, terms({"contact.address": "read"}, purpose="Delivery"))
    log(vault, clock, clock.now, business.id, second, "client:x", ["contact.email"])
    return str(second), pseudonym(vault, business.id, customer_id)


def test_an_officer_reviews_an_agreement_in_the_browser(
    vault: Vault,
    business: PortalBusiness,
    clock: Clock,
    live_server: str,
    browser: Browser,
) -> None:
    agreement_id, subject = _data(vault, business, clock)
    auditor(vault)
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    axe = Axe()
    found: dict[str, list[str]] = {}

    def check(name: str) -> None:
        serious = _serious(page, axe)
        if serious:
            found[name] = serious
        _shoot(page, name)

    page.goto(f"{live_server}/portal/compliance/login?lang=en")
    check("login")
    page.goto(f"{live_server}/portal/login?lang=en")
    page.get_by_label("Work e-mail").fill(business.email("compliance"))
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)

    page.goto(f"{live_server}/portal/compliance/?lang=en")
    check("registry")
    page.get_by_label("Purpose").select_option("Delivery")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("1 agreement", exact=True)).to_be_visible()
    page.get_by_label("Purpose").select_option("")
    page.get_by_label("Status").select_option("active")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("link", name=subject).click()
    page.wait_for_url(re.compile(agreement_id))
    expect(page.get_by_text("Term: 1 year → 2 years")).to_be_visible()
    expect(page.get_by_text("Asks for Family name (read)")).to_be_visible()
    expect(page.get_by_text("Vague purpose", exact=True)).to_be_visible()
    check("agreement")

    page.get_by_role("button", name=re.compile("Verify the signature")).first.click()
    expect(page.get_by_text("Valid.", exact=True)).to_be_visible()
    check("receipt")
    page.get_by_role("link", name="Back to the agreement").click()

    page.get_by_role("radio", name="Add a comment").check()
    page.get_by_role("textbox", name="Comment").fill("The purpose says nothing specific.")
    page.get_by_role("button", name="Add to the review").click()
    expect(page.get_by_text("The purpose says nothing specific.")).to_be_visible()
    page.get_by_label("Sign off").check()
    page.get_by_role("button", name="Add to the review").click()
    expect(page.locator(".review-step-signed_off")).to_be_visible()
    check("agreement-reviewed")

    page.goto(f"{live_server}/portal/compliance/verification?lang=en")
    page.get_by_role("button", name="Verify the log now").click()
    expect(page.get_by_text("The log holds.")).to_be_visible(timeout=20_000)
    check("verification")

    page.goto(f"{live_server}/portal/compliance/reports?lang=en")
    check("reports")
    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_text("The report is ready.")).to_be_visible(timeout=30_000)
    check("report-ready")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download the PDF file")).click()
    assert download.value.suggested_filename == "emanet-processing.pdf"

    for lang in ("az", "tr"):
        page.goto(f"{live_server}/portal/compliance/agreements/{agreement_id}?lang={lang}")
        check(f"agreement-{lang}")
        page.goto(f"{live_server}/portal/compliance/?lang={lang}")
        check(f"registry-{lang}")
    context.close()
    assert found == {}
