"""The resource API: agreements, interactions, amendments, bulk sync, OpenAPI, schemathesis."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from broker.businesses.services import IssuedClient
from emanet.bootstrap import Runtime
from tests.conftest import make_customer
from tests.factories import make_active_agreement, make_business
from vault.agreements.models import Agreement
from vault.agreements.services import Context, revoke_agreement
from vault.profile.services import set_field

FIELDS = {"identity.given_name": "read", "contact.email": "read", "interactions": "append"}


def bulk_token(client: FlaskClient, credentials: IssuedClient) -> str:
    answer = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(credentials.client_id, credentials.client_secret),
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return str(answer.get_json()["access_token"])


def connected(runtime: Runtime, business_id: uuid.UUID, n: int) -> list[uuid.UUID]:
    customers = []
    for i in range(n):
        customer = make_customer(
            runtime.vault,
            profile={
                "identity.given_name": f"Günel{i}",
                "contact.email": f"gunel{i}@example.az",
                "contact.phone": "+994 50 222 33 44",
            },
        )
        make_active_agreement(runtime.vault, business_id, customer, FIELDS)
        customers.append(customer)
    return customers


def get(client: FlaskClient, path: str, token: str, **query: str) -> tuple[int, dict]:
    answer = client.get(path, query_string=query, headers={"Authorization": f"Bearer {token}"})
    return answer.status_code, answer.get_json()


def test_bulk_sync_pages_through_granted_profiles_only(
    client: FlaskClient, runtime: Runtime
) -> None:
    business_id, credentials = make_business(runtime.vault)
    connected(runtime, business_id, 5)
    token = bulk_token(client, credentials)
    seen, cursor = [], None
    while True:
        status, page = get(
            client,
            "/api/v1/sync/profiles",
            token,
            limit="2",
            **({"cursor": cursor} if cursor else {}),
        )
        assert status == 200
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5
    assert all(set(p["fields"]) == {"identity.given_name", "contact.email"} for p in seen)
    # A revocation between two pages: that customer never appears again, cursor or not.
    status, first = get(client, "/api/v1/sync/profiles", token, limit="2")
    gone = first["items"][0]["agreement_id"]
    with runtime.vault.unit_of_work() as uow:
        revoke_agreement(
            uow, uuid.UUID(gone), uuid.UUID(_customer_of(runtime, gone)), Context(actor="customer")
        )
    status, again = get(
        client, "/api/v1/sync/profiles", token, limit="10", cursor=first["next_cursor"]
    )
    assert gone not in {p["agreement_id"] for p in again["items"]}
    status, everything = get(client, "/api/v1/sync/profiles", token, limit="10")
    assert len(everything["items"]) == 4
    assert gone not in {p["agreement_id"] for p in everything["items"]}


def _customer_of(runtime: Runtime, agreement_id: str) -> str:
    with runtime.vault.unit_of_work(write=False) as uow:
        found = uow.session.get(Agreement, uuid.UUID(agreement_id))
        assert found is not None
        return str(found.customer_id)


def test_bulk_sync_updated_since_sends_only_changed_profiles(
    client: FlaskClient, runtime: Runtime
) -> None:
    business_id, credentials = make_business(runtime.vault)
    customers = connected(runtime, business_id, 3)
    token = bulk_token(client, credentials)
    mark = datetime.now(UTC) + timedelta(milliseconds=5)
    time.sleep(0.02)
    with runtime.vault.unit_of_work() as uow:
        set_field(uow, customers[1], "identity.given_name", "Günel Nur")
    status, page = get(client, "/api/v1/sync/profiles", token, updated_since=mark.isoformat())
    assert status == 200
    assert [p["fields"]["identity.given_name"]["value"] for p in page["items"]] == ["Günel Nur"]


def test_bulk_sync_refuses_an_agreement_token_and_bad_parameters(
    client: FlaskClient, runtime: Runtime
) -> None:
    _, credentials = make_business(runtime.vault)
    token = bulk_token(client, credentials)
    for query in (
        {"limit": "0"},
        {"limit": "501"},
        {"limit": "x"},
        {"cursor": "garbage"},
        {"updated_since": "yesterday"},
        {"updated_since": "2026-01-01T00:00:00"},
    ):
        status, body = get(client, "/api/v1/sync/profiles", token, **query)
        assert status == 400 and body["status"] == 400, query


def test_agreements_list_filters_pages_and_shows_history(
    client: FlaskClient, runtime: Runtime
) -> None:
    business_id, credentials = make_business(runtime.vault)
    connected(runtime, business_id, 3)
    token = bulk_token(client, credentials)
    status, page = get(client, "/api/v1/agreements", token, status="active", limit="2")
    assert status == 200 and len(page["items"]) == 2 and page["next_cursor"]
    status, rest = get(
        client, "/api/v1/agreements", token, status="active", cursor=page["next_cursor"]
    )
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert get(client, "/api/v1/agreements", token, status="revoked")[1]["items"] == []
    status, detail = get(client, f"/api/v1/agreements/{page['items'][0]['id']}", token)
    assert status == 200
    assert [e["kind"] for e in detail["history"]] == ["requested", "granted"]
    assert {e["actor"] for e in detail["history"]} <= {"business", "customer"}
    assert [r["kind"] for r in detail["receipts"]] == ["granted"]
    assert get(client, "/api/v1/agreements", token, status="bogus")[0] == 400


def test_another_business_cannot_see_an_agreement(client: FlaskClient, runtime: Runtime) -> None:
    business_id, _ = make_business(runtime.vault)
    connected(runtime, business_id, 1)
    _, other = make_business(runtime.vault, name="Other", redirect_uri="https://o.example/cb")
    mine = bulk_token(
        client, make_business(runtime.vault, name="Third", redirect_uri="https://t.example/cb")[1]
    )
    theirs = bulk_token(client, other)
    assert get(client, "/api/v1/agreements", theirs)[1]["items"] == []
    assert get(client, "/api/v1/agreements", mine)[1]["items"] == []


def test_interactions_are_appended_and_read_back(client: FlaskClient, runtime: Runtime) -> None:
    business_id, credentials = make_business(runtime.vault)
    connected(runtime, business_id, 1)
    token = bulk_token(client, credentials)
    subject = get(client, "/api/v1/sync/profiles", token)[1]["items"][0]["customer"]
    posted = client.post(
        f"/api/v1/customers/{subject}/interactions",
        json={
            "kind": "purchase",
            "occurred_at": datetime.now(UTC).isoformat(),
            "summary": "Quba rug",
            "amount": "2400.00",
            "currency": "AZN",
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert posted.status_code == 201, posted.get_data(as_text=True)
    bad = client.post(
        f"/api/v1/customers/{subject}/interactions",
        json={"kind": "purchase", "occurred_at": datetime.now(UTC).isoformat()},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert bad.status_code == 422 and bad.headers["Content-Type"] == "application/problem+json"
    status, listed = get(client, f"/api/v1/customers/{subject}/interactions", token)
    assert status == 200
    assert [(i["summary"], i["amount"]) for i in listed["items"]] == [("Quba rug", "2400.00")]


def test_an_amendment_waits_in_the_customers_inbox(client: FlaskClient, runtime: Runtime) -> None:
    business_id, credentials = make_business(runtime.vault)
    connected(runtime, business_id, 1)
    token = bulk_token(client, credentials)
    subject = get(client, "/api/v1/sync/profiles", token)[1]["items"][0]["customer"]
    asked = client.post(
        f"/api/v1/customers/{subject}/amendments",
        json={"fields": [{"key": "contact.phone"}], "duration": "P2Y"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert asked.status_code == 202, asked.get_data(as_text=True)
    status, detail = get(client, f"/api/v1/agreements/{asked.get_json()['id']}", token)
    assert status == 200
    assert detail["status"] == "requested" and detail["customer"] == subject
    assert {f["key"] for f in detail["requested_fields"]} == set(FIELDS) | {"contact.phone"}
    nothing = client.post(
        f"/api/v1/customers/{subject}/amendments",
        json={"fields": []},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert nothing.status_code == 422
    # One change waits at a time: two granted amendments must not both become active.
    again = client.post(
        f"/api/v1/customers/{subject}/amendments",
        json={"fields": [{"key": "contact.address"}]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert again.status_code == 409
    assert again.get_json()["type"].endswith("change-waiting")


def test_the_openapi_document_is_valid(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    assert "/api/v1/customers/{subject}/profile" in document["paths"]


def test_schemathesis_finds_no_server_error(app: Flask, runtime: Runtime) -> None:
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    business_id, credentials = make_business(runtime.vault)
    connected(runtime, business_id, 2)
    token = bulk_token(app.test_client(), credentials)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures = []
    statuses: set[int] = set()
    for operation in schema.get_all_operations():
        op = operation.ok()

        @settings(
            max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(case=op.as_strategy())
        def check(case: schemathesis.Case) -> None:
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            statuses.add(response.status_code)
            if response.status_code >= 500:
                failures.append((case.method, case.formatted_path, response.status_code))

        check()
    assert failures == []
    assert any(200 <= code < 300 for code in statuses)  # it reached past authentication
