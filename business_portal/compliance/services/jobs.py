"""Report jobs: a report is generated in the background and its progress kept in a row.

The row is the only thing the page and the worker share, so any app process can answer
"how far is it?" while one thread (or process) works. A job that stops reporting progress
for STALE_AFTER is shown as failed: its process went away.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import defer

from business_portal.compliance.models import ReportJob
from vault.unit_of_work import UnitOfWork, Vault

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
KINDS = ("processing", "access")
FORMATS = ("csv", "pdf")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}
STALE_AFTER = timedelta(minutes=15)


@dataclass(frozen=True)
class JobRequest:
    """What report to make, for whom."""

    business_id: uuid.UUID | None
    requested_by: str
    kind: str
    file_format: str
    locale: str
    period_from: date | None = None
    period_to: date | None = None


def create_job(uow: UnitOfWork, job: JobRequest) -> uuid.UUID:
    """Queue a report job; commit; return its id."""
    if job.kind not in KINDS or job.file_format not in FORMATS:
        raise ValueError("Unknown report kind or format.")
    now = uow.now()
    row = ReportJob(
        id=uuid.uuid4(),
        business_id=job.business_id,
        requested_by=job.requested_by,
        kind=job.kind,
        file_format=job.file_format,
        period_from=job.period_from,
        period_to=job.period_to,
        locale=job.locale,
        status=QUEUED,
        steps_done=0,
        steps_total=1,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(row)
    uow.commit()
    return row.id


def find_job(
    uow: UnitOfWork, job_id: uuid.UUID, requested_by: str, scope: uuid.UUID | None
) -> ReportJob | None:
    """Return the officer's own job in their scope, or None."""
    query = select(ReportJob).where(ReportJob.id == job_id, ReportJob.requested_by == requested_by)
    if scope is not None:
        query = query.where(ReportJob.business_id == scope)
    return uow.session.scalar(query)


def recent_jobs(
    uow: UnitOfWork, requested_by: str, scope: uuid.UUID | None, limit: int = 10
) -> list[ReportJob]:
    """Return the officer's latest jobs, newest first (without their files)."""
    query = (
        select(ReportJob)
        .options(defer(ReportJob.content))
        .where(ReportJob.requested_by == requested_by)
    )
    if scope is not None:
        query = query.where(ReportJob.business_id == scope)
    return list(uow.session.scalars(query.order_by(ReportJob.created_at.desc()).limit(limit)))


def job_state(job: ReportJob, now: datetime) -> str:
    """Return the job's status, counting a silent unfinished job as failed."""
    if job.status in (QUEUED, RUNNING) and now - job.updated_at > STALE_AFTER:
        return FAILED
    return job.status


def progress_reporter(vault: Vault, job_id: uuid.UUID) -> Callable[[int, int], None]:
    """Return a callback that writes a job's progress, each step in its own transaction."""

    def report(done: int, total: int) -> None:
        with vault.unit_of_work() as uow:
            uow.session.execute(
                update(ReportJob)
                .where(ReportJob.id == job_id)
                .values(
                    status=RUNNING,
                    steps_done=min(done, max(total, 1)),
                    steps_total=max(total, 1),
                    updated_at=uow.now(),
                )
            )
            uow.commit()

    return report


def finish_job(vault: Vault, job_id: uuid.UUID, content: bytes) -> None:
    """Keep the finished file and mark the job done."""
    with vault.unit_of_work() as uow:
        job = uow.session.get(ReportJob, job_id)
        if job is None:
            return
        job.content, job.status = content, DONE
        job.steps_done = job.steps_total
        job.finished_at = job.updated_at = uow.now()
        uow.commit()


def fail_job(vault: Vault, job_id: uuid.UUID, error: str) -> None:
    """Mark the job failed with a short reason."""
    with vault.unit_of_work() as uow:
        job = uow.session.get(ReportJob, job_id)
        if job is None:
            return
        job.status, job.error = FAILED, error[:400]
        job.finished_at = job.updated_at = uow.now()
        uow.commit()


def file_name(job: ReportJob) -> str:
    """Return the download name of a finished job's file."""
    period = ""
    if job.period_from and job.period_to:
        period = f"-{job.period_from.isoformat()}-{job.period_to.isoformat()}"
    return f"emanet-{job.kind}{period}.{job.file_format}"
