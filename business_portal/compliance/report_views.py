"""Log verification and reports in the console: start the work, watch it, fetch the file.

Both run in the background (`runner`); the pages read their progress from the database and
a small script (portal-compliance.js) refreshes it, with a plain link doing the same without.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from business_portal.compliance.access import compliance_required, signed_in_officer
from business_portal.compliance.forms import ActionForm, ReportForm
from business_portal.compliance.models import ReportJob
from business_portal.compliance.runner import launch_report, launch_verification
from business_portal.compliance.services.jobs import (
    DONE,
    MEDIA_TYPES,
    JobRequest,
    create_job,
    file_name,
    find_job,
    job_state,
    recent_jobs,
)
from business_portal.compliance.services.verification import (
    latest_verifications,
    start_verification,
    verification_running,
)
from vault.web_session import current_vault

# A run that has said nothing for this long is taken as lost, and another may start.
RUN_TIMEOUT = timedelta(hours=1)


@compliance_required
def verification() -> str:
    """Show the last verifications of the access log and a button to run one."""
    with current_vault().unit_of_work(write=False) as uow:
        runs = latest_verifications(uow)
        now = uow.now()
    return render_template(
        "portal/compliance/verification.html", runs=runs, now=now, form=ActionForm()
    )


@compliance_required
def run_verification() -> BaseResponse:
    """Start verifying the access log now."""
    officer = signed_in_officer()
    with current_vault().unit_of_work() as uow:
        running = verification_running(uow)
        if running is not None and uow.now() - running.started_at < RUN_TIMEOUT:
            flash(_("A verification is already running."))
            return redirect(url_for("portal_compliance.verification"), 303)
        run_id = start_verification(uow, officer.actor)
    launch_verification(run_id)
    return redirect(url_for("portal_compliance.verification"), 303)


@compliance_required
def verification_status() -> Response:
    """Answer whether the newest verification is still running (for the page's script)."""
    with current_vault().unit_of_work(write=False) as uow:
        runs = latest_verifications(uow, 1)
    status = runs[0].status if runs else "none"
    return jsonify(status=status, done=int(status != "running"), total=1)


def _reports_page(form: ReportForm) -> str:
    officer = signed_in_officer()
    with current_vault().unit_of_work(write=False) as uow:
        jobs = recent_jobs(uow, officer.actor, officer.business_id)
        now = uow.now()
    states = {job.id: job_state(job, now) for job in jobs}
    return render_template("portal/compliance/reports.html", form=form, jobs=jobs, states=states)


@compliance_required
def reports() -> str:
    """Offer the two reports and list the officer's latest ones."""
    return _reports_page(ReportForm())


@compliance_required
def start_report() -> str | BaseResponse:
    """Check the report's parameters and start generating it."""
    officer = signed_in_officer()
    form = ReportForm()
    vault = current_vault()
    if not (form.validate_on_submit() and form.check_period(vault.clock().date())):
        return _reports_page(form)
    access = form.kind.data == "access"
    with vault.unit_of_work() as uow:
        job_id = create_job(
            uow,
            JobRequest(
                business_id=officer.business_id,
                requested_by=officer.actor,
                kind=str(form.kind.data),
                file_format=str(form.file_format.data),
                locale=str(get_locale() or "en"),
                period_from=form.period_from.data if access else None,
                period_to=form.period_to.data if access else None,
            ),
        )
    launch_report(job_id)
    return redirect(url_for("portal_compliance.report_job", job_id=job_id), 303)


def _own_job(job_id: uuid.UUID) -> tuple[ReportJob, str]:
    officer = signed_in_officer()
    with current_vault().unit_of_work(write=False) as uow:
        job = find_job(uow, job_id, officer.actor, officer.business_id)
        if job is None:
            abort(404)
        return job, job_state(job, uow.now())


@compliance_required
def report_job(job_id: uuid.UUID) -> str:
    """Show how far a report is, and its file once it is done."""
    job, state = _own_job(job_id)
    return render_template("portal/compliance/report_job.html", job=job, state=state)


@compliance_required
def report_status(job_id: uuid.UUID) -> Response:
    """Answer a report's progress as JSON (for the page's script)."""
    job, state = _own_job(job_id)
    return jsonify(status=state, done=job.steps_done, total=job.steps_total)


@compliance_required
def report_file(job_id: uuid.UUID) -> Response:
    """Download a finished report."""
    job, state = _own_job(job_id)
    if state != DONE or job.content is None:
        abort(404)
    response = Response(job.content, mimetype=MEDIA_TYPES[job.file_format])
    response.headers["Content-Disposition"] = f'attachment; filename="{file_name(job)}"'
    return response


def register(blueprint: Blueprint) -> None:
    """Route verification and reports on the console's blueprint."""
    rules = [
        ("/verification", "verification", verification, ["GET"]),
        ("/verification", "run_verification", run_verification, ["POST"]),
        ("/verification/status.json", "verification_status", verification_status, ["GET"]),
        ("/reports", "reports", reports, ["GET"]),
        ("/reports", "start_report", start_report, ["POST"]),
        ("/reports/<uuid:job_id>", "report_job", report_job, ["GET"]),
        ("/reports/<uuid:job_id>/status.json", "report_status", report_status, ["GET"]),
        ("/reports/<uuid:job_id>/file", "report_file", report_file, ["GET"]),
    ]
    for rule, endpoint, view, methods in rules:
        blueprint.add_url_rule(rule, endpoint, view, methods=methods)
