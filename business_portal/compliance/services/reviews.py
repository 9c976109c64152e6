"""The review of an agreement: comments, change requests and sign-offs, all kept.

A review only ever adds rows: `ReviewEvent` is the history, `AgreementReview` where it stands
now. Nothing here touches the agreement itself or any customer data: officers read, flag,
comment and sign off (issue 6: "the console only reads").
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from business_portal.compliance.models import AgreementReview, ReviewEvent
from business_portal.compliance.services.registry import ReviewState
from business_portal.records.models import RequestTemplate
from schemas.text_types import multiline_text
from vault.agreements.models import Agreement
from vault.unit_of_work import UnitOfWork


class ReviewKind(StrEnum):
    """What an officer does in a review step."""

    COMMENT = "comment"
    CHANGE_REQUESTED = "change_requested"
    SIGNED_OFF = "signed_off"


# How a step moves the review; a comment leaves a decision where it was.
NEXT_STATE = {
    ReviewKind.CHANGE_REQUESTED: ReviewState.CHANGES_REQUESTED,
    ReviewKind.SIGNED_OFF: ReviewState.SIGNED_OFF,
}


class TemplateNotOfBusinessError(ValueError):
    """The named request template is not one of the agreement's business."""


class ReviewIn(BaseModel):
    """One review step as an officer submits it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: ReviewKind
    comment: multiline_text(2000) | None = None
    template_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _says_what(self) -> Self:
        if self.kind is not ReviewKind.SIGNED_OFF and not (self.comment or "").strip():
            raise PydanticCustomError(
                "comment_required", "Write what you found, or what should change."
            )
        if self.template_id is not None and self.kind is not ReviewKind.CHANGE_REQUESTED:
            raise PydanticCustomError(
                "template_only_for_changes", "Name a template only when you ask for a change."
            )
        return self


def business_templates(uow: UnitOfWork, business_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    """Return the business's request templates in use, by name (for a change request)."""
    rows = uow.session.execute(
        select(RequestTemplate.id, RequestTemplate.name)
        .where(RequestTemplate.business_id == business_id, RequestTemplate.archived_at.is_(None))
        .order_by(RequestTemplate.name, RequestTemplate.id)
    )
    return [(template_id, name) for template_id, name in rows]


def template_names(uow: UnitOfWork, business_id: uuid.UUID) -> dict[uuid.UUID, str]:
    """Return the names of all the business's templates, archived ones too."""
    rows = uow.session.execute(
        select(RequestTemplate.id, RequestTemplate.name).where(
            RequestTemplate.business_id == business_id
        )
    )
    return {template_id: name for template_id, name in rows}


def _lock_review(uow: UnitOfWork, agreement: Agreement) -> AgreementReview:
    query = (
        select(AgreementReview)
        .where(AgreementReview.agreement_id == agreement.id)
        .with_for_update()
    )
    current = uow.session.scalar(query)
    if current is not None:
        return current
    try:
        with uow.session.begin_nested():
            uow.session.add(
                AgreementReview(
                    agreement_id=agreement.id,
                    business_id=agreement.business_id,
                    state=ReviewState.IN_REVIEW.value,
                    updated_at=uow.now(),
                )
            )
    except IntegrityError:
        pass  # another officer's first step got there first; the locking read waits for it
    found = uow.session.scalar(query)
    assert found is not None
    return found


def record_review(
    uow: UnitOfWork,
    agreement: Agreement,
    step: ReviewIn,
    *,
    actor: str,
    actor_name: str,
    flags: list[str],
) -> ReviewEvent:
    """Add a review step to the agreement's history and move its review state; commit."""
    if step.template_id is not None and step.template_id not in dict(
        business_templates(uow, agreement.business_id)
    ):
        raise TemplateNotOfBusinessError("Choose one of the business's request templates.")
    review = _lock_review(uow, agreement)
    event = ReviewEvent(
        agreement_id=agreement.id,
        business_id=agreement.business_id,
        kind=step.kind.value,
        actor=actor,
        actor_name=actor_name[:200],
        at=uow.now(),
        comment=(step.comment or "").strip() or None,
        template_id=step.template_id,
        agreement_version=agreement.version,
        flags=sorted(set(flags)),
    )
    uow.session.add(event)
    if step.kind in NEXT_STATE:
        review.state = NEXT_STATE[step.kind].value
    review.updated_at = uow.now()
    uow.session.flush()
    uow.commit()
    return event


def review_history(uow: UnitOfWork, agreement: Agreement) -> list[ReviewEvent]:
    """Return every review step of the agreement, oldest first."""
    return list(
        uow.session.scalars(
            select(ReviewEvent)
            .where(
                ReviewEvent.agreement_id == agreement.id,
                ReviewEvent.business_id == agreement.business_id,
            )
            .order_by(ReviewEvent.id)
        )
    )


def review_state(uow: UnitOfWork, agreement: Agreement) -> str:
    """Return where the agreement's review stands."""
    state = uow.session.scalar(
        select(AgreementReview.state).where(AgreementReview.agreement_id == agreement.id)
    )
    return state or ReviewState.NOT_REVIEWED.value


def open_change_requests(uow: UnitOfWork, business_id: uuid.UUID) -> list[ReviewEvent]:
    """Return the change requests still open for a business, newest first.

    For the business's own pages (request templates): what its compliance review asks it
    to change, until the agreement's review moves on.
    """
    return list(
        uow.session.scalars(
            select(ReviewEvent)
            .join(AgreementReview, AgreementReview.agreement_id == ReviewEvent.agreement_id)
            .where(
                ReviewEvent.business_id == business_id,
                ReviewEvent.kind == ReviewKind.CHANGE_REQUESTED.value,
                AgreementReview.state == ReviewState.CHANGES_REQUESTED.value,
            )
            .order_by(ReviewEvent.id.desc())
        )
    )
