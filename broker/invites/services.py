"""Use cases of invites: create one, open one as a customer, draw its QR code."""

from __future__ import annotations

import io
import secrets
import uuid

import segno
from sqlalchemy import select

from broker.businesses.services import business_snapshot
from broker.invites.models import Invite
from schemas.agreements import AgreementStatus, AgreementTerms
from schemas.durations import CalendarDuration
from vault.agreements.models import Agreement
from vault.agreements.services import Context, request_agreement
from vault.unit_of_work import UnitOfWork


class InviteUnavailableError(LookupError):
    """The invite does not exist, was switched off, or has expired."""


def create_invite(
    uow: UnitOfWork,
    business_id: uuid.UUID,
    terms: AgreementTerms,
    *,
    label: str,
    actor: str,
    valid_for: CalendarDuration | None = None,
) -> Invite:
    """Create an invite in the current transaction."""
    now = uow.now()
    invite = Invite(
        code=secrets.token_urlsafe(12),
        business_id=business_id,
        label=label,
        terms=terms.model_dump(mode="json"),
        created_by=actor,
        created_at=now,
        expires_at=valid_for.after(now) if valid_for else None,
        opened=0,
    )
    uow.session.add(invite)
    uow.session.flush()
    return invite


def invite_url(issuer: str, code: str) -> str:
    """Return the address a customer opens (and the QR code holds)."""
    return f"{issuer}/invite/{code}"


def open_invite(uow: UnitOfWork, code: str, customer_id: uuid.UUID, context: Context) -> Agreement:
    """Return the customer's request from this invite, making it on first opening; commit."""
    invite = uow.session.get(Invite, code, with_for_update=True)
    now = uow.now()
    if (
        invite is None
        or invite.disabled_at is not None
        or (invite.expires_at is not None and invite.expires_at <= now)
    ):
        raise InviteUnavailableError("This invitation is no longer valid.")
    waiting = uow.session.scalar(
        select(Agreement).where(
            Agreement.business_id == invite.business_id,
            Agreement.customer_id == customer_id,
            Agreement.status == AgreementStatus.REQUESTED.value,
            Agreement.client_id == f"invite:{code}",
        )
    )
    if waiting is not None:
        return waiting
    invite.opened += 1
    agreement = request_agreement(
        uow,
        business=business_snapshot(uow, invite.business_id),
        terms=AgreementTerms.model_validate(invite.terms),
        context=context,
        client_id=f"invite:{code}",
        customer_id=customer_id,
    )
    uow.commit()
    return agreement


def qr_code(url: str, kind: str) -> bytes:
    """Draw the QR code of an invite as SVG or PNG, big enough to print for a counter."""
    code = segno.make(url, error="m")
    buffer = io.BytesIO()
    if kind == "svg":
        code.save(buffer, kind="svg", scale=8, border=4, title="Emanet invitation")
    else:
        code.save(buffer, kind="png", scale=10, border=4)
    return buffer.getvalue()
