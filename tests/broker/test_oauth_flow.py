"""The authorization code flow with PKCE, end to end through the Flask app."""

from __future__ import annotations

from flask.testing import FlaskClient

from emanet.bootstrap import Runtime
from tests.broker.oauth_helpers import authorize_params, consent, new_pkce
from tests.conftest import make_customer
from tests.factories import REDIRECT_URI, make_business


def test_code_flow_with_one_field_unticked_returns_exactly_the_granted_fields(
    client: FlaskClient, runtime: Runtime
) -> None:
    _, credentials = make_business(runtime.vault)
    make_customer(
        runtime.vault,
        email="aysel@example.az",
        profile={
            "identity.given_name": "Aysel",
            "contact.email": "aysel@example.az",
            "contact.phone": "+994 50 123 45 67",
        },
    )
    pkce = new_pkce()
    query = authorize_params(credentials.client_id, REDIRECT_URI, pkce)
    sent = consent(client, query, "aysel@example.az", tick=["identity.given_name", "contact.email"])
    assert sent["state"] == [query["state"]]
    assert sent["iss"] == [runtime.vault.issuer]
    token = client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": sent["code"][0],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": pkce.verifier,
        },
        auth=(credentials.client_id, credentials.client_secret),
    )
    assert token.status_code == 200, token.get_data(as_text=True)
    assert token.headers["Cache-Control"] == "no-store"
    body = token.get_json()
    assert body["expires_in"] <= 600 and body["refresh_token"]
    profile = client.get(
        f"/api/v1/customers/{body['customer']}/profile",
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )
    assert profile.status_code == 200, profile.get_data(as_text=True)
    fields = profile.get_json()["fields"]
    assert {k: v["value"] for k, v in fields.items()} == {
        "identity.given_name": "Aysel",
        "contact.email": "aysel@example.az",
    }


def test_consent_page_lets_its_form_lead_back_to_the_client_only(
    client: FlaskClient, runtime: Runtime
) -> None:
    from tests.broker.oauth_helpers import sign_in

    _, credentials = make_business(runtime.vault)
    make_customer(runtime.vault, email="elvin@example.az")
    sign_in(client, "elvin@example.az")
    step = client.get(
        "/oauth/authorize",
        query_string=authorize_params(credentials.client_id, REDIRECT_URI, new_pkce()),
    )
    page = client.get(step.headers["Location"])
    policy = page.headers["Content-Security-Policy"]
    assert "form-action 'self' https://shop.example;" in policy
    assert "form-action 'self';" in client.get("/login").headers["Content-Security-Policy"]
