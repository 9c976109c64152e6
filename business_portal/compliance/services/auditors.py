"""Operator-level auditors: created from the command line, signed in with a password."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import select

from business_portal.compliance.models import Auditor
from schemas.text_types import EmailAddress, ShortText
from vault.access_log.services import LogEntry, append_event
from vault.unit_of_work import UnitOfWork

# A hash of a password nobody has, so an unknown e-mail costs as much time as a wrong password.
_UNKNOWN_USER_HASH: dict[int, str] = {}


class AuditorEmailTakenError(ValueError):
    """An auditor with this e-mail address already exists."""


class AuditorIn(BaseModel):
    """An auditor to create."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    email: EmailAddress
    display_name: ShortText


@dataclass(frozen=True)
class AuditorView:
    """A signed-in auditor as the console sees them."""

    id: uuid.UUID
    email: str
    display_name: str

    @property
    def actor(self) -> str:
        """Return how the access log and the review history name this auditor."""
        return f"auditor:{self.id}"


def create_auditor(uow: UnitOfWork, auditor: AuditorIn, password: str) -> uuid.UUID:
    """Add an auditor with an Argon2id password; log it; commit."""
    email = auditor.email.casefold()
    if uow.session.scalar(select(Auditor.id).where(Auditor.email == email)):
        raise AuditorEmailTakenError("An auditor with this e-mail address already exists.")
    row = Auditor(
        id=uuid.uuid4(),
        email=email,
        display_name=auditor.display_name,
        password_hash=uow.passwords.hash(password),
        created_at=uow.now(),
    )
    uow.session.add(row)
    append_event(uow, LogEntry(kind="auditor.created", actor="operator", detail=str(row.id)))
    uow.commit()
    return row.id


def auditor_in(email: str, display_name: str | None) -> AuditorIn:
    """Return the auditor to create, or raise ValueError saying what is wrong."""
    try:
        return AuditorIn(email=email, display_name=display_name or email.partition("@")[0])
    except ValidationError as exc:
        lines = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ValueError("\n".join(lines)) from None


def set_auditor_disabled(uow: UnitOfWork, email: str, disabled: bool) -> bool:
    """Disable or enable an auditor; return whether one has this e-mail; commit."""
    row = uow.session.scalar(select(Auditor).where(Auditor.email == email.strip().casefold()))
    if row is None:
        return False
    row.disabled_at = uow.now() if disabled else None
    kind = "auditor.disabled" if disabled else "auditor.enabled"
    append_event(uow, LogEntry(kind=kind, actor="operator", detail=str(row.id)))
    uow.commit()
    return True


def auditor_by_id(uow: UnitOfWork, auditor_id: uuid.UUID) -> AuditorView | None:
    """Return the auditor if the account exists and is not disabled."""
    row = uow.session.get(Auditor, auditor_id)
    if row is None or row.disabled_at is not None:
        return None
    return AuditorView(row.id, row.email, row.display_name)


def authenticate_auditor(uow: UnitOfWork, email: str, password: str) -> AuditorView | None:
    """Check an auditor's e-mail and password; log the attempt; commit."""
    row = uow.session.scalar(select(Auditor).where(Auditor.email == email.strip().casefold()))
    if row is None or row.disabled_at is not None:
        key = id(uow.passwords)
        if key not in _UNKNOWN_USER_HASH:
            _UNKNOWN_USER_HASH[key] = uow.passwords.hash(uuid.uuid4().hex)
        uow.passwords.verify(_UNKNOWN_USER_HASH[key], password)
        return None
    actor = f"auditor:{row.id}"
    if not uow.passwords.verify(row.password_hash, password):
        entry = LogEntry(kind="auditor.sign_in", actor=actor, outcome="denied:wrong_password")
        append_event(uow, entry)
        uow.commit()
        return None
    if uow.passwords.needs_rehash(row.password_hash):
        row.password_hash = uow.passwords.hash(password)
    append_event(uow, LogEntry(kind="auditor.sign_in", actor=actor))
    uow.commit()
    return AuditorView(row.id, row.email, row.display_name)
