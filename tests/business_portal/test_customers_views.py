"""Saved views of the customer list: each staff member's own; anyone else's is not found."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from business_portal.records.models import SavedView
from tests.business_portal.conftest import PortalBusiness, csrf_token
from vault.unit_of_work import Vault

Client = Callable[..., FlaskClient]


def save(client: FlaskClient, name: str, **query: str) -> FlaskClient:
    page = client.get("/portal/customers", query_string=query)
    form = {"csrf_token": csrf_token(page.text), "name": name, **query}
    return client.post("/portal/customers/views", data=form)


def views_of(vault: Vault, staff_id: uuid.UUID) -> list[SavedView]:
    with vault.unit_of_work() as uow:
        return list(uow.session.scalars(select(SavedView).where(SavedView.staff_id == staff_id)))


def test_a_staff_member_saves_lists_and_opens_a_view(
    vault: Vault, business: PortalBusiness, staff_client: Client
) -> None:
    client = staff_client("agent")
    answer = save(client, "  Bakı   kolleksiyaçıları ", q="sehla", status="active", sort="id")
    assert answer.status_code == 303
    assert answer.location.startswith("/portal/customers?")
    (view,) = views_of(vault, business.staff_id("agent"))
    assert view.name == "Bakı kolleksiyaçıları"
    assert view.query == {"q": "sehla", "status": "active", "sort": "id"}
    page = client.get("/portal/customers")
    assert "Saved the view “Bakı kolleksiyaçıları”." in page.text
    assert f'href="/portal/customers/views/{view.id}">Bakı kolleksiyaçıları</a>' in page.text
    opened = client.get(f"/portal/customers/views/{view.id}")
    assert opened.status_code == 303
    assert opened.location == "/portal/customers?q=sehla&status=active&sort=id"


def test_saving_under_the_same_name_replaces_the_view(
    vault: Vault, business: PortalBusiness, staff_client: Client
) -> None:
    client = staff_client("owner")
    save(client, "Mine", q="aysel")
    save(client, "MINE", status="paused")
    (view,) = views_of(vault, business.staff_id("owner"))
    assert (view.name, view.query) == ("MINE", {"status": "paused"})


def test_a_viewer_may_keep_views_of_their_own(
    vault: Vault, business: PortalBusiness, staff_client: Client
) -> None:
    assert save(staff_client("viewer"), "Reading list").status_code == 303
    assert [v.name for v in views_of(vault, business.staff_id("viewer"))] == ["Reading list"]


def test_a_view_without_a_name_is_refused_beside_the_field(
    vault: Vault, business: PortalBusiness, staff_client: Client
) -> None:
    answer = save(staff_client("owner"), "   ", q="aysel")
    assert answer.status_code == 200
    assert re.search(r'<span class="error">Give the view a name.</span>', answer.text)
    assert 'id="view-q" name="q" type="hidden" value="aysel"' in answer.text  # kept
    assert views_of(vault, business.staff_id("owner")) == []
    long_name = save(staff_client("owner"), "x" * 81)
    assert "Use at most 80 characters." in long_name.text
    assert views_of(vault, business.staff_id("owner")) == []


def test_saving_without_a_csrf_token_is_refused(
    vault: Vault, business: PortalBusiness, staff_client: Client
) -> None:
    answer = staff_client("owner").post("/portal/customers/views", data={"name": "Sneaky"})
    assert answer.status_code == 400
    assert views_of(vault, business.staff_id("owner")) == []


def test_a_staff_member_deletes_their_view(
    vault: Vault, business: PortalBusiness, staff_client: Client
) -> None:
    client = staff_client("agent")
    save(client, "Old")
    (view,) = views_of(vault, business.staff_id("agent"))
    page = client.get("/portal/customers")
    answer = client.post(
        f"/portal/customers/views/{view.id}/delete", data={"csrf_token": csrf_token(page.text)}
    )
    assert answer.status_code == 303
    assert views_of(vault, business.staff_id("agent")) == []


@pytest.mark.parametrize("stranger", ["colleague", "other business"])
def test_another_staff_members_view_is_not_found(
    vault: Vault,
    business: PortalBusiness,
    other_business: PortalBusiness,
    staff_client: Client,
    stranger: str,
) -> None:
    save(staff_client("agent"), "Private")
    (view,) = views_of(vault, business.staff_id("agent"))
    client = (
        staff_client("owner")
        if stranger == "colleague"
        else staff_client("owner", of=other_business)
    )
    assert client.get(f"/portal/customers/views/{view.id}").status_code == 404
    page = client.get("/portal/customers")
    assert "Private" not in page.text
    answer = client.post(
        f"/portal/customers/views/{view.id}/delete", data={"csrf_token": csrf_token(page.text)}
    )
    assert answer.status_code == 404
    assert len(views_of(vault, business.staff_id("agent"))) == 1


def test_an_unknown_view_is_not_found(staff_client: Client) -> None:
    client = staff_client("owner")
    assert client.get(f"/portal/customers/views/{uuid.uuid4()}").status_code == 404
    assert client.get("/portal/customers/views/not-a-uuid").status_code == 404


def test_a_saved_view_keeps_only_what_the_list_understands(
    vault: Vault, business: PortalBusiness, staff_client: Client
) -> None:
    save(staff_client("owner"), "Odd", status="bogus", sort="sideways", segment="champions")
    with vault.unit_of_work() as uow:
        stored = uow.session.scalar(select(SavedView.query))
        assert uow.session.scalar(select(func.count()).select_from(SavedView)) == 1
    assert stored == {"segment": "champions"}
