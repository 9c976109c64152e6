"""Request templates and the invites made from them (plain functions over a unit of work).

A template is the business's own draft of agreement terms; an invite hands those terms out
at the counter as a link and a QR code (DESIGN: how a connection starts).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import select

from broker.invites.models import Invite
from broker.invites.services import create_invite
from business_portal.records.models import RequestTemplate
from schemas.agreements import AgreementTerms
from schemas.durations import Duration
from schemas.text_types import short_text
from vault.access_log.services import LogEntry, append_event
from vault.unit_of_work import UnitOfWork

# What broker.invites.services.create_invite makes: URL-safe base64, at most the column's length.
INVITE_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")


class TemplateNotFoundError(LookupError):
    """No such template for this business."""


class TemplateArchivedError(ValueError):
    """The template is archived: it can no longer be changed or handed out."""


class InviteNotFoundError(LookupError):
    """No such invite for this business."""


class TemplateIn(BaseModel):
    """A request template as staff write it: a name and the terms it asks for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: short_text(120)
    terms: AgreementTerms

    @field_validator("terms")
    @classmethod
    def _lasts_a_while(cls, terms: AgreementTerms) -> AgreementTerms:
        # An agreement of no length would end as it starts: nobody can mean that.
        if terms.duration.approximate_days() == 0:
            raise PydanticCustomError("term_zero", "An agreement must last at least one day.")
        return terms


class InviteIn(BaseModel):
    """An invite made from a template: what staff call it and how long it works."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: short_text(200)
    valid_for: Duration | None = None


@dataclass(frozen=True)
class TemplateRow:
    """A template with its terms read back."""

    id: uuid.UUID
    name: str
    terms: AgreementTerms
    updated_at: datetime
    archived_at: datetime | None


@dataclass(frozen=True)
class InviteRow:
    """An invite as the portal lists it."""

    code: str
    label: str
    terms: AgreementTerms
    opened: int
    created_at: datetime
    expires_at: datetime | None
    disabled_at: datetime | None
    status: str  # "active", "expired" or "disabled"


def _row(template: RequestTemplate) -> TemplateRow:
    return TemplateRow(
        template.id,
        template.name,
        AgreementTerms.model_validate(template.terms),
        template.updated_at,
        template.archived_at,
    )


def _own_template(
    uow: UnitOfWork, business_id: uuid.UUID, template_id: uuid.UUID
) -> RequestTemplate:
    template = uow.session.scalar(
        select(RequestTemplate).where(
            RequestTemplate.id == template_id, RequestTemplate.business_id == business_id
        )
    )
    if template is None:
        raise TemplateNotFoundError(str(template_id))
    return template


def list_templates(uow: UnitOfWork, business_id: uuid.UUID) -> list[TemplateRow]:
    """Return the business's templates, in use first, each group by name."""
    templates = uow.session.scalars(
        select(RequestTemplate)
        .where(RequestTemplate.business_id == business_id)
        .order_by(RequestTemplate.name, RequestTemplate.id)
    )
    rows = [_row(t) for t in templates]
    return sorted(rows, key=lambda row: row.archived_at is not None)


def get_template(uow: UnitOfWork, business_id: uuid.UUID, template_id: uuid.UUID) -> TemplateRow:
    """Return one of the business's templates, or raise TemplateNotFoundError."""
    return _row(_own_template(uow, business_id, template_id))


def create_template(
    uow: UnitOfWork, business_id: uuid.UUID, template: TemplateIn, *, staff_id: uuid.UUID
) -> uuid.UUID:
    """Save a new template; commit."""
    now = uow.now()
    row = RequestTemplate(
        id=uuid.uuid4(),
        business_id=business_id,
        name=template.name,
        terms=template.terms.model_dump(mode="json"),
        created_by=staff_id,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(row)
    uow.commit()
    return row.id


def update_template(
    uow: UnitOfWork, business_id: uuid.UUID, template_id: uuid.UUID, template: TemplateIn
) -> None:
    """Change a template's name and terms (invites made from it keep theirs); commit."""
    row = _own_template(uow, business_id, template_id)
    if row.archived_at is not None:
        raise TemplateArchivedError(str(template_id))
    row.name = template.name
    row.terms = template.terms.model_dump(mode="json")
    row.updated_at = uow.now()
    uow.commit()


def archive_template(uow: UnitOfWork, business_id: uuid.UUID, template_id: uuid.UUID) -> None:
    """Put a template away: it stays readable, but no new invite is made from it; commit."""
    row = _own_template(uow, business_id, template_id)
    if row.archived_at is None:
        row.archived_at = uow.now()
        uow.commit()


def invite_from_template(
    uow: UnitOfWork,
    business_id: uuid.UUID,
    template_id: uuid.UUID,
    invite: InviteIn,
    *,
    actor: str,
) -> str:
    """Make an invite asking for the template's terms; log it; commit; return its code."""
    template = _own_template(uow, business_id, template_id)
    if template.archived_at is not None:
        raise TemplateArchivedError(str(template_id))
    made = create_invite(
        uow,
        business_id,
        AgreementTerms.model_validate(template.terms),
        label=invite.label,
        actor=actor,
        valid_for=invite.valid_for,
    )
    append_event(
        uow, LogEntry(kind="invite.created", actor=actor, business_id=business_id, detail=made.code)
    )
    uow.commit()
    return made.code


def _invite_status(invite: Invite, now: datetime) -> str:
    if invite.disabled_at is not None:
        return "disabled"
    if invite.expires_at is not None and invite.expires_at <= now:
        return "expired"
    return "active"


def _invite_row(invite: Invite, now: datetime) -> InviteRow:
    return InviteRow(
        code=invite.code,
        label=invite.label,
        terms=AgreementTerms.model_validate(invite.terms),
        opened=invite.opened,
        created_at=invite.created_at,
        expires_at=invite.expires_at,
        disabled_at=invite.disabled_at,
        status=_invite_status(invite, now),
    )


def _own_invite(uow: UnitOfWork, business_id: uuid.UUID, code: str) -> Invite:
    if not INVITE_CODE.fullmatch(code):  # a NUL byte or a novel would only trouble the database
        raise InviteNotFoundError(code)
    invite = uow.session.scalar(
        select(Invite).where(Invite.code == code, Invite.business_id == business_id)
    )
    if invite is None:
        raise InviteNotFoundError(code)
    return invite


def list_invites(uow: UnitOfWork, business_id: uuid.UUID) -> list[InviteRow]:
    """Return the business's invites, newest first."""
    invites = uow.session.scalars(
        select(Invite)
        .where(Invite.business_id == business_id)
        .order_by(Invite.created_at.desc(), Invite.code)
    )
    now = uow.now()
    return [_invite_row(invite, now) for invite in invites]


def get_invite(uow: UnitOfWork, business_id: uuid.UUID, code: str) -> InviteRow:
    """Return one of the business's invites, or raise InviteNotFoundError."""
    return _invite_row(_own_invite(uow, business_id, code), uow.now())


def disable_invite(uow: UnitOfWork, business_id: uuid.UUID, code: str, *, actor: str) -> None:
    """Switch an invite off: its link and QR code open nothing from now on; commit."""
    invite = _own_invite(uow, business_id, code)
    if invite.disabled_at is not None:
        return
    invite.disabled_at = uow.now()
    append_event(
        uow, LogEntry(kind="invite.disabled", actor=actor, business_id=business_id, detail=code)
    )
    uow.commit()
