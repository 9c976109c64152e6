"""Each staff member's saved views of the customer list: a name and the list's query.

A view is personal: every lookup names the business and the staff member, so another's view
(of the same business or another) is simply not found.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from business_portal.customers.list_query import CustomerQuery
from business_portal.records.models import SavedView
from vault.unit_of_work import UnitOfWork

MAX_NAME_LENGTH = 80
MAX_VIEWS = 50


class SavedViewError(ValueError):
    """A view cannot be saved as asked; `code` says why ("name_required", "too_many")."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def my_views(uow: UnitOfWork, business_id: uuid.UUID, staff_id: uuid.UUID) -> list[SavedView]:
    """Return the staff member's saved views, by name."""
    return list(
        uow.session.scalars(
            select(SavedView)
            .where(SavedView.business_id == business_id, SavedView.staff_id == staff_id)
            .order_by(func.lower(SavedView.name), SavedView.created_at)
            .limit(MAX_VIEWS)
        )
    )


def my_view(
    uow: UnitOfWork, business_id: uuid.UUID, staff_id: uuid.UUID, view_id: uuid.UUID
) -> SavedView | None:
    """Return one of the staff member's views, or None (also for anyone else's)."""
    return uow.session.scalar(
        select(SavedView).where(
            SavedView.id == view_id,
            SavedView.business_id == business_id,
            SavedView.staff_id == staff_id,
        )
    )


def save_view(
    uow: UnitOfWork,
    business_id: uuid.UUID,
    staff_id: uuid.UUID,
    name: str,
    query: CustomerQuery,
) -> uuid.UUID:
    """Save the query under a name (replacing the member's view of that name); commit."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME_LENGTH:
        raise SavedViewError("name_required" if not name else "name_too_long")
    views = my_views(uow, business_id, staff_id)
    same = next((v for v in views if v.name.casefold() == name.casefold()), None)
    if same is not None:
        same.name, same.query = name, query.as_params()
        uow.commit()
        return same.id
    if len(views) >= MAX_VIEWS:
        raise SavedViewError("too_many")
    view = SavedView(
        id=uuid.uuid4(),
        business_id=business_id,
        staff_id=staff_id,
        name=name,
        query=query.as_params(),
        created_at=uow.now(),
    )
    uow.session.add(view)
    uow.commit()
    return view.id


def delete_view(
    uow: UnitOfWork, business_id: uuid.UUID, staff_id: uuid.UUID, view_id: uuid.UUID
) -> bool:
    """Delete one of the staff member's views; commit; False if there is no such view of theirs."""
    view = my_view(uow, business_id, staff_id, view_id)
    if view is None:
        return False
    uow.session.delete(view)
    uow.commit()
    return True
