"""Every page of the vault in Chromium: hostile input shows as text, axe finds nothing serious,
and (with EMANET_SCREENSHOTS set) a picture of each page at 1280 and 390 px in en and az."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from emanet.app import create_app
from emanet.bootstrap import Runtime
from tests.pages import anonymous_pages, signed_in_pages
from tests.tour import XSS_PAYLOADS, Tour, build_tour

pytestmark = pytest.mark.e2e
WIDTHS = (1280, 390)
SCREENSHOTS = os.environ.get("EMANET_SCREENSHOTS")


def _pages(runtime: Runtime, tour: Tour) -> tuple[dict[str, str], dict[str, str]]:
    app = create_app({"TESTING": True}, settings=runtime.settings)
    try:
        return anonymous_pages(app), signed_in_pages(app, runtime.vault, tour)
    finally:
        app.extensions["emanet"].close()


def _sign_in(page: Page, base: str, tour: Tour) -> None:
    page.goto(base + "/login?lang=en")
    page.get_by_label("E-mail").fill(tour.email)
    page.get_by_label("Password").fill(tour.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.fixture
def hostile_tour(runtime: Runtime) -> Tour:
    return build_tour(runtime.vault, hostile=True)


def test_hostile_input_fires_no_script_on_any_page(
    hostile_tour: Tour, runtime: Runtime, live_server: str, page: Page
) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    _, pages = _pages(runtime, hostile_tour)
    _sign_in(page, live_server, hostile_tour)
    seen_as_text = 0
    for path in pages.values():
        answer = page.goto(live_server + path)
        assert answer is not None and answer.status < 400, path
        page.wait_for_load_state("load")
        seen_as_text += sum(page.get_by_text(p, exact=False).count() for p in XSS_PAYLOADS)
    assert dialogs == []
    assert seen_as_text > 0  # the payloads were on the pages, shown as text


@pytest.mark.parametrize("lang", ["en", "az"])
def test_no_page_has_a_serious_accessibility_violation(
    runtime: Runtime, live_server: str, browser: Browser, lang: str
) -> None:
    tour = build_tour(runtime.vault)
    anonymous, pages = _pages(runtime, tour)
    context = browser.new_context(locale="az-AZ" if lang == "az" else "en-GB")
    page = context.new_page()
    axe = Axe()
    found: dict[str, list[str]] = {}
    try:
        for name, path in anonymous.items():
            _check(page, axe, f"{live_server}{path}?lang={lang}", name, found)
            if SCREENSHOTS:
                _shoot(page, f"{live_server}{path}?lang={lang}", name, lang)
        _sign_in(page, live_server, tour)
        for name, path in pages.items():
            url = f"{live_server}{path}{'&' if '?' in path else '?'}lang={lang}"
            _check(page, axe, url, name, found)
            if SCREENSHOTS:
                _shoot(page, url, name, lang)
    finally:
        context.close()
    assert found == {}


def _check(page: Page, axe: Axe, url: str, name: str, found: dict[str, list[str]]) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(url)
    violations = axe.run(page).response["violations"]
    serious = [v["id"] for v in violations if v["impact"] in ("serious", "critical")]
    if serious:
        found[name] = serious


def _shoot(page: Page, url: str, name: str, lang: str) -> None:
    folder = Path(SCREENSHOTS or ".")
    folder.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(url)
        page.screenshot(
            path=str(folder / f"{name.replace('.', '-')}-{lang}-{width}.png"), full_page=True
        )
