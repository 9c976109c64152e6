"""An agreement's status at a given moment: expiry is decided at read time, never by a job."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from schemas.agreements import AgreementStatus


class HasValidity(Protocol):
    """What deciding a status needs: a stored status and the end of validity."""

    @property
    def status(self) -> str: ...

    @property
    def valid_until(self) -> datetime | None: ...


def current_status(agreement: HasValidity, now: datetime) -> AgreementStatus:
    """Return the status as of `now`: an active agreement past its term is expired."""
    status = AgreementStatus(agreement.status)
    if status is AgreementStatus.ACTIVE and agreement.valid_until and agreement.valid_until <= now:
        return AgreementStatus.EXPIRED
    return status
