"""Acceptance of the business portal, in Chromium against gunicorn, with the customer in a
second browser: staff sign in → the list and the card show exactly the granted fields → a
purchase logged on the card shows in the customer's own vault → a task is made and done →
the customer lands in a segment → the customer revokes in the vault → at the next load the
customer is gone from the list, the card and the segment."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from broker.pairwise import subject_for
from emanet.bootstrap import Runtime
from tests.business_portal.conftest import make_portal_business
from tests.conftest import TEST_PASSWORD, make_customer
from tests.e2e.conftest import screenshot
from tests.e2e.test_portal_pages import sign_in_staff
from tests.factories import make_active_agreement

pytestmark = pytest.mark.e2e
EMAIL = "leyla.quliyeva@example.az"
PROFILE = {
    "identity.given_name": "Leyla",
    "identity.family_name": "Quliyeva",
    "contact.phone": "+994 50 444 55 66",
    "contact.email": "leyla.private@mail.example",
    "identity.birth_date": "1990-02-17",
}
ASKED = {
    "identity.given_name": "read",
    "identity.family_name": "read",
    "contact.phone": "read",
    "contact.email": "read",
    "identity.birth_date": "read",
    "interactions": "append",
}
KEPT_BACK = ("contact.email", "identity.birth_date")


def sign_in_customer(page: Page, base: str) -> None:
    page.goto(base + "/login?lang=en")
    page.get_by_label("E-mail").fill(EMAIL)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def test_a_day_in_the_portal_ends_with_a_revocation(
    runtime: Runtime, live_server: str, browser: Browser
) -> None:
    vault = runtime.vault
    business = make_portal_business(vault, "Köhnə Şəhər Antikvarları", "antiques.example")
    customer_id = make_customer(vault, email=EMAIL, profile=PROFILE)
    granted = {k: m for k, m in ASKED.items() if k not in KEPT_BACK}
    make_active_agreement(vault, business.id, customer_id, ASKED, granted)
    with vault.unit_of_work() as uow:
        subject = subject_for(uow, business.id, customer_id)
        uow.commit()

    staff = browser.new_context(locale="en-GB").new_page()
    person = browser.new_context(locale="en-GB").new_page()
    sign_in_staff(staff, live_server, business.email("agent"))

    staff.goto(f"{live_server}/portal/customers?lang=en")
    row = staff.locator("main table tbody tr", has_text=subject)
    expect(row).to_contain_text("Leyla")
    expect(row).to_contain_text("Quliyeva")
    assert "leyla.private" not in staff.content() and "1990" not in staff.content()
    row.get_by_role("link", name=subject).click()
    staff.wait_for_url(f"**/portal/customers/{subject}**")
    main = staff.locator("main")
    expect(main).to_contain_text("+994 50 444 55 66")
    expect(main).to_contain_text("Not shared")
    assert "leyla.private" not in staff.content() and "17.02.1990" not in staff.content()

    staff.locator("details", has_text="Log an interaction").locator("summary").first.click()
    staff.locator("#kind").select_option("purchase")
    staff.locator("#summary").fill("Silver belt buckle")
    staff.locator("#amount").fill("350")
    staff.locator("#currency").select_option("AZN")
    staff.locator("#log-submit").click()
    expect(staff.locator("main")).to_contain_text("Silver belt buckle")
    screenshot(staff, "portal-journey-card")

    sign_in_customer(person, live_server)
    person.goto(f"{live_server}/interactions?lang=en")
    expect(person.locator("main")).to_contain_text("Silver belt buckle")
    expect(person.locator("main")).to_contain_text("Köhnə Şəhər Antikvarları")

    staff.goto(f"{live_server}/portal/tasks/new?subject={subject}&lang=en")
    staff.locator("#title").fill("Ring Leyla about the matching brooch")
    staff.locator("main form [type=submit]").last.click()
    staff.goto(f"{live_server}/portal/tasks?lang=en")
    task = staff.locator("main li, main tr", has_text="Ring Leyla about the matching brooch")
    expect(task.first).to_be_visible()
    task.first.get_by_role("button", name="Mark done").click()
    staff.goto(f"{live_server}/portal/tasks?show=done&lang=en")
    expect(staff.locator("main")).to_contain_text("Ring Leyla about the matching brooch")

    staff.goto(f"{live_server}/portal/segments?lang=en")
    staff.locator("main form [type=submit]").first.click()  # recompute now
    staff.goto(f"{live_server}/portal/segments/lost?lang=en")  # one buyer scores 1/1/1
    expect(staff.locator("main")).to_contain_text(subject)

    person.goto(f"{live_server}/connections?lang=en")
    person.get_by_role("link", name="Details and history").first.click()
    person.get_by_role("link", name="Revoke").first.click()
    person.get_by_role("button", name="Yes, revoke").click()

    staff.goto(f"{live_server}/portal/customers?lang=en")
    expect(staff.locator("main")).not_to_contain_text(subject)
    card = staff.goto(f"{live_server}/portal/customers/{subject}?lang=en")
    assert card is not None and card.status == 404
    staff.goto(f"{live_server}/portal/segments/lost?lang=en")
    expect(staff.locator("main")).not_to_contain_text(subject)
    staff.context.close()
    person.context.close()
