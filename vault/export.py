"""Export of everything a customer's vault holds, decrypted (GDPR Art. 15 and 20)."""

from __future__ import annotations

import uuid

from schemas.export import (
    ExportedAccount,
    ExportedField,
    ExportedFieldVersion,
    ExportedInteraction,
    VaultExport,
)
from schemas.field_catalogue import field_spec
from vault.accounts.models import Customer
from vault.accounts.services import login_email
from vault.errors import CustomerNotFoundError
from vault.interactions.services import list_interactions
from vault.profile.services import full_history, read_fields
from vault.unit_of_work import UnitOfWork


def export_vault(uow: UnitOfWork, customer_id: uuid.UUID) -> VaultExport:
    """Gather the customer's account, fields, history and interactions."""
    customer = uow.session.get(Customer, customer_id)
    if customer is None or customer.erased_at is not None:
        raise CustomerNotFoundError(f"No customer {customer_id}.")
    fields = read_fields(uow, customer_id)
    return VaultExport(
        exported_at=uow.now(),
        account=ExportedAccount(
            id=str(customer_id),
            email=login_email(uow, customer_id),
            locale=customer.locale,
            created_at=customer.created_at,
        ),
        fields=[
            ExportedField(
                key=key,
                label=field_spec(key).label(customer.locale),
                value=item.value,
                version=item.version,
                updated_at=item.updated_at,
            )
            for key, item in sorted(fields.items())
        ],
        field_history=[
            ExportedFieldVersion(
                key=v.key,
                version=v.version,
                value=v.value,
                deleted=v.deleted,
                changed_at=v.changed_at,
                changed_by=v.changed_by,
            )
            for v in full_history(uow, customer_id)
        ],
        interactions=[
            ExportedInteraction(
                id=str(i.id),
                kind=i.kind.value,
                occurred_at=i.occurred_at,
                logged_by=i.logged_by,
                summary=i.summary,
                details=i.details,
                amount=i.amount,
                currency=i.currency,
            )
            for i in list_interactions(uow, customer_id)
        ],
    )
