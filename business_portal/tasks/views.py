"""Task pages at /portal/tasks: the list, a new task, one task with its edit form, done/undone."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from business_portal.records.connections import visible_subjects
from business_portal.staff.services import StaffMember
from business_portal.staff.session import (
    change_required,
    portal_today,
    signed_in_staff,
    staff_required,
)
from business_portal.tasks import queries, services
from business_portal.tasks.forms import TaskFilterForm, TaskForm
from business_portal.tasks.queries import SHOWS, TaskNotFoundError, TaskView
from vault.unit_of_work import UnitOfWork
from vault.web_session import current_vault, safe_next

blueprint = Blueprint("portal_tasks", __name__, url_prefix="/portal")

MAX_PAGE = 10_000


def _prepared(
    uow: UnitOfWork, member: StaffMember, form: TaskForm, task: TaskView | None = None
) -> TaskForm:
    """Offer the business's staff and deals (and the task's own deal, however old)."""
    deals = queries.deal_choices(uow, member.business_id)
    if task is not None and task.deal_id and task.deal_id not in {i for i, _t in deals}:
        deals.append((task.deal_id, task.deal_title or ""))
    form.offer(queries.assignee_choices(uow, member.business_id), deals)
    return form


def _page_context(uow: UnitOfWork, member: StaffMember) -> dict[str, Any]:
    return {"customers": queries.customer_choices(uow, member.business_id), "today": portal_today()}


def _save(member: StaffMember, form: TaskForm, task_id: uuid.UUID | None) -> bool:
    """Write the form's task; on bad input put the messages beside the fields."""
    task = form.task()
    if task is None:
        return False
    try:
        with current_vault().unit_of_work() as uow:
            if task_id is None:
                services.create_task(uow, member.business_id, member.id, task)
            else:
                services.update_task(uow, member.business_id, member.id, task_id, task)
    except services.TaskInputError as error:
        for name, code in error.problems.items():
            form.place(name, code)
        return False
    except TaskNotFoundError:
        abort(404)
    return True


def _who(form: TaskFilterForm, member: StaffMember, staff: list[tuple[uuid.UUID, str]]) -> str:
    """Offer me, everyone and each colleague; return the valid choice (else "me")."""
    others = [(str(i), name) for i, name in staff if i != member.id]
    form.who.choices = [("me", _("Me")), ("all", _("Everyone")), *others]
    return str(form.who.data) if form.validate() else "me"


def _page_number() -> int:
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        return 1
    return min(max(page, 1), MAX_PAGE)


@blueprint.route("/tasks")
@staff_required
def task_list() -> str:
    """Show my open tasks, or today's, overdue or done ones, mine or everyone's."""
    member = signed_in_staff()
    show = request.args.get("show", "open")
    show = show if show in SHOWS else "open"
    form = TaskFilterForm(request.args)
    page, today = _page_number(), portal_today()
    with current_vault().unit_of_work(write=False) as uow:
        who = _who(form, member, queries.assignee_choices(uow, member.business_id))
        assignee = None if who == "all" else (member.id if who == "me" else uuid.UUID(who))
        listing = queries.list_tasks(
            uow, member.business_id, today, assignee_id=assignee, show=show, page=page
        )
    return render_template(
        "portal/tasks/list.html",
        form=form,
        listing=listing,
        show=show,
        who=who,
        page=page,
        shows=SHOWS,
        today=today,
    )


@blueprint.route("/tasks/new", methods=["GET", "POST"])
@staff_required
@change_required
def new_task() -> str | Response:
    """Write a new task, about a customer or a deal if the link says so."""
    member = signed_in_staff()
    form = TaskForm()
    with current_vault().unit_of_work(write=False) as uow:
        _prepared(uow, member, form)
        context = _page_context(uow, member)
        if not form.is_submitted():
            _prefill(uow, member, form)
    if form.validate_on_submit() and _save(member, form, None):
        flash(_("The task is saved."))
        return redirect(safe_next(form.next.data, url_for("portal_tasks.task_list")), 303)
    return render_template("portal/tasks/new.html", form=form, **context)


def _prefill(uow: UnitOfWork, member: StaffMember, form: TaskForm) -> None:
    """Fill in me, today, and the customer or deal the link names (404 if not ours)."""
    form.assignee_id.data = str(member.id)
    form.due_on.data = portal_today()
    form.next.data = request.args.get("next", "")
    subject = request.args.get("subject")
    if subject:
        # A malformed id never reaches the query: it names nobody here.
        if not services.looks_like_subject(subject) or not visible_subjects(
            uow, member.business_id, {subject}
        ):
            abort(404)
        form.subject.data = subject
    deal = request.args.get("deal")
    if deal:
        offered = {value for value, _label in form.deal_id.choices or [] if value}
        if deal not in offered:
            abort(404)
        form.deal_id.data = deal


def _task_or_404(uow: UnitOfWork, member: StaffMember, task_id: uuid.UUID) -> TaskView:
    try:
        return queries.task_detail(uow, member.business_id, task_id, portal_today())
    except TaskNotFoundError:
        abort(404)


def _task_page(member: StaffMember, task_id: uuid.UUID, form: TaskForm | None) -> str:
    with current_vault().unit_of_work(write=False) as uow:
        task = _task_or_404(uow, member, task_id)
        editing = form is not None
        form = _prepared(uow, member, form or _filled(task), task)
        context = _page_context(uow, member)
    return render_template(
        "portal/tasks/task.html", task=task, form=form, editing=editing, **context
    )


def _filled(task: TaskView) -> TaskForm:
    """Return the edit form holding the task's values."""
    values = {
        "title": task.title,
        "details": task.details,
        "due_on": task.due_on,
        "assignee_id": str(task.assignee_id) if task.assignee_id else "",
        "subject": task.subject,
        "deal_id": str(task.deal_id) if task.deal_id else "",
    }
    return TaskForm(formdata=None, data=values)


@blueprint.route("/tasks/<uuid:task_id>")
@staff_required
def task(task_id: uuid.UUID) -> str:
    """Show one task, with its edit form for those who may change it."""
    return _task_page(signed_in_staff(), task_id, None)


@blueprint.route("/tasks/<uuid:task_id>/edit", methods=["POST"])
@change_required
def edit_task(task_id: uuid.UUID) -> str | Response:
    """Save the edited task, or show the form again with the messages."""
    member = signed_in_staff()
    form = TaskForm()
    with current_vault().unit_of_work(write=False) as uow:
        _prepared(uow, member, form, _task_or_404(uow, member, task_id))
    if form.validate_on_submit() and _save(member, form, task_id):
        flash(_("The task is saved."))
        return redirect(url_for("portal_tasks.task", task_id=task_id), 303)
    return _task_page(member, task_id, form)


def _mark(task_id: uuid.UUID, done: bool) -> Response:
    member = signed_in_staff()
    try:
        with current_vault().unit_of_work() as uow:
            services.set_done(uow, member.business_id, task_id, done)
    except TaskNotFoundError:
        abort(404)
    flash(_("Marked as done.") if done else _("Marked as not done."))
    default = url_for("portal_tasks.task_list")
    return redirect(safe_next(request.form.get("next"), default), 303)


@blueprint.route("/tasks/<uuid:task_id>/done", methods=["POST"])
@change_required
def complete_task(task_id: uuid.UUID) -> Response:
    """Mark a task done."""
    return _mark(task_id, True)


@blueprint.route("/tasks/<uuid:task_id>/undone", methods=["POST"])
@change_required
def reopen_task(task_id: uuid.UUID) -> Response:
    """Mark a task not done again."""
    return _mark(task_id, False)


@blueprint.route("/tasks/<uuid:task_id>/delete", methods=["POST"])
@change_required
def delete_task(task_id: uuid.UUID) -> Response:
    """Delete a task."""
    member = signed_in_staff()
    try:
        with current_vault().unit_of_work() as uow:
            services.delete_task(uow, member.business_id, task_id)
    except TaskNotFoundError:
        abort(404)
    flash(_("The task is deleted."))
    return redirect(url_for("portal_tasks.task_list"), 303)
