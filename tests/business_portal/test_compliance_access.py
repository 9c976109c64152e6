"""Who sees what in the compliance console: roles, tenant isolation, auditors, and officers
who cannot change an agreement whatever they post."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from business_portal.compliance.models import ReportJob
from business_portal.compliance.services.jobs import DONE
from business_portal.records.models import RequestTemplate
from emanet.cli import main
from emanet.settings import Settings
from tests.business_portal.conftest import PortalBusiness, connect_customer, csrf_token
from tests.business_portal.test_compliance_factories import auditor
from tests.conftest import TEST_PASSWORD
from tests.factories import terms_for
from vault.agreements.models import Agreement, AgreementEvent
from vault.profile.models import ProfileField
from vault.receipts.models import ConsentReceipt
from vault.unit_of_work import Vault

PROFILE = {"identity.given_name": "Rəşad", "contact.email": "resad@example.org"}
FIELDS = {"identity.given_name": "read", "contact.email": "read"}


@dataclass(frozen=True)
class Records:
    """One business's agreement, receipt and report job, by id."""

    agreement_id: uuid.UUID
    receipt_id: uuid.UUID
    job_id: uuid.UUID


def _records(vault: Vault, app: Flask, of: PortalBusiness) -> Records:
    connected = connect_customer(vault, of.id, PROFILE, FIELDS)
    with vault.unit_of_work(write=False) as uow:
        receipt_id = uow.session.scalar(
            select(ConsentReceipt.id).where(ConsentReceipt.agreement_id == connected.agreement_id)
        )
    client = app.test_client()
    _sign_in(client, of.email("compliance"))
    page = client.get("/portal/compliance/reports")
    started = client.post(
        "/portal/compliance/reports",
        data={"kind": "processing", "file_format": "csv", "csrf_token": csrf_token(page.text)},
    )
    assert started.status_code == 303, started.text
    job_id = uuid.UUID(started.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert receipt_id is not None
    return Records(connected.agreement_id, receipt_id, job_id)


def _sign_in(client: FlaskClient, email: str) -> None:
    page = client.get("/portal/login")
    answer = client.post(
        "/portal/login",
        data={"email": email, "password": TEST_PASSWORD, "csrf_token": csrf_token(page.text)},
    )
    assert answer.status_code == 303


def _token(client: FlaskClient) -> str:
    return csrf_token(client.get("/portal/compliance/reports").text)


# Every URL that names a record: (method, path pattern, form data).
ROUTES = [
    ("GET", "/portal/compliance/agreements/{agreement}", {}),
    ("POST", "/portal/compliance/agreements/{agreement}/reviews", {"kind": "signed_off"}),
    ("POST", "/portal/compliance/agreements/{agreement}/receipts/{receipt}/verify", {}),
    ("GET", "/portal/compliance/reports/{job}", {}),
    ("GET", "/portal/compliance/reports/{job}/status.json", {}),
    ("GET", "/portal/compliance/reports/{job}/file", {}),
]


def _call(client: FlaskClient, method: str, path: str, data: dict[str, str]) -> Any:
    if method == "GET":
        return client.get(path)
    return client.post(path, data={**data, "csrf_token": _token(client)})


@pytest.mark.parametrize(("method", "pattern", "data"), ROUTES)
def test_an_officer_of_another_business_finds_nothing(
    app: Flask,
    vault: Vault,
    business: PortalBusiness,
    other_business: PortalBusiness,
    staff_client: Callable[..., FlaskClient],
    method: str,
    pattern: str,
    data: dict[str, str],
) -> None:
    theirs = _records(vault, app, other_business)
    ours = _records(vault, app, business)
    officer = staff_client("compliance")
    path = pattern.format(
        agreement=theirs.agreement_id, receipt=theirs.receipt_id, job=theirs.job_id
    )
    assert _call(officer, method, path, data).status_code == 404
    # The same record reached through one of our own ids is not found either.
    mixed = pattern.format(
        agreement=ours.agreement_id, receipt=theirs.receipt_id, job=theirs.job_id
    )
    if "{receipt}" in pattern or "{job}" in pattern:
        assert _call(officer, method, mixed, data).status_code == 404
    # And the other business's own officer does reach it (the route works).
    own_officer = staff_client("compliance", of=other_business)
    assert _call(own_officer, method, path, data).status_code in (200, 303)


def test_the_registry_and_its_export_list_only_the_own_business(
    app: Flask,
    vault: Vault,
    business: PortalBusiness,
    other_business: PortalBusiness,
    staff_client: Callable[..., FlaskClient],
) -> None:
    theirs = connect_customer(vault, other_business.id, PROFILE, FIELDS)
    ours = connect_customer(vault, business.id, PROFILE, FIELDS)
    officer = staff_client("compliance")
    page = officer.get("/portal/compliance/")
    exported = officer.get("/portal/compliance/agreements.csv")
    for text in (page.text, exported.text):
        assert ours.subject in text and str(ours.agreement_id) in text
        assert theirs.subject not in text and str(theirs.agreement_id) not in text
        assert other_business.name not in text
    # A business filter is for auditors: an officer cannot widen the view with it.
    widened = officer.get(f"/portal/compliance/?business={other_business.id}")
    assert theirs.subject not in widened.text


@pytest.mark.parametrize(
    ("role", "status"), [("compliance", 200), ("owner", 200), ("agent", 403), ("viewer", 403)]
)
def test_only_officers_and_owners_open_the_console(
    staff_client: Callable[..., FlaskClient], role: str, status: int
) -> None:
    client = staff_client(role)
    for path in (
        "/portal/compliance/",
        "/portal/compliance/verification",
        "/portal/compliance/reports",
    ):
        assert client.get(path).status_code == status


def test_a_visitor_is_sent_to_the_console_sign_in(client: FlaskClient) -> None:
    answer = client.get("/portal/compliance/reports")
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith("/portal/compliance/login")


def _snapshot(vault: Vault) -> list[tuple[Any, ...]]:
    with vault.unit_of_work(write=False) as uow:
        agreements = [
            (a.id, a.status, a.restricted, a.version, a.terms, a.granted_fields, a.valid_until)
            for a in uow.session.scalars(select(Agreement).order_by(Agreement.id))
        ]
        events = list(uow.session.execute(select(AgreementEvent.id, AgreementEvent.kind)))
        receipts = list(uow.session.execute(select(ConsentReceipt.id, ConsentReceipt.jws)))
        fields = list(
            uow.session.execute(
                select(
                    ProfileField.customer_id,
                    ProfileField.field_key,
                    ProfileField.version,
                    ProfileField.ciphertext,
                )
            )
        )
    return [tuple(agreements), tuple(events), tuple(receipts), tuple(fields)]


def test_no_post_of_the_console_changes_an_agreement_or_customer_data(
    app: Flask, vault: Vault, business: PortalBusiness, staff_client: Callable[..., FlaskClient]
) -> None:
    records = _records(vault, app, business)
    with vault.unit_of_work() as uow:
        template = RequestTemplate(
            business_id=business.id,
            name="Collector calls",
            terms=terms_for(FIELDS).model_dump(mode="json"),
            created_at=uow.now(),
            updated_at=uow.now(),
        )
        uow.session.add(template)
        uow.commit()
        template_id = template.id
    agreement = f"/portal/compliance/agreements/{records.agreement_id}"
    posts = [
        ("review", f"{agreement}/reviews", {"kind": "comment", "comment": "Looks fine."}),
        (
            "review",
            f"{agreement}/reviews",
            {"kind": "change_requested", "comment": "Drop e-mail.", "template": str(template_id)},
        ),
        ("review", f"{agreement}/reviews", {"kind": "signed_off"}),
        ("review", f"{agreement}/reviews", {"kind": "comment"}),  # refused: no comment
        ("verify_receipt", f"{agreement}/receipts/{records.receipt_id}/verify", {}),
        ("run_verification", "/portal/compliance/verification", {}),
        (
            "start_report",
            "/portal/compliance/reports",
            {"kind": "processing", "file_format": "pdf"},
        ),
        (
            "start_report",
            "/portal/compliance/reports",
            {"kind": "access", "file_format": "csv", "period_from": "2020-01-01"},
        ),
        ("login", "/portal/compliance/login", {"email": "x@example.org", "password": "wrong"}),
        ("logout", "/portal/compliance/logout", {}),
    ]
    posted = {name for name, _, _ in posts}
    console_posts = {
        rule.endpoint.split(".", 1)[1]
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("portal_compliance.") and "POST" in (rule.methods or ())
    }
    assert posted == console_posts  # every POST route of the console is exercised here
    before = _snapshot(vault)
    for role in ("compliance", "owner"):
        officer = staff_client(role)
        for _name, path, data in posts:
            answer = officer.post(path, data={**data, "csrf_token": _token(officer)})
            assert answer.status_code in (200, 303), (path, answer.status_code)
            assert _snapshot(vault) == before, path
    # Agents and viewers cannot post to the console at all.
    for role in ("agent", "viewer"):
        other = staff_client(role)
        token = csrf_token(other.get("/portal/login").text)
        answer = other.post(
            f"{agreement}/reviews", data={"kind": "signed_off", "csrf_token": token}
        )
        assert answer.status_code == 403


def test_auditor_created_on_the_command_line_sees_every_business_without_personal_data(
    app: Flask,
    vault: Vault,
    settings: Settings,
    business: PortalBusiness,
    other_business: PortalBusiness,
) -> None:
    ours = connect_customer(vault, business.id, PROFILE, FIELDS)
    theirs = connect_customer(
        vault,
        other_business.id,
        {"identity.given_name": "Elif", "contact.email": "elif@x.org"},
        FIELDS,
    )
    env = {
        "EMANET_INSTANCE_DIR": str(settings.instance_dir),
        "EMANET_DATABASE_URL": settings.database_url,
    }
    made = CliRunner().invoke(
        main,
        ["auditor", "create", "--email", "Aysel@Regulator.example", "--password-stdin", "--json"],
        env=env,
        input=TEST_PASSWORD + "\n",
    )
    assert made.exit_code == 0, made.output
    again = CliRunner().invoke(
        main,
        ["auditor", "create", "--email", "aysel@regulator.example", "--password-stdin"],
        env=env,
        input=TEST_PASSWORD + "\n",
    )
    assert again.exit_code != 0 and "already exists" in again.output

    client = app.test_client()
    page = client.get("/portal/compliance/login")
    signed = client.post(
        "/portal/compliance/login",
        data={
            "email": "aysel@regulator.example",
            "password": TEST_PASSWORD,
            "csrf_token": csrf_token(page.text),
        },
    )
    assert signed.status_code == 303
    registry = client.get("/portal/compliance/")
    detail = client.get(f"/portal/compliance/agreements/{theirs.agreement_id}")
    exported = client.get("/portal/compliance/agreements.csv")
    for text in (registry.text, exported.text):
        assert ours.subject in text and theirs.subject in text
        assert business.name in text and other_business.name in text
    assert theirs.subject in detail.text
    for text in (registry.text, detail.text, exported.text):
        for value in ("Rəşad", "resad@example.org", "Elif", "elif@x.org"):
            assert value not in text
        assert str(ours.customer_id) not in text and str(theirs.customer_id) not in text
    narrowed = client.get(f"/portal/compliance/?business={other_business.id}")
    assert theirs.subject in narrowed.text and ours.subject not in narrowed.text
    # The auditor is no staff member: the business's CRM pages stay closed.
    assert client.get("/portal/").status_code == 303


def test_wrong_auditor_password_is_refused_beside_the_field(app: Flask, vault: Vault) -> None:
    auditor(vault)
    client = app.test_client()
    page = client.get("/portal/compliance/login")
    answer = client.post(
        "/portal/compliance/login",
        data={
            "email": "auditor@emanet.example",
            "password": "not the right password",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert answer.status_code == 200
    assert "The e-mail address or the password is not right." in answer.text
    assert client.get("/portal/compliance/").status_code == 303


def test_a_disabled_auditor_cannot_sign_in(app: Flask, vault: Vault, settings: Settings) -> None:
    auditor(vault)
    env = {
        "EMANET_INSTANCE_DIR": str(settings.instance_dir),
        "EMANET_DATABASE_URL": settings.database_url,
    }
    disabled = CliRunner().invoke(
        main, ["auditor", "disable", "--email", "auditor@emanet.example"], env=env
    )
    assert disabled.exit_code == 0, disabled.output
    client = app.test_client()
    page = client.get("/portal/compliance/login")
    answer = client.post(
        "/portal/compliance/login",
        data={
            "email": "auditor@emanet.example",
            "password": TEST_PASSWORD,
            "csrf_token": csrf_token(page.text),
        },
    )
    assert answer.status_code == 200
    assert client.get("/portal/compliance/").status_code == 303


def test_a_finished_report_job_is_only_its_requesters(
    app: Flask, vault: Vault, business: PortalBusiness, staff_client: Callable[..., FlaskClient]
) -> None:
    records = _records(vault, app, business)
    with vault.unit_of_work(write=False) as uow:
        job = uow.session.get(ReportJob, records.job_id)
        assert job is not None and job.status == DONE
    # The owner of the same business did not ask for it.
    owner = staff_client("owner")
    assert owner.get(f"/portal/compliance/reports/{records.job_id}").status_code == 404
