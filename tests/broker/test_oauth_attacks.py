"""Bad input and attacks on the authorization server and the API: each gets the RFC's error
or a 4xx problem document, and changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from broker.businesses.services import IssuedClient
from broker.oauth.models import AuthorizationCode
from emanet.app import create_app
from emanet.bootstrap import Runtime
from tests.broker.oauth_helpers import DETAILS, Pkce, authorize_params, consent, new_pkce, sign_in
from tests.conftest import make_customer
from tests.factories import REDIRECT_URI, make_business
from vault.agreements.models import Agreement


@dataclass
class World:
    client: FlaskClient
    runtime: Runtime
    credentials: IssuedClient
    email: str = "tural@example.az"

    def agreements(self) -> int:
        with self.runtime.vault.unit_of_work(write=False) as uow:
            return uow.session.scalar(select(func.count()).select_from(Agreement)) or 0

    def code(self, pkce: Pkce, tick: list[str] | None = None) -> str:
        query = authorize_params(self.credentials.client_id, REDIRECT_URI, pkce)
        sent = consent(
            self.client, query, self.email, tick=tick or ["identity.given_name", "contact.email"]
        )
        return sent["code"][0]

    def token(self, **form: str) -> tuple[int, dict[str, object]]:
        answer = self.client.post(
            "/oauth/token",
            data=form,
            auth=(self.credentials.client_id, self.credentials.client_secret),
        )
        return answer.status_code, answer.get_json()

    def exchange(self, code: str, verifier: str) -> tuple[int, dict[str, object]]:
        return self.token(
            grant_type="authorization_code",
            code=code,
            redirect_uri=REDIRECT_URI,
            code_verifier=verifier,
        )

    def profile(self, body: dict[str, object], token: str | None = None) -> int:
        return self.client.get(
            f"/api/v1/customers/{body['customer']}/profile",
            headers={"Authorization": f"Bearer {token or body['access_token']}"},
        ).status_code


@pytest.fixture
def world(runtime: Runtime) -> Iterator[World]:
    app: Flask = create_app({"TESTING": True}, settings=runtime.settings)
    _, credentials = make_business(runtime.vault)
    make_customer(
        runtime.vault,
        email="tural@example.az",
        profile={"identity.given_name": "Tural", "contact.email": "tural@example.az"},
    )
    yield World(app.test_client(), runtime, credentials)
    app.extensions["emanet"].close()


def _redirected_error(world: World, **overrides: str) -> dict[str, list[str]]:
    sign_in(world.client, world.email)
    query = authorize_params(world.credentials.client_id, REDIRECT_URI, new_pkce(), **overrides)
    answer = world.client.get("/oauth/authorize", query_string=query)
    assert answer.status_code == 303
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?")
    return parse_qs(urlsplit(location).query)


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example/callback",
        REDIRECT_URI + "/",
        REDIRECT_URI + "?x=1",
        "https://SHOP.example/callback",
        "https://shop.example/callback#frag",
        "",
    ],
)
def test_unregistered_or_near_miss_redirect_uri_is_refused_without_redirect(
    world: World, redirect_uri: str
) -> None:
    before = world.agreements()
    query = authorize_params(world.credentials.client_id, REDIRECT_URI, new_pkce())
    query["redirect_uri"] = redirect_uri
    answer = world.client.get("/oauth/authorize", query_string=query)
    assert answer.status_code == 400 and "Location" not in answer.headers
    assert world.agreements() == before


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"code_challenge": "", "code_challenge_method": ""}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"authorization_details": "{not json"}, "invalid_authorization_details"),
        (
            {"authorization_details": json.dumps([{**DETAILS[0], "type": "payment_initiation"}])},
            "invalid_authorization_details",
        ),
        (
            {
                "authorization_details": json.dumps(
                    [{**DETAILS[0], "fields": ["identity.shoe_size"]}]
                )
            },
            "invalid_authorization_details",
        ),
        (
            {"authorization_details": json.dumps([{**DETAILS[0], "purpose": "Surveillance"}])},
            "invalid_authorization_details",
        ),
        (
            {
                "authorization_details": json.dumps(
                    [{**DETAILS[0], "purpose_description": "x" * 501}]
                )
            },
            "invalid_authorization_details",
        ),
        (
            {"authorization_details": json.dumps([DETAILS[0], DETAILS[0]])},
            "invalid_authorization_details",
        ),
        (
            {"authorization_details": "", "scope": "fields:contact.email purpose:Gossip"},
            "invalid_scope",
        ),
    ],
)
def test_bad_authorization_requests_are_answered_at_the_client_and_change_nothing(
    world: World, overrides: dict[str, str], error: str
) -> None:
    before = world.agreements()
    sent = _redirected_error(world, **overrides)
    assert sent["error"] == [error]
    assert sent["iss"] == [world.runtime.vault.issuer]
    assert "state" in sent
    assert world.agreements() == before


def test_a_wrong_code_verifier_is_refused(world: World) -> None:
    code = world.code(new_pkce())
    status, body = world.exchange(code, new_pkce().verifier)
    assert (status, body["error"]) == (400, "invalid_grant")


def test_a_missing_code_verifier_is_refused(world: World) -> None:
    code = world.code(new_pkce())
    status, body = world.token(
        grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI
    )
    assert (status, body["error"]) == (400, "invalid_request")


def test_a_reused_code_fails_and_revokes_what_it_issued(world: World) -> None:
    pkce = new_pkce()
    code = world.code(pkce)
    status, first = world.exchange(code, pkce.verifier)
    assert status == 200 and world.profile(first) == 200
    status, second = world.exchange(code, pkce.verifier)
    assert (status, second["error"]) == (400, "invalid_grant")
    assert world.profile(first) == 401
    status, refreshed = world.token(
        grant_type="refresh_token", refresh_token=str(first["refresh_token"])
    )
    assert (status, refreshed["error"]) == (400, "invalid_grant")


def test_an_expired_code_is_refused(world: World) -> None:
    pkce = new_pkce()
    code = world.code(pkce)
    with world.runtime.vault.unit_of_work() as uow:
        uow.session.execute(
            update(AuthorizationCode).values(expires_at=uow.now() - timedelta(seconds=1))
        )
        uow.commit()
    status, body = world.exchange(code, pkce.verifier)
    assert (status, body["error"]) == (400, "invalid_grant")


def test_a_wrong_client_secret_is_refused(world: World) -> None:
    pkce = new_pkce()
    code = world.code(pkce)
    answer = world.client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": pkce.verifier,
        },
        auth=(world.credentials.client_id, "not-the-secret"),
    )
    assert answer.status_code == 401 and answer.get_json()["error"] == "invalid_client"
    status, _ = world.exchange(code, pkce.verifier)
    assert status == 200  # the failed attempt did not burn the code


def test_a_replayed_refresh_token_revokes_the_whole_family(world: World) -> None:
    pkce = new_pkce()
    _, first = world.exchange(world.code(pkce), pkce.verifier)
    status, second = world.token(
        grant_type="refresh_token", refresh_token=str(first["refresh_token"])
    )
    assert status == 200 and world.profile(first, str(second["access_token"])) == 200
    assert world.profile(first) == 401  # rotation retired the old access token
    status, replay = world.token(
        grant_type="refresh_token", refresh_token=str(first["refresh_token"])
    )
    assert (status, replay["error"]) == (400, "invalid_grant")
    assert world.profile(first, str(second["access_token"])) == 401
    status, _ = world.token(grant_type="refresh_token", refresh_token=str(second["refresh_token"]))
    assert status == 400


def test_tokens_in_the_query_string_are_refused(world: World) -> None:
    pkce = new_pkce()
    _, body = world.exchange(world.code(pkce), pkce.verifier)
    answer = world.client.get(
        f"/api/v1/customers/{body['customer']}/profile",
        query_string={"access_token": body["access_token"]},
    )
    assert answer.status_code == 400
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.get_json()["type"].endswith("/token-in-query")


def test_a_token_of_one_business_does_not_reach_a_customer_of_another(world: World) -> None:
    pkce = new_pkce()
    _, mine = world.exchange(world.code(pkce), pkce.verifier)
    _, other_credentials = make_business(
        world.runtime.vault, name="Bazar Ltd", redirect_uri="https://bazar.example/cb"
    )
    other = World(world.client, world.runtime, other_credentials)
    status, bulk = other.token(grant_type="client_credentials")
    assert status == 200
    answer = world.client.get(
        f"/api/v1/customers/{mine['customer']}/profile",
        headers={"Authorization": f"Bearer {bulk['access_token']}"},
    )
    assert answer.status_code == 404
    assert answer.get_json()["status"] == 404


def test_a_revoked_or_unknown_bearer_token_gets_401_with_a_challenge(world: World) -> None:
    pkce = new_pkce()
    _, body = world.exchange(world.code(pkce), pkce.verifier)
    revoked = world.client.post(
        "/oauth/revoke",
        data={"token": body["access_token"]},
        auth=(world.credentials.client_id, world.credentials.client_secret),
    )
    assert revoked.status_code == 200
    answer = world.client.get(
        f"/api/v1/customers/{body['customer']}/profile",
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )
    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]
    status, _ = world.token(grant_type="refresh_token", refresh_token=str(body["refresh_token"]))
    assert status == 400


def test_token_responses_are_not_cached(world: World) -> None:
    pkce = new_pkce()
    answer = world.client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": world.code(pkce),
            "redirect_uri": REDIRECT_URI,
            "code_verifier": pkce.verifier,
        },
        auth=(world.credentials.client_id, world.credentials.client_secret),
    )
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["X-Frame-Options"] == "DENY"


def test_metadata_describes_what_the_server_enforces(world: World) -> None:
    metadata = world.client.get("/.well-known/oauth-authorization-server").get_json()
    assert metadata["issuer"] == world.runtime.vault.issuer
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert "implicit" not in metadata["grant_types_supported"]
    assert "password" not in metadata["grant_types_supported"]
