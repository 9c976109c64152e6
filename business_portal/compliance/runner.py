"""Long work of the console off the request: report generation and log verification.

Why a thread and a progress row rather than a streamed response: a regulator's PDF must be
complete before it is offered (a half-streamed PDF is no PDF), the figures take one pass
over a year of the log, and the page that polls may be served by any process, so progress
lives in the database. The thread runs in the process that took the request, with an app
and request context of its own so reports speak the officer's language. A test app runs
the work inline (`COMPLIANCE_JOBS_INLINE`, on by default when testing).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable

from flask import Flask, current_app
from flask_babel import force_locale

from business_portal.compliance import report_files
from business_portal.compliance.models import ReportJob
from business_portal.compliance.report_pdf import sections_pdf
from business_portal.compliance.services.jobs import (
    fail_job,
    finish_job,
    progress_reporter,
)
from business_portal.compliance.services.reports import access_report, processing_records
from business_portal.compliance.services.verification import run_verification
from vault.unit_of_work import Vault

log = logging.getLogger(__name__)


def _vault(app: Flask) -> Vault:
    vault: Vault = app.extensions["emanet"].vault
    return vault


def _start(app: Flask, name: str, work: Callable[[], None]) -> None:
    if app.config.get("COMPLIANCE_JOBS_INLINE", app.testing):
        work()
        return
    threading.Thread(target=work, name=name, daemon=True).start()


def _app() -> Flask:
    # The application itself rather than the request's proxy to it: the thread outlives
    # the request.
    return current_app.app_context().app


def launch_report(job_id: uuid.UUID) -> None:
    """Generate a queued report in the background."""
    app = _app()
    _start(app, f"compliance-report-{job_id}", lambda: generate_report(app, job_id))


def launch_verification(run_id: int) -> None:
    """Verify the access log in the background."""
    app = _app()
    _start(app, f"compliance-verify-{run_id}", lambda: run_verification(_vault(app), run_id))


def generate_report(app: Flask, job_id: uuid.UUID) -> None:
    """Compute a report's figures, write its file and keep it with the job."""
    vault = _vault(app)
    try:
        with vault.unit_of_work(write=False) as uow:
            job = uow.session.get(ReportJob, job_id)
            if job is None:
                return
            kind, file_format, locale = job.kind, job.file_format, job.locale
            scope, start, end = job.business_id, job.period_from, job.period_to
        progress = progress_reporter(vault, job_id)
        with app.test_request_context("/portal/compliance/reports"), force_locale(locale):
            with vault.unit_of_work(write=False) as uow:
                if kind == "processing":
                    records = processing_records(uow, scope, progress)
                    title, line = report_files.processing_title(records)
                    names = [c.name for c in records.controllers]
                    sections = report_files.processing_sections(records)
                else:
                    assert start is not None and end is not None
                    accesses = access_report(uow, scope, start, end, progress)
                    title, line = report_files.access_title(accesses)
                    names = sorted(accesses.businesses.values())
                    sections = report_files.access_sections(accesses)
            lines = [line, report_files.scope_line(names)]
            if file_format == "pdf":
                content = sections_pdf(title, lines, sections, "Emanet")
            else:
                content = report_files.sections_csv(title, " ".join(lines), sections)
        finish_job(vault, job_id, content)
    except Exception as exc:  # any failure must end the job visibly, not leave it running
        log.exception("report job %s failed", job_id)
        fail_job(vault, job_id, type(exc).__name__)
