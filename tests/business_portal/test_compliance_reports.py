"""Reports: their figures equal the counts of a hand-built data set, the PDF renders and its
text holds those figures, the CSV too; periods out of range are refused beside the field;
generation in the background shows progress."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from broker.businesses.models import OAuthClient
from business_portal.compliance.models import ReportJob
from business_portal.compliance.services.reports import (
    PeriodError,
    access_report,
    check_period,
    processing_records,
)
from tests.backends import IN_CI
from tests.business_portal.conftest import Clock, PortalBusiness, csrf_token
from tests.business_portal.test_compliance_factories import agreement, at, log, revoke, terms
from vault.unit_of_work import Vault

GIVEN, EMAIL, PHONE = "identity.given_name", "contact.email", "contact.phone"
MAILER = {"name": "Mailer Ltd", "country": "DE", "role": "processor"}


@dataclass(frozen=True)
class DataSet:
    """The hand-built data set and the period its access report covers."""

    start: date
    end: date
    client: str
    staff: str


def _data_set(
    vault: Vault, business: PortalBusiness, other: PortalBusiness, clock: Clock
) -> DataSet:
    now = clock.now
    with vault.unit_of_work(write=False) as uow:
        client_id = uow.session.scalar(
            select(OAuthClient.client_id).where(OAuthClient.business_id == business.id)
        )
    client, staff = f"client:{client_id}", f"staff:{business.staff_id('agent')}"
    at(clock, now - timedelta(days=100))
    delivery = agreement(
        vault,
        business.id,
        terms(
            {"contact.address": "read", PHONE: "read"},
            purpose="Delivery",
            description="Deliver the furniture you bought and call before arriving",
        ),
    )
    at(clock, now - timedelta(days=60))
    revoke(vault, delivery)  # ended 60 days ago, kept 30: no longer held
    at(clock, now - timedelta(days=40))
    letter = agreement(
        vault,
        business.id,
        terms(
            {"preferences.interests": "read", EMAIL: "read"},
            purpose="Marketing",
            description="Send the monthly letter about rare books you collect",
        ),
    )
    at(clock, now - timedelta(days=30))
    care = agreement(
        vault, business.id, terms({GIVEN: "read", EMAIL: "read"}, third_parties=[MAILER])
    )
    agreement(vault, business.id, terms({GIVEN: "read", EMAIL: "read"}), granted={GIVEN: "read"})
    agreement(vault, business.id, terms({GIVEN: "read"}), granted={})  # declined
    at(clock, now - timedelta(days=10))
    revoke(vault, letter)  # ended 10 days ago, kept 30: still held
    at(clock, now)
    agreement(vault, other.id, terms({GIVEN: "read"}))

    def reads(
        days_ago: float,
        agreement_id: uuid.UUID | None,
        actor: str,
        fields: list[str],
        **more: Any,
    ) -> None:
        moment = now - timedelta(days=days_ago)
        log(vault, clock, moment, business.id, agreement_id, actor, fields, **more)

    reads(5, care, client, fields=[GIVEN, EMAIL], times=3)
    reads(15, letter, staff, fields=[GIVEN], times=2, purpose="Marketing")
    reads(3, letter, client, fields=[], outcome="denied:revoked", purpose="Marketing")
    reads(2, care, client, fields=["interactions"], kind="interaction.append")
    reads(0, care, client, fields=[GIVEN], times=4)  # today: after the period
    reads(25, care, client, fields=[GIVEN])  # before the period
    log(vault, clock, now - timedelta(days=5), other.id, None, "client:emc_other", [GIVEN], times=7)
    start = (now - timedelta(days=20)).date()
    return DataSet(start, (now - timedelta(days=1)).date(), client, staff)


def test_report_figures_equal_the_counts_of_the_data_set(
    vault: Vault, business: PortalBusiness, other_business: PortalBusiness, clock: Clock
) -> None:
    data = _data_set(vault, business, other_business, clock)
    steps: list[tuple[int, int]] = []
    with vault.unit_of_work(write=False) as uow:
        records = processing_records(uow, business.id, lambda d, t: steps.append((d, t)))
        report = access_report(uow, business.id, data.start, data.end)
    assert steps[0] == (0, 4) and steps[-1] == (4, 4)  # four agreements ever shared data
    [controller] = records.controllers
    assert controller.name == business.name
    assert set(controller.purposes) == {"CustomerCare", "Marketing"}
    care, letter = controller.purposes["CustomerCare"], controller.purposes["Marketing"]
    assert (care.agreements, care.active, letter.agreements, letter.active) == (2, 2, 1, 0)
    assert care.fields == {GIVEN, EMAIL} and care.data_groups == {"identity", "contact"}
    assert letter.data_groups == {"preferences", "contact"}
    assert care.third_parties == {("Mailer Ltd", "DE", "processor")}
    assert controller.transfers() == [("Mailer Ltd", "DE")]
    assert care.retention == {"P30D"} and care.legal_bases == {"consent"}

    assert report.reads == 5
    assert dict(report.by_purpose) == {"CustomerCare": 3, "Marketing": 2}
    assert dict(report.by_field) == {GIVEN: 5, EMAIL: 3}
    assert dict(report.by_client) == {(business.id, data.client): 3, (business.id, data.staff): 2}
    assert dict(report.refused) == {"revoked": 1}
    assert dict(report.by_kind) == {"profile.read": 5, "interaction.append": 1}
    assert report.client_names[data.staff] == f"Agent of {business.name}"


def _require_poppler() -> None:
    if shutil.which("pdftoppm") and shutil.which("pdftotext"):
        return
    message = "poppler-utils (pdftoppm, pdftotext) is not installed: make system-test-deps"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def _generate(client: FlaskClient, **form: str) -> FlaskClient:
    token = csrf_token(client.get("/portal/compliance/reports").text)
    answer = client.post("/portal/compliance/reports", data={**form, "csrf_token": token})
    assert answer.status_code == 303, answer.text
    job = client.get(answer.headers["Location"])
    assert "The report is ready." in job.text
    return client.get(answer.headers["Location"] + "/file")


def _pdf_text(content: bytes, folder: Path) -> str:
    pdf = folder / "report.pdf"
    pdf.write_bytes(content)
    subprocess.run(
        ["pdftoppm", "-png", "-f", "1", "-l", "1", str(pdf), str(folder / "page")], check=True
    )
    pages = list(folder.glob("page*.png"))
    assert len(pages) == 1 and pages[0].stat().st_size > 1000
    out = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    )
    return out.stdout


def test_the_access_report_pdf_renders_and_holds_the_figures(
    vault: Vault,
    business: PortalBusiness,
    other_business: PortalBusiness,
    clock: Clock,
    staff_client: Callable[..., FlaskClient],
    tmp_path: Path,
) -> None:
    _require_poppler()
    data = _data_set(vault, business, other_business, clock)
    officer = staff_client("compliance")
    answer = _generate(
        officer,
        kind="access",
        file_format="pdf",
        period_from=data.start.isoformat(),
        period_to=data.end.isoformat(),
    )
    assert answer.mimetype == "application/pdf" and answer.data.startswith(b"%PDF")
    text = _pdf_text(answer.data, tmp_path)
    for pattern in (
        r"Reads\s+5\b",
        r"Customer care\s+3\b",
        r"Marketing\s+2\b",
        r"Given name\s+5\b",
        r"E-mail\s+3\b",
        r"Staff member Agent of Köhnə\s+Köhnə Şəhər Antikvarları\s+2\b",
        r"refused: the agreement was\s+1\b",
    ):
        assert re.search(pattern, text), (pattern, text)
    assert "Boğaziçi" not in text


def test_the_records_of_processing_as_pdf_and_csv(
    vault: Vault,
    business: PortalBusiness,
    other_business: PortalBusiness,
    clock: Clock,
    staff_client: Callable[..., FlaskClient],
    tmp_path: Path,
) -> None:
    _require_poppler()
    _data_set(vault, business, other_business, clock)
    officer = staff_client("compliance")
    text = _pdf_text(_generate(officer, kind="processing", file_format="pdf").data, tmp_path)
    for expected in (
        "Records of processing activities (GDPR Art. 30)",
        "Köhnə Şəhər Antikvarları",
        "Customer care",
        "Mailer Ltd",
        "Germany",
        "Safeguards",
    ):
        assert expected in text, expected
    assert re.search(r"Agreements \(active\)\s+2 \(2\)", text)
    assert re.search(r"Agreements \(active\)\s+1 \(0\)", text)
    assert "Delivery" not in text and "Boğaziçi" not in text
    exported = _generate(officer, kind="processing", file_format="csv")
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert ["Agreements (active)", "2 (2)"] in rows and ["Agreements (active)", "1 (0)"] in rows
    assert ["Categories of data", "Contact; Identity"] in rows


def test_the_access_report_as_csv(
    vault: Vault,
    business: PortalBusiness,
    other_business: PortalBusiness,
    clock: Clock,
    staff_client: Callable[..., FlaskClient],
) -> None:
    data = _data_set(vault, business, other_business, clock)
    exported = _generate(
        staff_client("owner"),
        kind="access",
        file_format="csv",
        period_from=data.start.isoformat(),
        period_to=data.end.isoformat(),
    )
    assert exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    for row in (["Reads", "5"], ["Customer care", "3"], ["Given name", "5"], ["E-mail", "3"]):
        assert row in rows


@pytest.mark.parametrize(
    ("start", "end", "field", "message"),
    [
        ("2025-03-10", "2025-03-01", "period_from", "The first day must be on or before"),
        ("2024-01-01", "2025-03-01", "period_to", "A period is at most 366 days long."),
        ("2025-03-01", "2999-01-01", "period_to", "The period cannot end in the future."),
        ("", "2025-03-01", "period_from", "Enter the first day of the period."),
        ("1 March", "2025-03-01", "period_from", "Enter the day, for example 2025-05-01."),
    ],
)
def test_a_period_out_of_range_is_refused_beside_the_field(
    vault: Vault,
    staff_client: Callable[..., FlaskClient],
    start: str,
    end: str,
    field: str,
    message: str,
) -> None:
    officer = staff_client("compliance")
    token = csrf_token(officer.get("/portal/compliance/reports").text)
    answer = officer.post(
        "/portal/compliance/reports",
        data={
            "kind": "access",
            "file_format": "pdf",
            "period_from": start,
            "period_to": end,
            "csrf_token": token,
        },
    )
    assert answer.status_code == 200
    help_text = re.search(rf'id="{field}-help">(.*?)</p>', answer.text, re.S)
    assert help_text and message in help_text.group(1)
    assert f'value="{start}"' in answer.text  # the input is kept
    with vault.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(func.count()).select_from(ReportJob)) == 0


def test_the_service_checks_the_period_too() -> None:
    today = date(2025, 6, 1)
    check_period(date(2024, 6, 1), today, today)  # 366 days, inclusive
    for start, end in ((date(2024, 5, 31), today), (today, date(2025, 6, 2))):
        with pytest.raises(PeriodError):
            check_period(start, end, today)


def test_a_report_made_in_the_background_shows_its_progress(
    app: Flask,
    vault: Vault,
    business: PortalBusiness,
    other_business: PortalBusiness,
    clock: Clock,
    staff_client: Callable[..., FlaskClient],
) -> None:
    data = _data_set(vault, business, other_business, clock)
    app.config["COMPLIANCE_JOBS_INLINE"] = False
    officer = staff_client("compliance")
    token = csrf_token(officer.get("/portal/compliance/reports").text)
    started = officer.post(
        "/portal/compliance/reports",
        data={
            "kind": "access",
            "file_format": "csv",
            "period_from": data.start.isoformat(),
            "period_to": data.end.isoformat(),
            "csrf_token": token,
        },
    )
    page = officer.get(started.headers["Location"])
    assert page.status_code == 200
    status_url = started.headers["Location"] + "/status.json"
    deadline = time.monotonic() + 30
    while (state := officer.get(status_url).get_json())["status"] in ("queued", "running"):
        assert {"done", "total"} <= set(state)
        assert time.monotonic() < deadline, state
        time.sleep(0.05)
    assert state["status"] == "done" and state["done"] == state["total"] >= 1
    assert b"Reads" in officer.get(started.headers["Location"] + "/file").data
    running = officer.get(started.headers["Location"])
    assert "portal-compliance.js" not in running.text  # done: nothing left to poll
