"""Settings are the owners': staff and roles, OAuth clients and their secrets, webhook endpoints."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from broker.businesses.models import OAuthClient, StaffUser
from broker.businesses.services import IssuedClient, authenticate_client
from broker.webhooks.models import WebhookEndpoint
from broker.webhooks.services import fan_out, register_endpoint
from tests.broker.test_resource_api import bulk_token
from tests.business_portal.conftest import PortalBusiness, csrf_token, sign_in_staff
from tests.conftest import TEST_PASSWORD, make_customer
from tests.factories import make_active_agreement
from vault.access_log.models import AccessEvent
from vault.unit_of_work import Vault

StaffClient = Callable[..., FlaskClient]
NEW_PASSWORD = "a long first password for Leyla"


def help_of(page: str, field_id: str) -> str:
    """Return the text shown beside one field (its help or its errors)."""
    found = re.search(rf'<p class="help" id="{re.escape(field_id)}-help">(.*?)</p>', page, re.S)
    assert found, f"no help beside {field_id}"
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1)))


def post(client: FlaskClient, path: str, data: dict[str, object] | None = None) -> object:
    token = csrf_token(client.get("/portal/requests").text)
    return client.post(path, data={**(data or {}), "csrf_token": token})


def count(vault: Vault, model: type, business_id: uuid.UUID, *where: object) -> int:
    with vault.unit_of_work(write=False) as uow:
        query = select(func.count()).select_from(model).where(model.business_id == business_id)
        return uow.session.scalar(query.where(*where)) or 0


def first_client_id(vault: Vault, business_id: uuid.UUID) -> str:
    with vault.unit_of_work(write=False) as uow:
        found = uow.session.scalar(
            select(OAuthClient.client_id).where(OAuthClient.business_id == business_id)
        )
    assert found
    return found


def add_endpoint(vault: Vault, business_id: uuid.UUID) -> uuid.UUID:
    with vault.unit_of_work() as uow:
        endpoint_id, _ = register_endpoint(
            uow, business_id, "https://hooks.example.com/emanet", allow_loopback=False
        )
    return endpoint_id


def shown_secret(page: str) -> str:
    found = re.search(r'id="secret" class="set-secret-value" value="([^"]+)"', page)
    assert found, "no secret on the page"
    return html.unescape(found.group(1))


def create_client_in_portal(client: FlaskClient) -> IssuedClient:
    answer = post(
        client,
        "/portal/settings/clients",
        {
            "name": "Web shop",
            "redirect_uris": "https://antiques.example/callback\r\nhttps://antiques.example/cb2",
            "token_endpoint_auth_method": "client_secret_basic",
        },
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["Cache-Control"] == "no-store" and answer.mimetype == "text/html"
    found = re.search(r"<code class=\"set-code\">(emc_[^<]+)</code>", answer.text)
    assert found
    return IssuedClient(found.group(1), shown_secret(answer.text))


def routes(business: PortalBusiness, vault: Vault) -> tuple[list[str], list[str]]:
    """Every settings URL (GET pages, POST changes) naming this business's records."""
    staff_id = business.staff_id("agent")
    client_id = first_client_id(vault, business.id)
    endpoint_id = add_endpoint(vault, business.id)
    pages = [
        f"/portal/settings/staff/{staff_id}",
        f"/portal/settings/clients/{client_id}",
        f"/portal/settings/webhooks/{endpoint_id}",
    ]
    changes = [
        f"/portal/settings/staff/{staff_id}/role",
        f"/portal/settings/staff/{staff_id}/disable",
        f"/portal/settings/staff/{staff_id}/enable",
        f"/portal/settings/clients/{client_id}/rotate",
        f"/portal/settings/clients/{client_id}/revoke",
        f"/portal/settings/webhooks/{endpoint_id}/disable",
    ]
    return pages, changes


LISTS = [
    "/portal/settings",
    "/portal/settings/staff",
    "/portal/settings/clients",
    "/portal/settings/webhooks",
]


@pytest.mark.parametrize("role", ["agent", "viewer", "compliance"])
def test_only_owners_open_or_change_the_settings(
    staff_client: StaffClient, business: PortalBusiness, vault: Vault, role: str
) -> None:
    pages, changes = routes(business, vault)
    client = staff_client(role)
    for path in LISTS + pages:
        assert client.get(path).status_code == 403, path
    for path in [*LISTS[1:], *changes]:
        assert post(client, path, {"role": "owner"}).status_code == 403, path
    assert "/portal/settings" not in client.get("/portal/requests").text  # not in the navigation
    assert count(vault, StaffUser, business.id, StaffUser.role == "owner") == 1
    with vault.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(func.count()).select_from(OAuthClient)) == 1


def test_another_business_owner_finds_nothing_of_ours(
    staff_client: StaffClient,
    business: PortalBusiness,
    other_business: PortalBusiness,
    vault: Vault,
) -> None:
    pages, changes = routes(business, vault)
    stranger = staff_client("owner", of=other_business)
    for path in pages:
        assert stranger.get(path).status_code == 404, path
    for path in changes:
        assert post(stranger, path, {"role": "viewer"}).status_code == 404, path
    for path in LISTS[1:]:
        page = stranger.get(path).text
        assert business.email("agent") not in page and "hooks.example.com" not in page
    assert count(vault, StaffUser, business.id, StaffUser.disabled_at.is_not(None)) == 0
    assert count(vault, StaffUser, business.id, StaffUser.role == "agent") == 1
    assert count(vault, OAuthClient, business.id, OAuthClient.revoked_at.is_not(None)) == 0
    assert count(vault, WebhookEndpoint, business.id, WebhookEndpoint.disabled_at.is_not(None)) == 0


def test_the_overview_links_every_section(staff_client: StaffClient, app: Flask) -> None:
    page = staff_client("owner").get("/portal/settings").text
    for path in LISTS[1:]:
        assert f'href="{path}"' in page
    assert "4 people can sign in" in page and "1 client in use" in page
    assert ("Pipeline stages" in page) == ("portal_deals.stages" in app.view_functions)


def test_an_owner_adds_staff_who_then_sign_in(
    app: Flask, staff_client: StaffClient, business: PortalBusiness, vault: Vault
) -> None:
    owner = staff_client("owner")
    answer = post(
        owner,
        "/portal/settings/staff",
        {
            "display_name": "Leyla Məmmədova",
            "email": "Leyla@antiques.example",
            "role": "agent",
            "password": NEW_PASSWORD,
        },
    )
    assert answer.status_code == 303
    listing = owner.get("/portal/settings/staff").text
    assert "Leyla Məmmədova" in listing and "leyla@antiques.example" in listing
    leyla = app.test_client()
    sign_in_staff(leyla, "leyla@antiques.example", NEW_PASSWORD)
    assert leyla.get("/portal/requests").status_code == 200
    with vault.unit_of_work(write=False) as uow:
        kinds = uow.session.scalars(
            select(AccessEvent.kind).where(AccessEvent.business_id == business.id)
        ).all()
    assert "staff.created" in kinds


def test_bad_staff_input_is_refused_beside_each_field_and_adds_nobody(
    staff_client: StaffClient, business: PortalBusiness, vault: Vault
) -> None:
    owner = staff_client("owner")
    answer = post(
        owner,
        "/portal/settings/staff",
        {"display_name": "", "email": "not an address", "role": "boss", "password": "short"},
    )
    assert answer.status_code == 200
    page = answer.text
    assert "This is required." in help_of(page, "display_name")
    assert "not a valid e-mail address" in help_of(page, "email")
    assert "Choose one of the options in the list." in help_of(page, "role")
    assert "Use at least 12 characters" in help_of(page, "password")
    assert 'value="not an address"' in page and "short" not in re.findall(r'value="[^"]*"', page)
    taken = post(
        owner,
        "/portal/settings/staff",
        {
            "display_name": "Twin",
            "email": business.email("viewer"),
            "role": "agent",
            "password": NEW_PASSWORD,
        },
    )
    assert "Someone already signs in with this e-mail." in help_of(taken.text, "email")
    assert count(vault, StaffUser, business.id) == 4


def test_roles_change_and_disabled_staff_are_signed_out(
    app: Flask, staff_client: StaffClient, business: PortalBusiness
) -> None:
    owner = staff_client("owner")
    agent = staff_client("agent")
    agent_id = business.staff_id("agent")
    assert (
        post(owner, f"/portal/settings/staff/{agent_id}/role", {"role": "viewer"}).status_code
        == 303
    )
    assert "Viewer" in owner.get(f"/portal/settings/staff/{agent_id}").text
    assert post(agent, "/portal/requests/new", {}).status_code == 403  # now a viewer
    assert post(owner, f"/portal/settings/staff/{agent_id}/disable").status_code == 303
    assert agent.get("/portal/requests").status_code == 303  # their session ended
    fresh = app.test_client()
    page = fresh.get("/portal/login")
    refused = fresh.post(
        "/portal/login",
        data={
            "email": business.email("agent"),
            "password": TEST_PASSWORD,
            "csrf_token": csrf_token(page.text),
        },
    )
    assert refused.status_code == 200
    assert post(owner, f"/portal/settings/staff/{agent_id}/enable").status_code == 303
    sign_in_staff(app.test_client(), business.email("agent"))


def test_the_last_owner_cannot_demote_or_disable_themself(
    staff_client: StaffClient, business: PortalBusiness, vault: Vault
) -> None:
    owner = staff_client("owner")
    me = business.staff_id("owner")
    demoted = post(owner, f"/portal/settings/staff/{me}/role", {"role": "agent"})
    assert demoted.status_code == 200
    assert "You are the last owner." in help_of(demoted.text, "role")
    disabled = post(owner, f"/portal/settings/staff/{me}/disable")
    assert disabled.status_code == 200
    assert "The business needs an owner who can sign in." in disabled.text
    assert (
        count(
            vault,
            StaffUser,
            business.id,
            StaffUser.role == "owner",
            StaffUser.disabled_at.is_(None),
        )
        == 1
    )
    assert owner.get("/portal/settings").status_code == 200

    agent_id = business.staff_id("agent")
    post(owner, f"/portal/settings/staff/{agent_id}/role", {"role": "owner"})
    stepped_down = post(owner, f"/portal/settings/staff/{me}/role", {"role": "agent"})
    assert stepped_down.status_code == 303
    assert stepped_down.headers["Location"] == "/portal/"
    assert owner.get("/portal/settings").status_code == 403


def test_a_client_secret_is_shown_once_and_rotation_retires_the_old_one(
    staff_client: StaffClient, business: PortalBusiness, vault: Vault
) -> None:
    owner = staff_client("owner")
    issued = create_client_in_portal(owner)
    with vault.unit_of_work(write=False) as uow:
        assert authenticate_client(uow, issued.client_id, issued.client_secret) is not None
    for path in ("/portal/settings/clients", f"/portal/settings/clients/{issued.client_id}"):
        page = owner.get(path).text
        assert issued.client_id in page and issued.client_secret not in page
    rotated = post(owner, f"/portal/settings/clients/{issued.client_id}/rotate")
    assert rotated.status_code == 200 and rotated.headers["Cache-Control"] == "no-store"
    new_secret = shown_secret(rotated.text)
    assert new_secret != issued.client_secret
    with vault.unit_of_work(write=False) as uow:
        assert authenticate_client(uow, issued.client_id, issued.client_secret) is None
        assert authenticate_client(uow, issued.client_id, new_secret) is not None
        logged = uow.session.scalars(
            select(AccessEvent.detail).where(AccessEvent.kind == "client.secret_rotated")
        ).all()
    assert logged == [issued.client_id]
    assert new_secret not in owner.get(f"/portal/settings/clients/{issued.client_id}").text


def test_a_revoked_client_and_its_tokens_stop_working(
    app: Flask, staff_client: StaffClient, vault: Vault
) -> None:
    owner = staff_client("owner")
    issued = create_client_in_portal(owner)
    api = app.test_client()
    token = bulk_token(api, issued)
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/agreements", headers=bearer).status_code == 200
    assert post(owner, f"/portal/settings/clients/{issued.client_id}/revoke").status_code == 303
    assert api.get("/api/v1/agreements", headers=bearer).status_code == 401
    with vault.unit_of_work(write=False) as uow:
        assert authenticate_client(uow, issued.client_id, issued.client_secret) is None
    page = owner.get(f"/portal/settings/clients/{issued.client_id}").text
    assert "Revoked" in page and "Make a new secret" not in page
    assert post(owner, f"/portal/settings/clients/{issued.client_id}/rotate").status_code == 404


def test_bad_client_input_is_refused_beside_the_field(
    staff_client: StaffClient, business: PortalBusiness, vault: Vault
) -> None:
    answer = post(
        staff_client("owner"),
        "/portal/settings/clients",
        {
            "name": "",
            "redirect_uris": "https://ok.example/cb\nhttp://shop.example/cb\nhttps://x.example/#f",
            "token_endpoint_auth_method": "client_secret_basic",
        },
    )
    assert answer.status_code == 200
    said = help_of(answer.text, "redirect_uris")
    assert "Line 2: Use an https:// address" in said
    assert "Line 3: A redirect URI must not have a #fragment." in said
    assert "This is required." in help_of(answer.text, "name")
    assert "http://shop.example/cb" in answer.text
    assert count(vault, OAuthClient, business.id) == 1


def test_a_webhook_endpoint_shows_its_secret_once_and_its_delivery_log(
    staff_client: StaffClient, business: PortalBusiness, vault: Vault
) -> None:
    owner = staff_client("owner")
    answer = post(
        owner,
        "/portal/settings/webhooks",
        {"url": "https://hooks.antiques.example/emanet", "event_types": ["agreement.granted"]},
    )
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    secret = shown_secret(answer.text)
    with vault.unit_of_work(write=False) as uow:
        endpoint_id = uow.session.scalar(
            select(WebhookEndpoint.id).where(WebhookEndpoint.business_id == business.id)
        )
    customer_id = make_customer(vault)
    make_active_agreement(vault, business.id, customer_id, {"contact.phone": "read"})
    with vault.unit_of_work() as uow:
        assert fan_out(uow) == 1
    page = owner.get(f"/portal/settings/webhooks/{endpoint_id}").text
    assert "A customer shared data with you" in page and "Waiting" in page
    assert secret not in page and secret not in owner.get("/portal/settings/webhooks").text
    assert post(owner, f"/portal/settings/webhooks/{endpoint_id}/disable").status_code == 303
    page = owner.get(f"/portal/settings/webhooks/{endpoint_id}").text
    assert "Switched off" in page and "Failed" in page


def test_bad_webhook_input_is_refused_beside_the_field(
    staff_client: StaffClient, business: PortalBusiness, vault: Vault
) -> None:
    owner = staff_client("owner")
    answer = post(
        owner, "/portal/settings/webhooks", {"url": "http://hooks.example.com/x", "event_types": []}
    )
    assert answer.status_code == 200
    assert "Use an https:// address" in help_of(answer.text, "url")
    no_events = post(
        owner,
        "/portal/settings/webhooks",
        {"url": "https://hooks.example.com/x", "event_types": []},
    )
    assert 'id="events-error">Tick at least one event.' in no_events.text
    assert 'value="https://hooks.example.com/x"' in no_events.text
    private = post(
        owner,
        "/portal/settings/webhooks",
        {"url": "https://10.0.0.1/x", "event_types": ["agreement.revoked"]},
    )
    assert "private or reserved" in help_of(private.text, "url")
    for odd, said in (
        ("https://a\x00b.example/x", "invisible control character"),
        ("", "required"),
    ):
        answer = post(owner, "/portal/settings/webhooks", {"url": odd, "event_types": ["x"]})
        assert answer.status_code == 200 and said in help_of(answer.text, "url")
    junk_events = post(
        owner, "/portal/settings/webhooks", {"url": "https://ok.example/x", "event_types": ["x"]}
    )
    assert 'id="events-error">Choose events from the list.' in junk_events.text
    assert count(vault, WebhookEndpoint, business.id) == 0


@pytest.mark.parametrize("client_id", ["%00", "x" * 300, "emc_%E2%80%AE"])
def test_odd_client_ids_are_not_found_never_an_error(
    staff_client: StaffClient, client_id: str
) -> None:
    owner = staff_client("owner")
    assert owner.get(f"/portal/settings/clients/{client_id}").status_code == 404
    for action in ("rotate", "revoke"):
        path = f"/portal/settings/clients/{client_id}/{action}"
        assert post(owner, path).status_code == 404
    assert owner.get("/portal/settings/staff/not-a-uuid").status_code == 404
    assert owner.get("/portal/settings/webhooks/%00").status_code == 404
