"""The pipeline's stages in the settings: rename, add, reorder, set the outcome, delete."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from flask.testing import FlaskClient

from business_portal.deals.services import read_stages
from tests.business_portal.conftest import PortalBusiness, csrf_token
from tests.business_portal.test_deals import connected, open_deal, revoke, stage_ids
from vault.unit_of_work import Vault

URL = "/portal/settings/stages"


def board_names(client: FlaskClient) -> list[str]:
    page = client.get("/portal/deals?lang=en").text
    return [name.strip() for name in re.findall(r'<h2 id="stage-[^"]+">([^<]+)<', page)]


def post(client: FlaskClient, action: str, stage_id: uuid.UUID | None = None, **form: str):
    token = csrf_token(client.get(URL).text)
    data = {"csrf_token": token, "action": action, **form}
    if stage_id is not None:
        data["stage_id"] = str(stage_id)
        data.setdefault("outcome", "open")
    return client.post(URL, data=data)


def outcomes(vault: Vault, business: PortalBusiness) -> dict[str, str]:
    with vault.unit_of_work(write=False) as uow:
        return {s.code or s.name or "": s.outcome for s in read_stages(uow, business.id)}


def test_the_owner_sees_every_stage_with_its_deals(
    vault: Vault, business: PortalBusiness, staff_client: Callable[..., FlaskClient]
) -> None:
    customer = connected(vault, business)
    open_deal(vault, business, customer.subject)
    page = staff_client("owner").get(URL)
    assert page.status_code == 200
    assert "<h1>Pipeline stages</h1>" in page.text
    assert "1. New <span" in page.text
    assert "1 deal · AZN1,250.00" in page.text
    assert 'placeholder="Proposal"' in page.text


def test_a_stage_is_renamed_and_an_empty_name_brings_the_default_back(
    vault: Vault, business: PortalBusiness, staff_client: Callable[..., FlaskClient]
) -> None:
    stages = stage_ids(vault, business)
    client = staff_client("owner")
    answer = post(client, "save", stages["contacted"], name="Called back")
    assert answer.status_code == 303
    assert board_names(client)[1] == "Called back"
    assert "Called back" in client.get("/portal/deals?lang=tr").text
    post(client, "save", stages["contacted"], name="  ")
    assert board_names(client)[1] == "Contacted"
    bad = post(client, "save", stages["contacted"], name="x" * 61)
    assert bad.status_code == 200
    assert "Use at most 60 characters." in bad.text
    assert board_names(client)[1] == "Contacted"


def test_a_stage_is_added_before_the_closing_ones(
    vault: Vault, business: PortalBusiness, staff_client: Callable[..., FlaskClient]
) -> None:
    stage_ids(vault, business)
    client = staff_client("owner")
    assert post(client, "add", name="Sample sent", outcome="open").status_code == 303
    assert board_names(client) == [
        "New", "Contacted", "Meeting", "Proposal", "Invoice", "Sample sent", "Won", "Lost"
    ]  # fmt: skip
    assert post(client, "add", name="Returned", outcome="lost").status_code == 303
    assert board_names(client)[-1] == "Returned"
    assert '<span class="deal-outcome outcome-lost">Lost</span>' in client.get("/portal/deals").text
    refused = post(client, "add", name="", outcome="open")
    assert refused.status_code == 200
    assert "Give the stage a name." in refused.text
    assert len(board_names(client)) == 9


def test_stages_move_up_and_down(
    vault: Vault, business: PortalBusiness, staff_client: Callable[..., FlaskClient]
) -> None:
    stages = stage_ids(vault, business)
    client = staff_client("owner")
    assert post(client, "up", stages["meeting"]).status_code == 303
    assert board_names(client)[:3] == ["New", "Meeting", "Contacted"]
    post(client, "down", stages["new"])
    assert board_names(client)[:3] == ["Meeting", "New", "Contacted"]
    post(client, "up", stages["meeting"])  # already first: nothing moves
    post(client, "down", stages["lost"])  # already last
    assert board_names(client) == [
        "Meeting", "New", "Contacted", "Proposal", "Invoice", "Won", "Lost"
    ]  # fmt: skip


def test_the_outcome_of_a_stage_changes_but_one_open_stage_stays(
    vault: Vault, business: PortalBusiness, staff_client: Callable[..., FlaskClient]
) -> None:
    customer = connected(vault, business)
    open_deal(vault, business, customer.subject, stage="invoice")
    stages = stage_ids(vault, business)
    client = staff_client("owner")
    assert post(client, "save", stages["invoice"], name="Paid", outcome="won").status_code == 303
    assert outcomes(vault, business)["invoice"] == "won"
    from tests.business_portal.test_deals import deal_rows

    assert deal_rows(vault, business)[0].closed_at is not None
    for code in ("new", "contacted", "meeting"):
        assert post(client, "save", stages[code], name="", outcome="lost").status_code == 303
    refused = post(client, "save", stages["proposal"], name="", outcome="won")
    assert refused.status_code == 200
    assert "The pipeline needs at least one open stage" in refused.text
    assert outcomes(vault, business)["proposal"] == "open"
    refused = post(client, "delete", stages["proposal"])
    assert "The pipeline needs at least one open stage" in refused.text
    assert "proposal" in outcomes(vault, business)


def test_a_stage_with_deals_is_not_deleted_and_an_empty_one_is(
    vault: Vault, business: PortalBusiness, staff_client: Callable[..., FlaskClient]
) -> None:
    customer = connected(vault, business)
    leaving = connected(vault, business)
    open_deal(vault, business, customer.subject, stage="meeting")
    open_deal(vault, business, leaving.subject, stage="meeting")
    stages = stage_ids(vault, business)
    client = staff_client("owner")
    refused = post(client, "delete", stages["meeting"])
    assert refused.status_code == 200
    assert "This stage still holds 2 deals. Move them to another stage first." in refused.text
    assert "meeting" in outcomes(vault, business)
    revoke(vault, leaving)
    refused = post(client, "delete", stages["meeting"])
    assert "1 of them is about a customer who is no longer connected" in refused.text
    assert post(client, "delete", stages["contacted"]).status_code == 303
    assert "contacted" not in outcomes(vault, business)
    assert board_names(client) == ["New", "Meeting", "Proposal", "Invoice", "Won", "Lost"]


def test_a_custom_stage_needs_a_name_and_unknown_actions_are_refused(
    vault: Vault, business: PortalBusiness, staff_client: Callable[..., FlaskClient]
) -> None:
    stage_ids(vault, business)
    client = staff_client("owner")
    post(client, "add", name="Sample sent", outcome="open")
    custom = stage_ids(vault, business)["Sample sent"]
    refused = post(client, "save", custom, name="")
    assert refused.status_code == 200
    assert "Give the stage a name." in refused.text
    assert post(client, "explode", custom).status_code == 400
    assert post(client, "save", None).status_code == 404
    assert post(client, "save", uuid.uuid4()).status_code == 404
    assert post(client, "save", custom, name="Sample", outcome="maybe").status_code == 200
    assert outcomes(vault, business)["Sample sent"] == "open"
