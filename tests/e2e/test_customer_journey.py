"""Acceptance of the web vault, in Chromium against gunicorn, the business played by
requests-oauthlib and a webhook receiver:

sign up → a business's request arrives through the broker flow → untick one field → grant →
the connection shows → the business pulls → the access log shows the pull with the right
fields → pause → the pull is refused → resume → revoke → the next pull fails → the export
ZIP holds every field and every receipt → delete the account → sign-in fails and the
business got `customer.erased`. And two-factor sign-in with a code computed here.
"""

from __future__ import annotations

import io
import json
import os
import threading
import time
import zipfile

import pyotp
import pytest
from playwright.sync_api import Page, Route, expect
from requests_oauthlib import OAuth2Session

from broker.webhooks.delivery import deliver_due
from broker.webhooks.services import fan_out
from emanet.bootstrap import Runtime
from tests.broker.oauth_helpers import DETAILS
from tests.broker.test_webhooks import Receiver, add_endpoint
from tests.conftest import TEST_PASSWORD
from tests.e2e.conftest import screenshot
from tests.factories import REDIRECT_URI, make_business

pytestmark = pytest.mark.e2e
EMAIL = "nigar.hasanova@example.az"


@pytest.fixture(autouse=True)
def _plain_http_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(os.environ, "OAUTHLIB_INSECURE_TRANSPORT", "1")


def sign_up(page: Page, base: str) -> None:
    page.goto(base + "/signup?lang=en")
    page.get_by_label("E-mail").fill(EMAIL)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Create my vault").click()
    page.wait_for_url(lambda url: "/signup" not in url)


def fill(page: Page, base: str, key: str, value: str) -> None:
    page.goto(f"{base}/data/{key}/edit?lang=en")
    page.locator("main input[type=text], main input[type=tel], main input[type=email]").first.fill(
        value
    )
    page.locator("main form button[type=submit], main form input[type=submit]").first.click()
    page.wait_for_url(lambda url: "/edit" not in url)


def test_the_whole_life_of_a_connection(runtime: Runtime, live_server: str, page: Page) -> None:
    business_id, credentials = make_business(runtime.vault)
    receiver = Receiver()
    add_endpoint(runtime.vault, business_id, receiver.url())
    try:
        sign_up(page, live_server)
        fill(page, live_server, "identity.given_name", "Nigar")
        fill(page, live_server, "contact.email", EMAIL)
        fill(page, live_server, "contact.phone", "+994 70 123 45 67")

        # The business's request arrives through the broker flow.
        oauth = OAuth2Session(credentials.client_id, redirect_uri=REDIRECT_URI, pkce="S256")
        url, _ = oauth.authorization_url(
            live_server + "/oauth/authorize", authorization_details=json.dumps(DETAILS)
        )
        returned: list[str] = []

        def the_shop(route: Route) -> None:
            returned.append(route.request.url)
            route.fulfill(status=200, body="Thank you")

        page.route("https://shop.example/**", the_shop)
        page.goto(url)
        page.get_by_label("Phone").uncheck()
        page.get_by_role("button", name="Share the ticked fields").click()
        page.wait_for_url("https://shop.example/**")
        token = oauth.fetch_token(
            live_server + "/oauth/token",
            authorization_response=returned[0],
            client_secret=credentials.client_secret,
        )
        profile_url = f"{live_server}/api/v1/customers/{token['customer']}/profile"

        page.goto(live_server + "/connections?lang=en")
        expect(page.get_by_text("Köhnə Şəhər Antikvarları").first).to_be_visible()

        pulled = oauth.get(profile_url)
        assert pulled.status_code == 200
        assert set(pulled.json()["fields"]) == {"identity.given_name", "contact.email"}

        page.goto(live_server + "/access-log?lang=en")
        log = page.locator("main table").first.inner_text()
        assert "Köhnə Şəhər Antikvarları" in log
        assert "Given name" in log and "E-mail" in log and "Phone" not in log
        screenshot(page, "journey-access-log")

        page.goto(live_server + "/connections?lang=en")
        page.get_by_role("link", name="Details and history").first.click()
        page.get_by_role("button", name="Pause sharing").click()
        assert oauth.get(profile_url).status_code == 403
        page.get_by_role("button", name="Resume sharing").click()
        assert oauth.get(profile_url).status_code == 200
        page.get_by_role("link", name="Revoke").first.click()
        page.get_by_role("button", name="Yes, revoke").click()
        assert oauth.get(profile_url).status_code in (401, 403)

        page.goto(live_server + "/export?lang=en")
        with page.expect_download() as download:
            page.get_by_role("button", name="Download my data (ZIP)").or_(
                page.get_by_role("link", name="Download my data (ZIP)")
            ).click()
        archive = zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes()))
        document = json.loads(archive.read("vault.json"))
        assert {f["key"]: f["value"] for f in document["fields"]} == {
            "identity.given_name": "Nigar",
            "contact.email": EMAIL,
            "contact.phone": "+994701234567",
        }
        jws_files = [n for n in archive.namelist() if n.endswith(".jws")]
        assert len(jws_files) == len(document["receipts"]) >= 2  # the grant and the revocation

        page.goto(live_server + "/account/delete?lang=en")
        page.get_by_label("Your password").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Delete my account for good").click()
        page.wait_for_url("**/account/erased**")
        screenshot(page, "journey-erased")
        page.goto(live_server + "/login?lang=en")
        page.get_by_label("E-mail").fill(EMAIL)
        page.get_by_label("Password").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_text("The e-mail address or the password is not right.")).to_be_visible()

        with runtime.vault.unit_of_work() as uow:
            fan_out(uow)
        deliver_due(runtime.vault, stop_event=threading.Event())
        delivered = [json.loads(body)["type"] for _, _, body, _ in receiver.accepted()]
        assert "customer.erased" in delivered
    finally:
        receiver.stop()


def test_two_factor_sign_in_with_a_code_computed_here(live_server: str, page: Page) -> None:
    sign_up(page, live_server)
    page.goto(live_server + "/account?lang=en")
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    secret = page.locator(".totp-secret").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    page.get_by_label("Code from your authenticator app").fill(totp.now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    page.get_by_role("button", name="Sign out").click()

    page.goto(live_server + "/login?lang=en")
    page.get_by_label("E-mail").fill(EMAIL)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/login/code**")
    page.get_by_label("Code from your authenticator app").fill("000000")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".error").first).to_be_visible()
    page.get_by_label("Code from your authenticator app").fill(totp.at(int(time.time()) + 30))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
