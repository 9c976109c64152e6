"""Fair locks on one agreement: reads share it, changes of state take it alone.

PostgreSQL row locks let a new FOR SHARE pass a waiting FOR UPDATE, so a business reading
without pause could hold a revocation back for as long as it liked. Transaction-level
advisory locks queue in arrival order: a waiting revocation stops new reads, and waits only
for the reads already under way (DESIGN invariant 5). SQLite has one writer at a time, and
`emanet.database.WriterQueue` admits writers in arrival order.
"""

from __future__ import annotations

import uuid

from sqlalchemy import text

from vault.unit_of_work import UnitOfWork


def _key(agreement_id: uuid.UUID) -> int:
    return int.from_bytes(agreement_id.bytes[:8], "big", signed=True)


def share_agreement(uow: UnitOfWork, agreement_id: uuid.UUID) -> None:
    """Hold the agreement against changes until this transaction ends (for a read)."""
    if uow.session.get_bind().dialect.name == "postgresql":
        uow.session.execute(
            text("SELECT pg_advisory_xact_lock_shared(:key)"), {"key": _key(agreement_id)}
        )


def own_agreement(uow: UnitOfWork, agreement_id: uuid.UUID) -> None:
    """Hold the agreement alone until this transaction ends (to change its state)."""
    if uow.session.get_bind().dialect.name == "postgresql":
        uow.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _key(agreement_id)})
