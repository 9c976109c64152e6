"""A business's own pipeline: rename, add, reorder, set the outcome of and delete stages.

Every pipeline keeps at least one open stage, because a new deal starts in one. A stage that
still holds a deal cannot be deleted, hidden deals of customers no longer connected included:
their rows still point at it until retention deletes them.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select, update

from business_portal.deals.inputs import StageIn
from business_portal.records.connections import visible_subjects
from business_portal.records.models import Deal, PipelineStage
from business_portal.records.stages import pipeline
from vault.unit_of_work import UnitOfWork

OPEN = "open"


class StageProblem(Exception):
    """A change the pipeline refuses; `field` is where to fix it.

    `count` is how many deals are in the way, `hidden` how many of them belong to customers
    no longer connected (the page cannot show those).
    """

    def __init__(self, field: str, code: str, count: int = 0, hidden: int = 0) -> None:
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code
        self.count = count
        self.hidden = hidden


class StageNotFound(LookupError):
    """No such stage at this business."""


def _stages(uow: UnitOfWork, business_id: uuid.UUID) -> list[PipelineStage]:
    return list(
        uow.session.scalars(
            select(PipelineStage)
            .where(PipelineStage.business_id == business_id)
            .order_by(PipelineStage.position, PipelineStage.id)
        )
    )


def _find(stages: list[PipelineStage], stage_id: uuid.UUID) -> PipelineStage:
    for stage in stages:
        if stage.id == stage_id:
            return stage
    raise StageNotFound(str(stage_id))


def _renumber(stages: list[PipelineStage]) -> None:
    for position, stage in enumerate(stages):
        stage.position = position


def _close_or_reopen_deals(uow: UnitOfWork, stage: PipelineStage) -> None:
    """Make the deals in a stage whose outcome changed count as closed, or open, from now."""
    deals = Deal.__table__.c
    if stage.outcome == OPEN:
        change = update(Deal).where(deals.stage_id == stage.id).values(closed_at=None)
    else:
        change = update(Deal).where(deals.stage_id == stage.id).values(closed_at=uow.now())
    uow.session.execute(change)


def update_stage(
    uow: UnitOfWork, business_id: uuid.UUID, stage_id: uuid.UUID, stage_in: StageIn
) -> None:
    """Rename a stage (no name: its default one again) and set its outcome."""
    stages = _stages(uow, business_id)
    stage = _find(stages, stage_id)
    if stage_in.name is None and stage.code is None:
        raise StageProblem("name", "name_required")
    others_open = any(s.outcome == OPEN for s in stages if s.id != stage.id)
    if stage_in.outcome != OPEN and not others_open:
        raise StageProblem("outcome", "last_open_stage")
    stage.name = stage_in.name
    if stage.outcome != stage_in.outcome:
        stage.outcome = stage_in.outcome
        _close_or_reopen_deals(uow, stage)
    uow.commit()


def add_stage(uow: UnitOfWork, business_id: uuid.UUID, stage_in: StageIn) -> uuid.UUID:
    """Add a named stage: an open one after the last open stage, a closing one at the end."""
    if stage_in.name is None:
        raise StageProblem("name", "name_required")
    stages = pipeline(uow, business_id)
    stage = PipelineStage(
        id=uuid.uuid4(),
        business_id=business_id,
        position=len(stages),
        code=None,
        name=stage_in.name,
        outcome=stage_in.outcome,
    )
    index = len(stages)
    if stage_in.outcome == OPEN:
        open_indexes = [i for i, s in enumerate(stages) if s.outcome == OPEN]
        index = open_indexes[-1] + 1 if open_indexes else 0
    stages.insert(index, stage)
    uow.session.add(stage)
    _renumber(stages)
    uow.commit()
    return stage.id


def move_stage(uow: UnitOfWork, business_id: uuid.UUID, stage_id: uuid.UUID, step: int) -> None:
    """Move a stage one place earlier (step -1) or later (step +1) on the board."""
    stages = _stages(uow, business_id)
    stage = _find(stages, stage_id)
    index = stages.index(stage)
    target = index + (1 if step > 0 else -1)
    if 0 <= target < len(stages):
        stages[index], stages[target] = stages[target], stages[index]
    _renumber(stages)
    uow.commit()


def delete_stage(uow: UnitOfWork, business_id: uuid.UUID, stage_id: uuid.UUID) -> None:
    """Delete a stage that holds no deal and is not the pipeline's last open stage."""
    stages = _stages(uow, business_id)
    stage = _find(stages, stage_id)
    subjects = list(uow.session.scalars(select(Deal.subject).where(Deal.stage_id == stage.id)))
    if subjects:
        shown = visible_subjects(uow, business_id, set(subjects))
        hidden = sum(1 for subject in subjects if subject not in shown)
        raise StageProblem("stage", "stage_has_deals", len(subjects), hidden)
    if stage.outcome == OPEN and not any(s.outcome == OPEN for s in stages if s.id != stage.id):
        raise StageProblem("stage", "last_open_stage")
    uow.session.delete(stage)
    stages.remove(stage)
    _renumber(stages)
    uow.commit()
