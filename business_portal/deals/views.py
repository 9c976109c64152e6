"""Deals at /portal/deals: the board, the list, a deal's page, and the moves between stages."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from business_portal.deals import stage_views
from business_portal.deals.deal_pages import (
    deal_fields,
    fill_deal_choices,
    fill_filter_choices,
    form_data,
    json_wanted,
    list_filters,
    load_board,
    load_deal,
    load_stages,
    move_answer,
    new_deal_in,
    page_helpers,
    place_problem,
)
from business_portal.deals.forms import DealFilterForm, DealForm, MoveForm, NewDealForm
from business_portal.deals.read_model import visible_deal_row
from business_portal.deals.services import (
    DealNotFound,
    DealProblem,
    add_up,
    board_columns,
    create_deal,
    delete_deal,
    move_deal,
    update_deal,
)
from business_portal.staff.session import change_required, signed_in_staff, staff_required
from vault.web_session import current_vault

blueprint = Blueprint("portal_deals", __name__, url_prefix="/portal")
blueprint.context_processor(page_helpers)
# Pipeline stages are a setting (issue item 9) but belong to the deals they sort.
blueprint.add_url_rule("/settings/stages", "stages", stage_views.stages, methods=["GET", "POST"])


@blueprint.route("/deals")
@staff_required
def board() -> str:
    """Show the deals of connected customers as a board, one column per stage."""
    stages, deals = load_board(signed_in_staff().business_id)
    return render_template("portal/deals/board.html", columns=board_columns(stages, deals))


@blueprint.route("/deals/list")
@staff_required
def deal_list() -> str:
    """Show the deals as a table, filtered by stage and owner, with their totals."""
    member = signed_in_staff()
    stages = load_stages(member.business_id)
    form = DealFilterForm(request.args)
    fill_filter_choices(form, stages, member.business_id)
    stage_id, owner_id = list_filters(form)
    deals = load_board(member.business_id, stage_id=stage_id, owner_id=owner_id)[1]
    return render_template(
        "portal/deals/list.html",
        form=form,
        deals=deals,
        totals=add_up(deals),
        stages={s.id: s for s in stages},
        filtered=bool(stage_id or owner_id),
    )


@blueprint.route("/deals/new", methods=["GET", "POST"])
@change_required
def new_deal() -> str | Response:
    """Open a deal with a connected customer (?subject= chooses the customer)."""
    member = signed_in_staff()
    form = NewDealForm()
    subjects = fill_deal_choices(form, load_stages(member.business_id), member.business_id)
    if not form.is_submitted():
        wanted = request.args.get("subject") or None
        if wanted is not None and wanted not in subjects:
            abort(404)  # not a customer of this business now: say nothing more
        form.subject.data = wanted
        form.owner.data = str(member.id)
    if form.validate_on_submit() and (deal := new_deal_in(form)) is not None:
        try:
            with current_vault().unit_of_work() as uow:
                deal_id = create_deal(uow, member.business_id, member.id, deal)
        except DealProblem as problem:
            place_problem(form, problem)
        else:
            flash(_("The deal is open."))
            return redirect(url_for("portal_deals.deal", deal_id=deal_id), 303)
    return render_template("portal/deals/new.html", form=form)


@blueprint.route("/deals/<uuid:deal_id>")
@staff_required
def deal(deal_id: uuid.UUID) -> str:
    """Show a deal and its customer, with forms to move, change or delete it."""
    member = signed_in_staff()
    view, stages = load_deal(member.business_id, deal_id)
    form = DealForm(data=form_data(view))
    fill_deal_choices(form, stages, member.business_id, current_owner=view)
    return render_template("portal/deals/deal.html", deal=view, form=form, stages=stages)


@blueprint.route("/deals/<uuid:deal_id>/edit", methods=["POST"])
@change_required
def edit_deal(deal_id: uuid.UUID) -> str | Response:
    """Change a deal; on bad input keep it and say what is wrong beside the field."""
    member = signed_in_staff()
    view, stages = load_deal(member.business_id, deal_id)
    form = DealForm()
    fill_deal_choices(form, stages, member.business_id, current_owner=view)
    if form.validate_on_submit() and (changes := deal_fields(form)) is not None:
        try:
            with current_vault().unit_of_work() as uow:
                update_deal(uow, member.business_id, deal_id, changes)
        except DealNotFound:
            abort(404)
        except DealProblem as problem:
            place_problem(form, problem)
        else:
            flash(_("The deal is saved."))
            return redirect(url_for("portal_deals.deal", deal_id=deal_id), 303)
    return render_template(
        "portal/deals/deal.html", deal=view, form=form, stages=stages, editing=True
    )


@blueprint.route("/deals/<uuid:deal_id>/delete", methods=["POST"], endpoint="delete_deal")
@change_required
def delete(deal_id: uuid.UUID) -> Response:
    """Delete a deal."""
    member = signed_in_staff()
    try:
        with current_vault().unit_of_work() as uow:
            delete_deal(uow, member.business_id, deal_id)
    except DealNotFound:
        abort(404)
    flash(_("The deal is deleted."))
    return redirect(url_for("portal_deals.board"), 303)


@blueprint.route("/deals/<uuid:deal_id>/move", methods=["POST"], endpoint="move_deal")
@change_required
def move(deal_id: uuid.UUID) -> Response | tuple[Response, int]:
    """Move a deal to a stage (and a place in it); answer JSON when the board's script asks."""
    member = signed_in_staff()
    form = MoveForm()
    try:
        with current_vault().unit_of_work(write=False) as uow:
            visible_deal_row(uow, member.business_id, deal_id)  # not ours: 404 before anything
        stage_id = uuid.UUID(form.stage_id.data or "") if form.validate() else None
        if stage_id is None:
            raise DealProblem("stage_id", "stage_unknown")
        with current_vault().unit_of_work() as uow:
            move_deal(uow, member.business_id, deal_id, stage_id, form.position.data)
    except DealNotFound:
        abort(404)
    except (DealProblem, ValueError):
        message = _("Choose one of the stages in the list.")
        if json_wanted():
            return jsonify({"ok": False, "message": message}), 400
        flash(message)
        return redirect(url_for("portal_deals.board"), 303)
    if json_wanted():
        return jsonify(move_answer(member.business_id, deal_id))
    return redirect(url_for("portal_deals.board"), 303)
