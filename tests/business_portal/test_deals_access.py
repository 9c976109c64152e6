"""Who may do what with deals: viewers and compliance officers only look; another business's
staff find nothing at all (404, never 403); only owners change the pipeline's stages."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from tests.business_portal.conftest import PortalBusiness, csrf_token
from tests.business_portal.test_deals import connected, deal_rows, open_deal, stage_ids
from vault.unit_of_work import Vault


def changes(deal_id: uuid.UUID, stages: dict[str, uuid.UUID], subject: str) -> list[tuple]:
    """Every POST of the deals area, with input that would be accepted from an agent."""
    deal_values = {
        "title": "Changed",
        "amount": "5",
        "currency": "AZN",
        "owner": "",
        "stage": str(stages["won"]),
    }
    return [
        ("/portal/deals/new", {**deal_values, "subject": subject}),
        (f"/portal/deals/{deal_id}/edit", deal_values),
        (f"/portal/deals/{deal_id}/move", {"stage_id": str(stages["won"])}),
        (f"/portal/deals/{deal_id}/delete", {}),
        ("/portal/settings/stages", {"action": "add", "name": "Extra", "outcome": "open"}),
        (
            "/portal/settings/stages",
            {"action": "delete", "stage_id": str(stages["meeting"]), "name": "", "outcome": "open"},
        ),
    ]


def token_of(client: FlaskClient) -> str:
    return csrf_token(client.get("/portal/deals").text)  # the sign-out form carries one


@pytest.mark.parametrize("role", ["viewer", "compliance"])
def test_a_role_that_only_reads_gets_403_on_every_change(
    vault: Vault,
    business: PortalBusiness,
    staff_client: Callable[..., FlaskClient],
    role: str,
) -> None:
    customer = connected(vault, business)
    deal_id = open_deal(vault, business, customer.subject)
    stages = stage_ids(vault, business)
    client = staff_client(role)
    token = token_of(client)
    for url, data in changes(deal_id, stages, customer.subject):
        answer = client.post(url, data={**data, "csrf_token": token})
        assert answer.status_code == 403, url
        json_answer = client.post(
            url, data={**data, "csrf_token": token}, headers={"Accept": "application/json"}
        )
        assert json_answer.status_code == 403, url
    assert client.get("/portal/deals/new").status_code == 403
    assert client.get("/portal/settings/stages").status_code == 403
    assert client.get("/portal/deals").status_code == 200
    assert client.get(f"/portal/deals/{deal_id}").status_code == 200
    [row] = deal_rows(vault, business)
    assert row.stage_id == stages["new"]
    assert stage_ids(vault, business) == stages


def test_an_agent_changes_deals_but_not_the_pipeline(
    vault: Vault, business: PortalBusiness, staff_client: Callable[..., FlaskClient]
) -> None:
    stages = stage_ids(vault, business)
    client = staff_client("agent")
    token = token_of(client)
    assert client.get("/portal/settings/stages").status_code == 403
    answer = client.post(
        "/portal/settings/stages",
        data={"csrf_token": token, "action": "add", "name": "Extra", "outcome": "open"},
    )
    assert answer.status_code == 403
    assert stage_ids(vault, business) == stages


def test_another_business_finds_no_deal_of_this_one(
    vault: Vault,
    business: PortalBusiness,
    other_business: PortalBusiness,
    staff_client: Callable[..., FlaskClient],
) -> None:
    customer = connected(vault, business)
    deal_id = open_deal(vault, business, customer.subject)
    mine = stage_ids(vault, business)
    theirs = stage_ids(vault, other_business)
    client = staff_client("owner", of=other_business)
    token = token_of(client)
    assert client.get(f"/portal/deals/{deal_id}").status_code == 404
    for stages in (mine, theirs):
        for url, data in changes(deal_id, stages, customer.subject)[1:4]:
            for accept in ("text/html", "application/json"):
                answer = client.post(
                    url, data={**data, "csrf_token": token}, headers={"Accept": accept}
                )
                assert answer.status_code == 404, (url, accept)
    board = client.get("/portal/deals").text
    assert "Two Kuba carpets" not in board
    assert customer.subject not in board
    assert customer.subject not in client.get("/portal/deals/list").text
    assert client.get(f"/portal/deals/new?subject={customer.subject}").status_code == 404
    for action in ("save", "up", "down", "delete"):
        answer = client.post(
            "/portal/settings/stages",
            data={
                "csrf_token": token,
                "action": action,
                "stage_id": str(mine["meeting"]),
                "name": "Taken over",
                "outcome": "open",
            },
        )
        assert answer.status_code == 404, action
    [row] = deal_rows(vault, business)
    assert row.stage_id == mine["new"]
    assert stage_ids(vault, business) == mine


def test_a_signed_out_visitor_is_sent_to_sign_in(client: FlaskClient) -> None:
    for url in ("/portal/deals", "/portal/deals/list", "/portal/settings/stages"):
        answer = client.get(url)
        assert answer.status_code == 303
        assert answer.headers["Location"].startswith("/portal/login")
    assert client.get(f"/portal/deals/{uuid.uuid4()}").status_code == 303
