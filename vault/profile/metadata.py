"""What may be known of a profile without decrypting it: when its fields last changed."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import func, select

from vault.profile.models import ProfileField
from vault.unit_of_work import UnitOfWork


def changed_since(
    uow: UnitOfWork, customers: Iterable[uuid.UUID], since: datetime
) -> set[uuid.UUID]:
    """Return which of these customers changed any field after `since` (timestamps only)."""
    wanted = list(customers)
    if not wanted:
        return set()
    latest = uow.session.execute(
        select(ProfileField.customer_id, func.max(ProfileField.updated_at))
        .where(ProfileField.customer_id.in_(wanted))
        .group_by(ProfileField.customer_id)
    ).all()
    # func.max bypasses the column type, so SQLite hands back a naive string-parsed value.
    return {customer for customer, at in latest if at is not None and _as_utc(at) > since}


def _as_utc(moment: datetime | str) -> datetime:
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return value if value.tzinfo else value.replace(tzinfo=UTC)
