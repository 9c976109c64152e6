"""A business's deal pipeline: the default stages and how a stage is named on a page."""

from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from business_portal.records.models import PipelineStage
from vault.unit_of_work import UnitOfWork

# (code, outcome) of the default pipeline, in board order.
DEFAULT_STAGES: list[tuple[str, str]] = [
    ("new", "open"),
    ("contacted", "open"),
    ("meeting", "open"),
    ("proposal", "open"),
    ("invoice", "open"),
    ("won", "won"),
    ("lost", "lost"),
]

STAGE_NAMES: dict[str, LazyString] = {
    "new": _l("New"),
    "contacted": _l("Contacted"),
    "meeting": _l("Meeting"),
    "proposal": _l("Proposal"),
    "invoice": _l("Invoice"),
    "won": _l("Won"),
    "lost": _l("Lost"),
}


def stage_label(stage: PipelineStage) -> str:
    """Return the stage's name: the business's own, or the default one in the page's language."""
    if stage.name:
        return stage.name
    return str(STAGE_NAMES.get(stage.code or "", stage.code or "?"))


def pipeline(uow: UnitOfWork, business_id: uuid.UUID) -> list[PipelineStage]:
    """Return the business's stages in board order, creating the default ones on first use."""
    stages = list(
        uow.session.scalars(
            select(PipelineStage)
            .where(PipelineStage.business_id == business_id)
            .order_by(PipelineStage.position)
        )
    )
    if stages:
        return stages
    try:
        with uow.session.begin_nested():
            for position, (code, outcome) in enumerate(DEFAULT_STAGES):
                uow.session.add(
                    PipelineStage(
                        id=uuid.uuid4(),
                        business_id=business_id,
                        position=position,
                        code=code,
                        outcome=outcome,
                    )
                )
    except IntegrityError:
        pass  # another request made them first: read theirs
    return pipeline(uow, business_id)
