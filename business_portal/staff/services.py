"""Staff sign-in and what a signed-in staff member is (plain functions over a unit of work)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from broker.businesses.models import Business, StaffUser
from broker.gate import Caller
from schemas.businesses import StaffRole
from vault.access_log.services import LogEntry, append_event
from vault.unit_of_work import UnitOfWork

# Roles that may change the CRM's records; `viewer` and `compliance` only read them.
CHANGING_ROLES = frozenset({StaffRole.OWNER.value, StaffRole.AGENT.value})
# A hash of a password nobody has, so an unknown e-mail costs as much time as a wrong password.
_UNKNOWN_USER_HASH: dict[int, str] = {}


@dataclass(frozen=True)
class StaffMember:
    """A signed-in staff member and their business, as the portal's pages see them."""

    id: uuid.UUID
    business_id: uuid.UUID
    business_name: str
    email: str
    display_name: str
    role: str

    @property
    def caller(self) -> Caller:
        """Return who asks the gate when this staff member opens a page."""
        return Caller(self.business_id, f"staff:{self.id}")

    @property
    def can_change(self) -> bool:
        """Whether this member may create, edit or delete the business's records."""
        return self.role in CHANGING_ROLES

    @property
    def is_owner(self) -> bool:
        """Whether this member may change the business's settings."""
        return self.role == StaffRole.OWNER.value


def staff_member(uow: UnitOfWork, staff_id: uuid.UUID) -> StaffMember | None:
    """Return the staff member if the account exists and is not disabled."""
    row = uow.session.execute(
        select(StaffUser, Business.legal_name)
        .join(Business, Business.id == StaffUser.business_id)
        .where(StaffUser.id == staff_id, StaffUser.disabled_at.is_(None))
    ).one_or_none()
    if row is None:
        return None
    user, business_name = row
    return StaffMember(
        user.id, user.business_id, business_name, user.email, user.display_name, user.role
    )


def authenticate_staff(uow: UnitOfWork, email: str, password: str) -> StaffMember | None:
    """Check a staff member's e-mail and password; log the attempt; commit."""
    user = uow.session.scalar(select(StaffUser).where(StaffUser.email == email.strip().casefold()))
    if user is None or user.disabled_at is not None:
        key = id(uow.passwords)
        if key not in _UNKNOWN_USER_HASH:
            _UNKNOWN_USER_HASH[key] = uow.passwords.hash(uuid.uuid4().hex)
        uow.passwords.verify(_UNKNOWN_USER_HASH[key], password)
        return None
    if not uow.passwords.verify(user.password_hash, password):
        append_event(
            uow,
            LogEntry(
                kind="staff.sign_in",
                actor=f"staff:{user.id}",
                outcome="denied:wrong_password",
                business_id=user.business_id,
            ),
        )
        uow.commit()
        return None
    if uow.passwords.needs_rehash(user.password_hash):
        user.password_hash = uow.passwords.hash(password)
    append_event(
        uow, LogEntry(kind="staff.sign_in", actor=f"staff:{user.id}", business_id=user.business_id)
    )
    uow.commit()
    return staff_member(uow, user.id)
