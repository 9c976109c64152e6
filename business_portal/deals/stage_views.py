"""The pipeline's stages at /portal/settings/stages, for the business's owners.

Mounted on the deals blueprint (`portal_deals.stages`) by `business_portal.deals.views`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from pydantic import ValidationError
from werkzeug.wrappers import Response

from business_portal.deals.deal_pages import load_stages, total_text
from business_portal.deals.forms import AddStageForm, StageForm, problem_message
from business_portal.deals.inputs import StageIn
from business_portal.deals.pipeline_settings import (
    StageNotFound,
    StageProblem,
    add_stage,
    delete_stage,
    move_stage,
    update_stage,
)
from business_portal.deals.services import stage_totals
from business_portal.records.stages import STAGE_NAMES, stage_label
from business_portal.staff.services import StaffMember
from business_portal.staff.session import owner_required, signed_in_staff
from vault.unit_of_work import UnitOfWork
from vault.web_session import current_vault

ROW_ACTIONS = ("save", "up", "down", "delete")


@dataclass
class StageRow:
    """One stage as its settings form shows it, with the input and errors of a failed change."""

    id: uuid.UUID
    label: str
    default_name: str | None
    name: str
    outcome: str
    summary: str
    errors: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Failure:
    """A row change that was refused: which stage, what was typed, what is wrong."""

    stage_id: uuid.UUID
    name: str
    outcome: str
    errors: dict[str, list[str]]


@owner_required
def stages() -> str | Response:
    """Show the pipeline's stages and rename, add, reorder, re-outcome or delete one."""
    member = signed_in_staff()
    action = request.form.get("action", "") if request.method == "POST" else ""
    add_form = AddStageForm(formdata=request.form if action == "add" else None)
    failure: Failure | None = None
    if action == "add":
        if add_form.validate() and _add(member, add_form):
            flash(_("The stage is added."))
            return redirect(url_for("portal_deals.stages"), 303)
    elif action in ROW_ACTIONS:
        failure = _change_row(member, action)
        if failure is None:
            return redirect(url_for("portal_deals.stages"), 303)
    elif request.method == "POST":
        abort(400)
    return render_template(
        "portal/deals/stages.html", rows=_rows(member, failure), add_form=add_form
    )


def _add(member: StaffMember, form: AddStageForm) -> bool:
    try:
        stage_in = StageIn.model_validate({"name": form.name.data, "outcome": form.outcome.data})
        with current_vault().unit_of_work() as uow:
            add_stage(uow, member.business_id, stage_in)
    except ValidationError as error:
        form.name.errors = [problem_message(_first_code(error), "name")]
        return False
    except StageProblem as problem:
        form.name.errors = [problem_message(problem.code, problem.field)]
        return False
    return True


def _change_row(member: StaffMember, action: str) -> Failure | None:
    form = StageForm()
    try:
        stage_id = uuid.UUID(form.stage_id.data or "")
    except ValueError:
        abort(404)
    failure = Failure(stage_id, form.name.data or "", form.outcome.data or "open", {})
    if action == "save" and not form.validate():
        failure.errors = {k: list(v) for k, v in form.errors.items() if k in ("name", "outcome")}
        return failure
    try:
        with current_vault().unit_of_work() as uow:
            _apply(uow, member, action, stage_id, form)
    except StageNotFound:
        abort(404)
    except ValidationError as error:
        failure.errors = {"name": [problem_message(_first_code(error), "name")]}
        return failure
    except StageProblem as problem:
        message = problem_message(problem.code, problem.field, problem.count, problem.hidden)
        failure.errors = {problem.field: [message]}
        return failure
    flash(
        {
            "save": _("The stage is saved."),
            "up": _("The stage is moved up."),
            "down": _("The stage is moved down."),
            "delete": _("The stage is deleted."),
        }[action]
    )
    return None


def _apply(
    uow: UnitOfWork, member: StaffMember, action: str, stage_id: uuid.UUID, form: StageForm
) -> None:
    if action == "save":
        name = (form.name.data or "").strip() or None
        stage_in = StageIn.model_validate({"name": name, "outcome": form.outcome.data})
        update_stage(uow, member.business_id, stage_id, stage_in)
    elif action in ("up", "down"):
        move_stage(uow, member.business_id, stage_id, -1 if action == "up" else 1)
    else:
        delete_stage(uow, member.business_id, stage_id)


def _first_code(error: ValidationError) -> str:
    problems = error.errors(include_url=False, include_input=False)
    return str(problems[0]["type"]) if problems else "value_error"


def _rows(member: StaffMember, failure: Failure | None) -> list[StageRow]:
    load_stages(member.business_id)  # the default pipeline on the first visit
    with current_vault().unit_of_work(write=False) as uow:
        totals = stage_totals(uow, member.business_id)
    rows = []
    for total in totals:
        stage = total.stage
        default = str(STAGE_NAMES[stage.code]) if stage.code in STAGE_NAMES else None
        row = StageRow(
            stage.id,
            stage_label(stage),
            default,
            stage.name or "",
            stage.outcome,
            total_text(total),
        )
        if failure is not None and failure.stage_id == stage.id:
            row.name, row.outcome, row.errors = failure.name, failure.outcome, failure.errors
        rows.append(row)
    return rows
