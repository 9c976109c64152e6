"""Drive the authorization code flow through the Flask test client, as a browser would."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient

from tests.conftest import TEST_PASSWORD

DETAILS = [
    {
        "type": "emanet_data_sharing",
        "fields": ["identity.given_name", "contact.email", "contact.phone"],
        "purpose": "CustomerCare",
        "purpose_description": "Call you when a carpet you asked about arrives",
        "duration": "P1Y",
        "retention": "P30D",
    }
]


@dataclass
class Pkce:
    verifier: str
    challenge: str


def new_pkce() -> Pkce:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return Pkce(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode())


def authorize_params(client_id: str, redirect_uri: str, pkce: Pkce, **extra: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": "xyz-" + secrets.token_hex(4),
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        "authorization_details": json.dumps(DETAILS),
    }
    params.update(extra)
    return {k: v for k, v in params.items() if v != ""}


def csrf_token(html: str) -> str:
    marker = 'name="csrf_token" type="hidden" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def sign_in(client: FlaskClient, email: str) -> None:
    page = client.get("/login")
    answer = client.post(
        "/login",
        data={
            "email": email,
            "password": TEST_PASSWORD,
            "csrf_token": csrf_token(page.get_data(as_text=True)),
        },
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)


def consent(
    client: FlaskClient,
    authorize_query: dict[str, str],
    email: str,
    tick: list[str] | None,
    decline: bool = False,
) -> dict[str, list[str]]:
    """Authorize, sign in, answer the consent screen; return the query sent to the client."""
    sign_in(client, email)
    step = client.get("/oauth/authorize", query_string=authorize_query)
    assert step.status_code == 303, step.get_data(as_text=True)
    consent_url = step.headers["Location"]
    page = client.get(consent_url)
    assert page.status_code == 200, page.get_data(as_text=True)
    form = {
        "csrf_token": csrf_token(page.get_data(as_text=True)),
        "next": parse_qs(urlsplit(consent_url).query)["next"][0],
    }
    if decline:
        form["decline"] = "Decline"
    else:
        form["grant"] = "Share"
    answer = client.post(consent_url, data={**form, "fields": tick or []})
    assert answer.status_code == 303, answer.get_data(as_text=True)
    back = client.get(answer.headers["Location"])
    assert back.status_code == 303, back.get_data(as_text=True)
    return parse_qs(urlsplit(back.headers["Location"]).query)
