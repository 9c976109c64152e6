"""Use cases of the relationship record: log an interaction, list them."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from schemas.interactions import InteractionEntry, InteractionKind
from vault.interactions.models import Interaction
from vault.keys import aead
from vault.profile.services import lock_customer
from vault.unit_of_work import UnitOfWork

CUSTOMER_AUTHOR = "customer"


@dataclass(frozen=True)
class InteractionRecord:
    """An interaction as read back from the vault, decrypted."""

    id: uuid.UUID
    kind: InteractionKind
    occurred_at: datetime
    logged_by: str
    summary: str | None
    details: str | None
    amount: Decimal | None
    currency: str | None
    created_at: datetime


def interaction_aad(
    customer_id: uuid.UUID, interaction_id: uuid.UUID, kind: str, logged_by: str
) -> bytes:
    """Bind the encrypted part to its customer, row, kind and author."""
    return aead.associated_data(
        "emanet/interaction/v1", customer_id, interaction_id, kind, logged_by
    )


def record_interaction(
    uow: UnitOfWork, customer_id: uuid.UUID, entry: InteractionEntry, *, logged_by: str
) -> uuid.UUID:
    """Add an interaction to the current transaction and return its id."""
    lock_customer(uow, customer_id)
    interaction_id = uuid.uuid4()
    secret = json.dumps(entry.secret_part(), ensure_ascii=False).encode()
    uow.session.add(
        Interaction(
            id=interaction_id,
            customer_id=customer_id,
            kind=entry.kind.value,
            occurred_at=entry.occurred_at,
            logged_by=logged_by,
            ciphertext=uow.keys.encrypt(
                uow.session,
                customer_id,
                secret,
                interaction_aad(customer_id, interaction_id, entry.kind.value, logged_by),
            ),
            created_at=uow.now(),
        )
    )
    uow.session.flush()
    return interaction_id


def log_interaction(
    uow: UnitOfWork,
    customer_id: uuid.UUID,
    entry: InteractionEntry,
    *,
    logged_by: str = CUSTOMER_AUTHOR,
) -> uuid.UUID:
    """Log an interaction in the customer's vault and commit it."""
    interaction_id = record_interaction(uow, customer_id, entry, logged_by=logged_by)
    uow.commit()
    return interaction_id


def list_interactions(
    uow: UnitOfWork, customer_id: uuid.UUID, *, logged_by: str | None = None
) -> list[InteractionRecord]:
    """Return the customer's interactions, newest first; only one author's if named."""
    query = select(Interaction).where(Interaction.customer_id == customer_id)
    if logged_by is not None:
        query = query.where(Interaction.logged_by == logged_by)
    rows = uow.session.scalars(query.order_by(Interaction.occurred_at.desc(), Interaction.id)).all()
    if not rows:
        return []
    dek = uow.keys.get(uow.session, customer_id)
    records = []
    for row in rows:
        secret = json.loads(
            aead.unseal(
                dek,
                row.ciphertext,
                interaction_aad(customer_id, row.id, row.kind, row.logged_by),
            )
        )
        records.append(
            InteractionRecord(
                id=row.id,
                kind=InteractionKind(row.kind),
                occurred_at=row.occurred_at,
                logged_by=row.logged_by,
                summary=secret["summary"],
                details=secret["details"],
                amount=None if secret["amount"] is None else Decimal(secret["amount"]),
                currency=secret["currency"],
                created_at=row.created_at,
            )
        )
    return records
