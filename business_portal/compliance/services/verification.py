"""Verifying the access log from the console (DESIGN invariant 8), and keeping the result.

The log is an RFC 9162 Merkle tree with signed checkpoints; `emanet audit verify` and this
console run the same verifier (vault.access_log.verify).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from business_portal.compliance.models import LogVerification
from vault.access_log.verify import verify_log as verify_tree
from vault.unit_of_work import UnitOfWork, Vault

RUNNING, DONE, FAILED = "running", "done", "failed"


@dataclass(frozen=True)
class LogReport:
    """What the log's verifier found: whether it holds, how much it checked, the first bad
    event and the problem in words."""

    ok: bool
    checked: int
    first_bad_seq: int | None
    problem: str | None


def verify_log(vault: Vault) -> LogReport:
    """Run the access log's own verification over everything sealed."""
    report = verify_tree(vault)
    return LogReport(report.ok, report.checked, report.first_bad_seq, report.problem)


def start_verification(uow: UnitOfWork, actor: str) -> int:
    """Record that a verification starts now; commit; return its id."""
    run = LogVerification(started_by=actor, started_at=uow.now(), status=RUNNING)
    uow.session.add(run)
    uow.session.flush()
    uow.commit()
    return run.id


def run_verification(vault: Vault, run_id: int) -> None:
    """Verify the log and store what was found under the run `run_id`."""
    try:
        report: LogReport | None = verify_log(vault)
        failure = None
    except Exception as exc:  # the run broke (a database error), which says nothing of the log
        report, failure = None, f"{type(exc).__name__}: {exc}"[:1000]
    with vault.unit_of_work() as uow:
        run = uow.session.get(LogVerification, run_id)
        if run is None:
            return
        run.finished_at = uow.now()
        if report is None:
            run.status, run.problem = FAILED, failure
        else:
            run.status, run.ok, run.checked = DONE, report.ok, report.checked
            run.first_bad_seq, run.problem = report.first_bad_seq, report.problem
        uow.commit()


def latest_verifications(uow: UnitOfWork, limit: int = 10) -> list[LogVerification]:
    """Return the most recent verification runs, newest first."""
    return list(
        uow.session.scalars(
            select(LogVerification).order_by(LogVerification.id.desc()).limit(limit)
        )
    )


def verification_running(uow: UnitOfWork) -> LogVerification | None:
    """Return the newest run if it has not finished yet."""
    runs = latest_verifications(uow, 1)
    return runs[0] if runs and runs[0].status == RUNNING else None
