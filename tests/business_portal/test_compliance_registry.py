"""The agreement registry: filters, paging, the CSV export of the filtered view, and the
verification panel of the access log."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from business_portal.compliance.services import registry, verification
from business_portal.compliance.services.verification import LogReport
from tests.business_portal.conftest import (
    Clock,
    PortalBusiness,
    csrf_token,
    make_portal_business,
    sign_in_staff,
)
from tests.business_portal.test_compliance_factories import (
    agreement,
    at,
    customer_of,
    pseudonym,
    revoke,
    terms,
)
from tests.factories import make_request
from vault.unit_of_work import Vault

GIVEN, EMAIL, ADDRESS = "identity.given_name", "contact.email", "contact.address"


def _subjects(vault: Vault, business_id: uuid.UUID, *agreement_ids: uuid.UUID) -> list[str]:
    return [pseudonym(vault, business_id, customer_of(vault, a)) for a in agreement_ids]


def test_filters_narrow_the_registry(
    vault: Vault,
    business: PortalBusiness,
    clock: Clock,
    staff_client: Callable[..., FlaskClient],
) -> None:
    now = clock.now
    at(clock, now - timedelta(days=400))
    lapsed = agreement(
        vault,
        business.id,
        terms({ADDRESS: "read"}, purpose="Delivery", description="Bring the sofa you bought"),
    )
    at(clock, now - timedelta(days=20))
    care = agreement(vault, business.id, terms({GIVEN: "read", EMAIL: "read"}))
    at(clock, now - timedelta(days=5))
    letter = agreement(
        vault,
        business.id,
        terms(
            {"preferences.interests": "read"},
            purpose="Marketing",
            description="Monthly rare book letter",
        ),
    )
    revoke(vault, letter)
    at(clock, now)
    make_request(vault, business.id, {GIVEN: "read"})  # waits for a customer
    lapsed_s, care_s, letter_s = _subjects(vault, business.id, lapsed, care, letter)
    officer = staff_client("compliance")

    def shown(query: str) -> set[str]:
        page = officer.get(f"/portal/compliance/?{query}")
        assert page.status_code == 200
        return {s for s in (lapsed_s, care_s, letter_s) if s in page.text}

    assert shown("") == {lapsed_s, care_s, letter_s}
    assert "Waiting for a customer" in officer.get("/portal/compliance/").text
    assert shown("status=revoked") == {letter_s}
    assert shown("status=expired") == {lapsed_s}  # past its term, never written down
    assert shown("status=active") == {care_s}
    assert shown("purpose=Delivery") == {lapsed_s}
    assert shown(f"field={ADDRESS}") == {lapsed_s}
    assert shown(f"field={EMAIL}") == {care_s}

    def day(d: int) -> str:
        return (now - timedelta(days=d)).date().isoformat()

    assert shown(f"granted_from={day(25)}&granted_to={day(10)}") == {care_s}
    assert shown(f"granted_from={day(10)}") == {letter_s}
    assert shown("review=not_reviewed") == {lapsed_s, care_s, letter_s}
    assert shown("review=signed_off") == set()

    backwards = officer.get(f"/portal/compliance/?granted_from={day(1)}&granted_to={day(30)}")
    assert "The end must be on or after the start." in backwards.text
    unknown = officer.get("/portal/compliance/?status=lost&purpose=Spying")
    assert unknown.text.count("Choose one of the options in the list.") == 2
    assert shown("granted_to=yesterday") == {lapsed_s, care_s, letter_s}

    exported = officer.get(f"/portal/compliance/agreements.csv?field={EMAIL}")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["customer_pseudonym"] for r in rows] == [care_s]
    assert rows[0]["fields_granted"] == f"{GIVEN} {EMAIL}" and rows[0]["status"] == "active"
    assert rows[0]["retention"] == "P30D" and rows[0]["review_state"] == "not_reviewed"


def test_pages_of_the_registry(
    vault: Vault,
    business: PortalBusiness,
    staff_client: Callable[..., FlaskClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(registry, "PAGE_SIZE", 2)
    for _ in range(5):
        agreement(vault, business.id, terms({GIVEN: "read"}))
    officer = staff_client("compliance")
    first = officer.get("/portal/compliance/?status=active").text
    assert "Page 1 of 3" in first and "page=2" in first and "status=active" in first
    assert "Page 3 of 3" in officer.get("/portal/compliance/?page=99").text
    assert "Page 1 of 3" in officer.get("/portal/compliance/?page=nonsense").text
    exported = officer.get("/portal/compliance/agreements.csv")
    assert len(list(csv.DictReader(io.StringIO(exported.text)))) == 5  # every page


def test_the_export_cannot_carry_a_formula(app: Flask, vault: Vault) -> None:
    sneaky = make_portal_business(vault, '=HYPERLINK("https://evil.example")', "sneaky.example")
    agreement(vault, sneaky.id, terms({GIVEN: "read"}))
    client = app.test_client()
    sign_in_staff(client, sneaky.email("compliance"))
    exported = client.get("/portal/compliance/agreements.csv")
    [row] = list(csv.DictReader(io.StringIO(exported.text)))
    assert row["business"].startswith("'=")


def _run(client: FlaskClient) -> str:
    token = csrf_token(client.get("/portal/compliance/verification").text)
    answer = client.post("/portal/compliance/verification", data={"csrf_token": token})
    assert answer.status_code == 303
    return client.get("/portal/compliance/verification").text


def test_the_verification_panel_runs_the_log_verification_and_keeps_the_result(
    business: PortalBusiness,
    staff_client: Callable[..., FlaskClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    officer = staff_client("compliance")
    assert (
        "has not been verified from the console yet"
        in officer.get("/portal/compliance/verification").text
    )
    intact = _run(officer)
    assert "The log holds." in intact
    # What a tampered log looks like on the panel (the log's own tests tamper for real).
    problem = "event 7 (position 7) was altered: its hash does not match its contents"
    monkeypatch.setattr(verification, "verify_log", lambda vault: LogReport(False, 6, 7, problem))
    tampered = _run(officer)
    assert "The log was tampered with." in tampered
    assert "First bad event: number 7." in tampered and problem in tampered
    assert tampered.count("<tr>") == 3  # header and two runs: history is kept


def test_a_broken_verification_run_is_shown_as_such(
    staff_client: Callable[..., FlaskClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(vault: Vault) -> LogReport:
        raise RuntimeError("database went away")

    monkeypatch.setattr(verification, "verify_log", broken)
    text = _run(staff_client("owner"))
    assert "The verification could not run to the end." in text


def test_another_business_sees_the_same_log_verification(
    vault: Vault, business: PortalBusiness, other_business: PortalBusiness, app: Flask
) -> None:
    # The log is one for all businesses: a verification proves it for everyone.
    mine = app.test_client()
    sign_in_staff(mine, business.email("compliance"))
    _run(mine)
    theirs = app.test_client()
    sign_in_staff(theirs, other_business.email("compliance"))
    assert "The log holds." in theirs.get("/portal/compliance/verification").text
