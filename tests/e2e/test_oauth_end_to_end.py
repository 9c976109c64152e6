"""Acceptance: a real OAuth client library against gunicorn; consent and revocation in Chromium.

authorization code + PKCE → consent with one field unticked → token → the profile holds
exactly the granted fields → the customer revokes → profile, refresh and introspection fail.
"""

from __future__ import annotations

import json
import os

import pytest
import requests
from oauthlib.oauth2 import OAuth2Error
from playwright.sync_api import Page, Route
from requests_oauthlib import OAuth2Session

from emanet.bootstrap import Runtime
from tests.broker.oauth_helpers import DETAILS
from tests.conftest import TEST_PASSWORD, make_customer
from tests.e2e.conftest import screenshot
from tests.factories import REDIRECT_URI, make_business

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _plain_http_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    # oauthlib refuses http:// unless told; the server under test listens on 127.0.0.1 only.
    monkeypatch.setitem(os.environ, "OAUTHLIB_INSECURE_TRANSPORT", "1")


def test_consent_token_profile_then_revocation_ends_everything(
    runtime: Runtime, live_server: str, page: Page
) -> None:
    _, app_credentials = make_business(runtime.vault)
    make_customer(
        runtime.vault,
        email="leyla@example.az",
        profile={
            "identity.given_name": "Leyla",
            "contact.email": "leyla@example.az",
            "contact.phone": "+994 55 765 43 21",
        },
    )
    oauth = OAuth2Session(app_credentials.client_id, redirect_uri=REDIRECT_URI, pkce="S256")
    authorization_url, state = oauth.authorization_url(
        live_server + "/oauth/authorize", authorization_details=json.dumps(DETAILS)
    )

    returned: list[str] = []

    def the_shop(route: Route) -> None:
        returned.append(route.request.url)
        route.fulfill(status=200, body="Thank you")

    page.route("https://shop.example/**", the_shop)
    page.goto(authorization_url)
    page.get_by_label("E-mail").fill("leyla@example.az")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Phone").uncheck()
    screenshot(page, "consent-screen")
    page.get_by_role("button", name="Share the ticked fields").click()
    page.wait_for_url("https://shop.example/**")
    assert returned and f"state={state}" in returned[0]
    assert f"iss={requests.utils.quote(live_server, safe='')}" in returned[0]

    token = oauth.fetch_token(
        live_server + "/oauth/token",
        authorization_response=returned[0],
        client_secret=app_credentials.client_secret,
    )
    profile_url = f"{live_server}/api/v1/customers/{token['customer']}/profile"
    profile = oauth.get(profile_url)
    assert profile.status_code == 200
    assert {k: v["value"] for k, v in profile.json()["fields"].items()} == {
        "identity.given_name": "Leyla",
        "contact.email": "leyla@example.az",
    }

    page.goto(live_server + "/connections")
    page.get_by_role("link", name="Revoke").click()
    page.get_by_role("button", name="Yes, revoke").click()
    page.get_by_role("status").wait_for()
    screenshot(page, "connections-after-revoke")

    after = oauth.get(profile_url)
    assert after.status_code in (401, 403)
    assert after.headers["Content-Type"] == "application/problem+json"
    with pytest.raises(OAuth2Error):
        oauth.refresh_token(
            live_server + "/oauth/token",
            client_id=app_credentials.client_id,
            client_secret=app_credentials.client_secret,
        )
    introspection = requests.post(
        live_server + "/oauth/introspect",
        data={"token": token["access_token"]},
        auth=(app_credentials.client_id, app_credentials.client_secret),
        timeout=10,
    )
    assert introspection.json() == {"active": False}
