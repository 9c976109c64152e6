"""Request templates and invites: written once, checked by the schema, handed out at the counter."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from broker.invites.models import Invite
from business_portal.records.models import RequestTemplate
from tests.broker.oauth_helpers import sign_in
from tests.business_portal.conftest import PortalBusiness, csrf_token
from tests.conftest import make_customer
from vault.agreements.models import Agreement
from vault.unit_of_work import Vault

StaffClient = Callable[..., FlaskClient]

GOOD_TEMPLATE = {
    "name": "Collectors' phone numbers",
    "purpose": "CustomerCare",
    "purpose_description": "To call you when a piece you collect comes in",
    "legal_basis": "consent",
    "fields": ["contact.phone", "identity.given_name", "interactions"],
    "mode-contact.phone": "read",
    "mode-identity.given_name": "read",
    "mode-interactions": "append",
    "duration": "P1Y",
    "duration_other": "",
    "retention": "P30D",
    "retention_other": "",
    "frequency": "ongoing",
}


def help_of(page: str, field_id: str) -> str:
    """Return the text shown beside one field (its help or its errors)."""
    found = re.search(rf'<p class="help" id="{re.escape(field_id)}-help">(.*?)</p>', page, re.S)
    assert found, f"no help beside {field_id}"
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1)))


def post_form(client: FlaskClient, path: str, data: dict[str, object]) -> object:
    token = csrf_token(client.get("/portal/requests").text)
    return client.post(path, data={**data, "csrf_token": token})


def count(vault: Vault, model: type, business_id: uuid.UUID) -> int:
    with vault.unit_of_work(write=False) as uow:
        return (
            uow.session.scalar(
                select(func.count()).select_from(model).where(model.business_id == business_id)
            )
            or 0
        )


def make_template(client: FlaskClient, **changes: object) -> str:
    answer = post_form(client, "/portal/requests/new", {**GOOD_TEMPLATE, **changes})
    assert answer.status_code == 303, answer.text
    return answer.headers["Location"].rsplit("/", 1)[1]


def make_invite(client: FlaskClient, template_id: str, **changes: object) -> str:
    data = {"label": "Counter of the Old Town shop", "valid_for": "", **changes}
    answer = post_form(client, f"/portal/requests/{template_id}/invite", data)
    assert answer.status_code == 303, answer.text
    return answer.headers["Location"].rsplit("/", 1)[1]


def test_a_template_is_saved_and_listed_in_words(staff_client: StaffClient) -> None:
    client = staff_client("agent")
    template_id = make_template(client)
    page = client.get("/portal/requests").text
    assert "Collectors&#39; phone numbers" in page
    assert "Customer care" in page and "Phone" in page and "Given name" in page
    assert "Read and add entries" in page
    assert "1 year" in page and "30 days" in page
    detail = client.get(f"/portal/requests/{template_id}").text
    assert "To call you when a piece you collect comes in" in detail
    assert 'value="contact.phone" id="field-2-2" checked' in detail


def test_bad_template_shows_messages_beside_fields_and_writes_nothing(
    staff_client: StaffClient, vault: Vault, business: PortalBusiness
) -> None:
    client = staff_client("owner")
    answer = post_form(
        client,
        "/portal/requests/new",
        {
            **GOOD_TEMPLATE,
            "name": "",
            "purpose": "",
            "purpose_description": "Kept as typed",
            "fields": [],
            "duration": "other",
            "duration_other": "eighteen months",
            "retention": "other",
            "retention_other": "P200Y",
        },
    )
    assert answer.status_code == 200
    page = answer.text
    assert "This is required." in help_of(page, "name")
    assert "Choose a purpose." in help_of(page, "purpose")
    assert "Not a duration." in help_of(page, "duration_other")
    assert "Too long: use at most 100 years." in help_of(page, "retention_other")
    assert 'id="fields-error">Tick at least one field to ask for.' in page
    assert 'value="Kept as typed"' in page and 'value="eighteen months"' in page
    assert count(vault, RequestTemplate, business.id) == 0


def test_a_mode_the_field_does_not_allow_is_refused_beside_that_field(
    staff_client: StaffClient, vault: Vault, business: PortalBusiness
) -> None:
    client = staff_client("owner")
    answer = post_form(
        client,
        "/portal/requests/new",
        {**GOOD_TEMPLATE, "mode-contact.phone": "append", "mode-interactions": "write"},
    )
    assert answer.status_code == 200
    page = answer.text
    assert "Only interactions can be added to" in help_of(page, "field-2-2")
    assert "Interactions can be read or added to, not rewritten." in help_of(page, "field-9-1")
    assert "contact.phone" in page and 'value="contact.phone" id="field-2-2" checked' in page
    assert count(vault, RequestTemplate, business.id) == 0


def test_unknown_fields_and_a_zero_term_are_refused(
    staff_client: StaffClient, vault: Vault, business: PortalBusiness
) -> None:
    client = staff_client("owner")
    answer = post_form(
        client,
        "/portal/requests/new",
        {
            **GOOD_TEMPLATE,
            "fields": ["contact.phone", "secret.diary"],
            "duration": "other",
            "duration_other": "P0D",
        },
    )
    assert answer.status_code == 200
    assert 'id="fields-error">Choose fields from the list.' in answer.text
    answer = post_form(
        client,
        "/portal/requests/new",
        {**GOOD_TEMPLATE, "duration": "other", "duration_other": "P0D"},
    )
    assert "An agreement must last at least one day." in help_of(answer.text, "duration_other")
    assert count(vault, RequestTemplate, business.id) == 0


def test_a_template_is_changed_and_a_bad_change_keeps_the_old_terms(
    staff_client: StaffClient,
) -> None:
    client = staff_client("owner")
    template_id = make_template(client)
    bad = post_form(
        client, f"/portal/requests/{template_id}", {**GOOD_TEMPLATE, "purpose_description": ""}
    )
    assert bad.status_code == 200
    assert "This is required." in help_of(bad.text, "purpose_description")
    changed = post_form(
        client,
        f"/portal/requests/{template_id}",
        {
            **GOOD_TEMPLATE,
            "name": "Phone only",
            "fields": ["contact.phone"],
            "duration": "other",
            "duration_other": "P18M",
        },
    )
    assert changed.status_code == 303
    page = client.get(f"/portal/requests/{template_id}").text
    assert "Phone only" in page and 'value="P18M"' in page
    assert 'value="identity.given_name" id="field-1-1" checked' not in page


def test_an_archived_template_is_kept_but_makes_no_invites(staff_client: StaffClient) -> None:
    client = staff_client("owner")
    template_id = make_template(client)
    answer = post_form(client, f"/portal/requests/{template_id}/archive", {})
    assert answer.status_code == 303
    listing = client.get("/portal/requests").text
    assert "1 archived template" in listing
    page = client.get(f"/portal/requests/{template_id}").text
    assert "Archived" in page and "Make an invite" not in page
    refused = post_form(client, f"/portal/requests/{template_id}/invite", {"label": "Late"})
    assert refused.status_code == 303
    assert "archived" in client.get(refused.headers["Location"]).text


def test_an_invite_gives_a_link_a_qr_code_and_a_poster_that_open_the_consent_screen(
    app: Flask, staff_client: StaffClient, vault: Vault, business: PortalBusiness
) -> None:
    client = staff_client("agent")
    code = make_invite(client, make_template(client), valid_for="P1M")
    page = client.get(f"/portal/requests/invites/{code}").text
    link = f"{vault.issuer}/invite/{code}"
    assert link in page and "Active" in page
    qr = client.get(f"/portal/requests/invites/{code}/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    assert b"<svg" in qr.data
    poster = client.get(f"/portal/requests/invites/{code}/print").text
    assert html.escape(business.name) in poster or business.name in poster
    assert "To call you when a piece you collect comes in" in poster and "Phone" in poster
    assert f"/portal/requests/invites/{code}/qr.svg" in poster
    assert code in client.get("/portal/requests").text

    customer = app.test_client()
    assert customer.get(urlsplit(link).path).status_code == 303  # sign in first
    make_customer(vault, email="collector@example.az")
    sign_in(customer, "collector@example.az")
    opened = customer.get(urlsplit(link).path)
    assert opened.status_code == 303
    consent = customer.get(opened.headers["Location"])
    assert consent.status_code == 200
    assert "To call you when a piece you collect comes in" in consent.text
    assert "By 1 customer" in client.get(f"/portal/requests/invites/{code}").text


def test_bad_invite_input_is_refused_beside_the_field(
    staff_client: StaffClient, vault: Vault, business: PortalBusiness
) -> None:
    client = staff_client("owner")
    template_id = make_template(client)
    answer = post_form(
        client,
        f"/portal/requests/{template_id}/invite",
        {"label": "", "valid_for": "other", "valid_for_other": "soon"},
    )
    assert answer.status_code == 200
    assert "This is required." in help_of(answer.text, "label")
    assert "Not a duration." in help_of(answer.text, "valid_for_other")
    assert 'value="soon"' in answer.text
    assert count(vault, Invite, business.id) == 0


def test_a_switched_off_invite_opens_nothing(
    app: Flask, staff_client: StaffClient, vault: Vault
) -> None:
    client = staff_client("owner")
    code = make_invite(client, make_template(client))
    answer = post_form(client, f"/portal/requests/invites/{code}/disable", {})
    assert answer.status_code == 303
    assert "Switched off" in client.get(f"/portal/requests/invites/{code}").text
    customer = app.test_client()
    make_customer(vault, email="late@example.az")
    sign_in(customer, "late@example.az")
    assert customer.get(f"/invite/{code}").status_code == 404
    with vault.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Agreement)) == 0


@pytest.mark.parametrize("role", ["viewer", "compliance"])
def test_viewers_and_compliance_read_but_change_nothing(
    staff_client: StaffClient, role: str, vault: Vault, business: PortalBusiness
) -> None:
    owner = staff_client("owner")
    template_id = make_template(owner)
    code = make_invite(owner, template_id)
    client = staff_client(role)
    for path in (
        "/portal/requests",
        f"/portal/requests/{template_id}",
        f"/portal/requests/invites/{code}",
        f"/portal/requests/invites/{code}/print",
        f"/portal/requests/invites/{code}/qr.svg",
    ):
        assert client.get(path).status_code == 200, path
    assert "Save the template" not in client.get(f"/portal/requests/{template_id}").text
    assert client.get("/portal/requests/new").status_code == 403
    for path, data in (
        ("/portal/requests/new", GOOD_TEMPLATE),
        (f"/portal/requests/{template_id}", {**GOOD_TEMPLATE, "name": "Changed"}),
        (f"/portal/requests/{template_id}/archive", {}),
        (f"/portal/requests/{template_id}/invite", {"label": "Mine"}),
        (f"/portal/requests/invites/{code}/disable", {}),
    ):
        assert post_form(client, path, data).status_code == 403, path
    assert count(vault, RequestTemplate, business.id) == 1
    assert count(vault, Invite, business.id) == 1
    assert "Changed" not in owner.get(f"/portal/requests/{template_id}").text


def test_another_business_finds_no_template_and_no_invite(
    staff_client: StaffClient, other_business: PortalBusiness, vault: Vault
) -> None:
    owner = staff_client("owner")
    template_id = make_template(owner)
    code = make_invite(owner, template_id)
    stranger = staff_client("owner", of=other_business)
    for path in (
        f"/portal/requests/{template_id}",
        f"/portal/requests/invites/{code}",
        f"/portal/requests/invites/{code}/print",
        f"/portal/requests/invites/{code}/qr.svg",
    ):
        assert stranger.get(path).status_code == 404, path
    for path, data in (
        (f"/portal/requests/{template_id}", GOOD_TEMPLATE),
        (f"/portal/requests/{template_id}/archive", {}),
        (f"/portal/requests/{template_id}/invite", {"label": "Theirs"}),
        (f"/portal/requests/invites/{code}/disable", {}),
    ):
        assert post_form(stranger, path, data).status_code == 404, path
    listing = stranger.get("/portal/requests").text
    assert "Collectors" not in listing and code not in listing
    assert count(vault, Invite, other_business.id) == 0
    assert "Active" in owner.get(f"/portal/requests/invites/{code}").text


def test_a_malformed_template_id_is_not_found(staff_client: StaffClient) -> None:
    client = staff_client("owner")
    assert client.get("/portal/requests/not-a-uuid").status_code == 404
    assert client.get(f"/portal/requests/{uuid.uuid4()}").status_code == 404
    assert client.get("/portal/requests/invites/nope/qr.svg").status_code == 404


@pytest.mark.parametrize("code", ["%00", "a" * 300, "..", "%E2%80%AE"])
def test_odd_invite_codes_are_not_found_never_an_error(
    staff_client: StaffClient, code: str
) -> None:
    client = staff_client("owner")
    for path in ("", "/print", "/qr.svg"):
        assert client.get(f"/portal/requests/invites/{code}{path}").status_code == 404
    assert post_form(client, f"/portal/requests/invites/{code}/disable", {}).status_code == 404


def test_junk_in_every_template_input_is_answered_beside_the_fields(
    staff_client: StaffClient, vault: Vault, business: PortalBusiness
) -> None:
    client = staff_client("owner")
    junk = {
        **GOOD_TEMPLATE,
        "name": "x" * 500,
        "purpose": "Espionage",
        "purpose_description": "line one\nline two",
        "legal_basis": "whim",
        "fields": [f"made.up.{n}" for n in range(50)] + ["contact.phone"],
        "mode-contact.phone": "\x00",
        "duration": "forever",
        "retention": "other",
        "retention_other": "P" + "9" * 50 + "D",
        "frequency": "hourly",
    }
    answer = post_form(client, "/portal/requests/new", junk)
    assert answer.status_code == 200
    assert "Too long: use at most 120 characters." in help_of(answer.text, "name")
    assert "Choose one of the options in the list." in help_of(answer.text, "purpose")
    assert "Must be a single line." in help_of(answer.text, "purpose_description")
    assert "Choose one of the options in the list." in help_of(answer.text, "frequency")
    assert "Not a duration." in help_of(answer.text, "retention_other")
    assert 'id="fields-error">' in answer.text
    assert count(vault, RequestTemplate, business.id) == 0
