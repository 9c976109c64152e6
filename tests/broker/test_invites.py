"""Invites: a link and QR code at the counter open the same consent screen."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from broker.invites.models import Invite
from emanet.bootstrap import Runtime
from tests.broker.oauth_helpers import csrf_token, sign_in
from tests.broker.test_resource_api import bulk_token
from tests.conftest import make_customer
from tests.factories import make_business
from vault.agreements.models import Agreement

TERMS = {
    "purpose": "CustomerCare",
    "purpose_description": "Call you when a new piece for your collection comes in",
    "fields": [{"key": "contact.phone"}, {"key": "identity.given_name"}],
    "duration": "P2Y",
    "retention": "P30D",
}


def _invite(client: FlaskClient, token: str, **extra: object) -> dict[str, str]:
    answer = client.post(
        "/api/v1/invites",
        json={"label": "Counter", "terms": TERMS, **extra},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return answer.get_json()


def test_an_invite_opens_the_consent_screen_and_makes_one_request_per_customer(
    app: Flask, runtime: Runtime
) -> None:
    client = app.test_client()
    _, credentials = make_business(runtime.vault)
    invite = _invite(client, bulk_token(client, credentials))
    make_customer(
        runtime.vault,
        email="collector@example.az",
        profile={"contact.phone": "+994 51 555 12 34", "identity.given_name": "Kamran"},
    )
    sign_in(client, "collector@example.az")
    path = urlsplit(invite["url"]).path
    first = client.get(path)
    again = client.get(path)
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    consent_page = client.get(first.headers["Location"])
    assert "Call you when a new piece" in consent_page.get_data(as_text=True)
    granted = client.post(
        first.headers["Location"],
        data={
            "csrf_token": csrf_token(consent_page.get_data(as_text=True)),
            "grant": "Share",
            "fields": ["contact.phone"],
        },
    )
    assert granted.status_code == 303
    with runtime.vault.unit_of_work(write=False) as uow:
        made = uow.session.scalars(select(Agreement)).all()
    assert [(a.status, a.granted_fields) for a in made] == [("active", {"contact.phone": "read"})]


def test_the_qr_code_comes_as_svg_and_png_to_its_business_only(
    app: Flask, runtime: Runtime
) -> None:
    client = app.test_client()
    _, credentials = make_business(runtime.vault)
    token = bulk_token(client, credentials)
    invite = _invite(client, token)
    headers = {"Authorization": f"Bearer {token}"}
    svg = client.get(urlsplit(invite["qr_svg"]).path, headers=headers)
    png = client.get(urlsplit(invite["qr_png"]).path, headers=headers)
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    assert png.mimetype == "image/png" and png.data.startswith(b"\x89PNG\r\n\x1a\n")
    _, other = make_business(runtime.vault, name="Other", redirect_uri="https://o.example/cb")
    foreign = client.get(
        urlsplit(invite["qr_png"]).path,
        headers={"Authorization": f"Bearer {bulk_token(client, other)}"},
    )
    assert foreign.status_code == 404
    assert (
        client.get(
            urlsplit(invite["qr_png"]).path.replace(".png", ".gif"), headers=headers
        ).status_code
        == 404
    )


def test_an_expired_invite_says_so_and_makes_nothing(app: Flask, runtime: Runtime) -> None:
    client = app.test_client()
    _, credentials = make_business(runtime.vault)
    invite = _invite(client, bulk_token(client, credentials), valid_for="P1D")
    with runtime.vault.unit_of_work() as uow:
        uow.session.execute(update(Invite).values(expires_at=uow.now() - timedelta(seconds=1)))
        uow.commit()
    make_customer(runtime.vault, email="late@example.az")
    sign_in(client, "late@example.az")
    answer = client.get(urlsplit(invite["url"]).path)
    assert answer.status_code == 404 and "no longer valid" in answer.get_data(as_text=True)
    with runtime.vault.unit_of_work(write=False) as uow:
        assert uow.session.scalars(select(Agreement)).all() == []


@pytest.mark.parametrize(
    "body",
    [
        {"label": "x", "terms": {**TERMS, "fields": [{"key": "nope.nope"}]}},
        {"label": "", "terms": TERMS},
        {"label": "x", "terms": TERMS, "valid_for": "forever"},
        {"terms": TERMS},
    ],
)
def test_a_bad_invite_is_refused_with_a_problem(app: Flask, runtime: Runtime, body: dict) -> None:
    client = app.test_client()
    _, credentials = make_business(runtime.vault)
    answer = client.post(
        "/api/v1/invites",
        json=body,
        headers={"Authorization": f"Bearer {bulk_token(client, credentials)}"},
    )
    assert answer.status_code == 422
    assert answer.headers["Content-Type"] == "application/problem+json"
