"""Every page of the business portal in Chromium: axe finds nothing serious in English and
Turkish, none is wider than a phone, no field a customer kept back reaches the browser on any
page or download, and (with EMANET_PORTAL_SCREENSHOTS set to a folder) a picture of each page
at 1280 and 390 px, in its `portal/` or `compliance/` subfolder."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, Response

from emanet.app import create_app
from emanet.bootstrap import Runtime
from tests.business_portal.conftest import make_portal_business
from tests.conftest import TEST_PASSWORD
from tests.portal_pages import portal_downloads, portal_pages
from tests.portal_tour import PortalTour, build_portal_tour

pytestmark = pytest.mark.e2e
WIDTHS = (1280, 390)
SCREENSHOTS = os.environ.get("EMANET_PORTAL_SCREENSHOTS")


def _tour(runtime: Runtime) -> tuple[PortalTour, dict[str, str], dict[str, str]]:
    vault = runtime.vault
    business = make_portal_business(vault, "Köhnə Şəhər Antikvarları", "antiques.example")
    other = make_portal_business(vault, "Boğaziçi Kitabevi", "books.example")
    build_portal_tour(vault, other, tag="B")
    tour = build_portal_tour(vault, business)
    app = create_app({"TESTING": True}, settings=runtime.settings)
    try:
        return tour, portal_pages(app, tour), portal_downloads(app, tour)
    finally:
        app.extensions["emanet"].close()


def sign_in_staff(page: Page, base: str, email: str, lang: str = "en") -> None:
    """Sign in through the portal's form, as a person would."""
    page.goto(f"{base}/portal/login?lang={lang}")
    page.locator("#email").fill(email)
    page.locator("#password").fill(TEST_PASSWORD)
    page.locator("main form [type=submit]").click()
    page.wait_for_url(re.compile(r"/portal/(?!login)"))


@pytest.mark.parametrize("lang", ["en", "tr"])
def test_every_portal_page_is_accessible(
    runtime: Runtime, live_server: str, browser: Browser, lang: str
) -> None:
    tour, pages, _downloads = _tour(runtime)
    context = browser.new_context(locale="tr-TR" if lang == "tr" else "en-GB")
    page = context.new_page()
    axe = Axe()
    found: dict[str, list[str]] = {}
    signed_out = {
        "portal_staff.login": "/portal/login",
        "portal_compliance.login": "/portal/compliance/login",
    }
    try:
        for name, path in signed_out.items():
            page.goto(f"{live_server}{path}?lang={lang}")
            _check(page, axe, name, found)
            if SCREENSHOTS:
                _shoot(page, f"{live_server}{path}?lang={lang}", name, lang)
        sign_in_staff(page, live_server, tour.business.email("owner"), lang)
        for name, path in pages.items():
            url = f"{live_server}{path}{'&' if '?' in path else '?'}lang={lang}"
            page.set_viewport_size({"width": 1280, "height": 900})
            answer = page.goto(url)
            assert answer is not None and answer.status == 200, (name, answer and answer.status)
            _check(page, axe, name, found)
            if SCREENSHOTS:
                _shoot(page, url, name, lang)
    finally:
        context.close()
    assert found == {}


def _check(page: Page, axe: Axe, name: str, found: dict[str, list[str]]) -> None:
    # The forms folded away are checked too.
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true })")
    violations = axe.run(page).response["violations"]
    serious = [v["id"] for v in violations if v["impact"] in ("serious", "critical")]
    page.set_viewport_size({"width": 390, "height": 900})
    if page.evaluate("document.documentElement.scrollWidth > innerWidth"):
        serious.append("wider than a 390 px screen")
    page.set_viewport_size({"width": 1280, "height": 900})
    if serious:
        found[name] = serious


def _shoot(page: Page, url: str, name: str, lang: str) -> None:
    area = "compliance" if name.startswith("portal_compliance") else "portal"
    folder = Path(SCREENSHOTS or ".") / area
    folder.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(url)
        page.screenshot(
            path=str(folder / f"{name.replace('.', '-')}-{lang}-{width}.png"), full_page=True
        )


def test_no_kept_back_field_reaches_the_browser(
    runtime: Runtime, live_server: str, browser: Browser
) -> None:
    tour, pages, downloads = _tour(runtime)
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    bodies: dict[str, str] = {}

    def keep(answer: Response) -> None:
        if answer.request.resource_type in ("document", "fetch", "xhr"):
            try:
                bodies[answer.url] = answer.text()
            except Exception:  # a redirect has no body to read
                return

    page.on("response", keep)
    try:
        sign_in_staff(page, live_server, tour.business.email("owner"))
        for path in pages.values():
            page.goto(live_server + path)
            page.wait_for_load_state("load")
        for path in downloads.values():
            answer = page.request.get(live_server + path)
            assert answer.status == 200, path
            bodies[path] = answer.text()
    finally:
        context.close()
    assert len(bodies) >= len(pages) + len(downloads)
    everything = "\n".join(bodies.values())
    for shared in tour.shared:  # what was granted does show: the scan reads real pages
        assert shared in everything
    leaks = {
        url: [s for s in tour.secrets if s in body]
        for url, body in bodies.items()
        if any(s in body for s in tour.secrets)
    }
    assert leaks == {}
