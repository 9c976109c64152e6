"""Settings at /portal/settings (owners only): the overview, and staff with their roles."""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from pydantic import ValidationError
from werkzeug.wrappers import Response

from broker.businesses.services import (
    LastOwnerError,
    StaffEmailTakenError,
    StaffNotFoundError,
    add_staff,
    change_staff_role,
    set_staff_disabled,
)
from business_portal.settings import client_views, webhook_views
from business_portal.settings.blueprint import blueprint
from business_portal.settings.forms import RoleForm, StaffForm, password_problem, place_errors
from business_portal.settings.services import get_staff, list_staff, settings_counts
from business_portal.staff.session import owner_required, sign_out_staff, signed_in_staff
from schemas.businesses import StaffIn, StaffRole
from vault.web_session import current_vault

__all__ = ["blueprint"]
# Their routes are on this blueprint too; importing them here is what mounts them.
ROUTE_MODULES = (client_views, webhook_views)


@blueprint.get("/settings")
@owner_required
def settings() -> str:
    """Show the settings' sections with what each holds."""
    member = signed_in_staff()
    with current_vault().unit_of_work(write=False) as uow:
        counts = settings_counts(uow, member.business_id)
    return render_template("portal/settings/overview.html", counts=counts)


def _staff_page(form: StaffForm | None = None) -> str:
    member = signed_in_staff()
    with current_vault().unit_of_work(write=False) as uow:
        rows = list_staff(uow, member.business_id)
    return render_template(
        "portal/settings/staff.html", rows=rows, form=form or StaffForm(formdata=None)
    )


@blueprint.get("/settings/staff")
@owner_required
def staff() -> str:
    """List the business's staff and their roles."""
    return _staff_page()


@blueprint.post("/settings/staff", endpoint="add_staff")
@owner_required
def add_staff_member() -> str | Response:
    """Add a staff member with a role and a first password."""
    member = signed_in_staff()
    form = StaffForm()
    valid = form.validate_on_submit()
    wanted: StaffIn | None = None
    try:
        wanted = StaffIn.model_validate(
            {
                "email": form.email.data or "",
                "display_name": form.display_name.data or "",
                "role": form.role.data,
            }
        )
    except ValidationError as error:
        place_errors(form, error)
    problem = password_problem(form.password.data or "")
    if problem:
        form.password.errors = [*form.password.errors, problem]
    if not valid or wanted is None or problem:
        return _staff_page(form)
    try:
        with current_vault().unit_of_work() as uow:
            add_staff(
                uow, member.business_id, wanted, form.password.data or "", actor=member.caller.actor
            )
    except StaffEmailTakenError:
        form.email.errors = [*form.email.errors, _("Someone already signs in with this e-mail.")]
        return _staff_page(form)
    flash(_("%(name)s can sign in now.", name=wanted.display_name))
    return redirect(url_for(".staff"), 303)


def _member_page(
    staff_id: uuid.UUID, form: RoleForm | None = None, problem: str | None = None
) -> str:
    member = signed_in_staff()
    with current_vault().unit_of_work(write=False) as uow:
        try:
            row = get_staff(uow, member.business_id, staff_id)
        except StaffNotFoundError:
            abort(404)
    if form is None:
        form = RoleForm(formdata=None, role=row.role)
    return render_template("portal/settings/staff_member.html", row=row, form=form, problem=problem)


@blueprint.get("/settings/staff/<uuid:staff_id>")
@owner_required
def staff_member(staff_id: uuid.UUID) -> str:
    """Show a staff member, with their role and whether they can sign in."""
    return _member_page(staff_id)


def _after_change(staff_id: uuid.UUID, message: str, *, left_settings: bool = False) -> Response:
    flash(message)
    if left_settings:  # an owner who made themself something else may not see settings now
        return redirect(url_for("portal_dashboard.dashboard"), 303)
    return redirect(url_for(".staff_member", staff_id=staff_id), 303)


@blueprint.post("/settings/staff/<uuid:staff_id>/role")
@owner_required
def change_role(staff_id: uuid.UUID) -> str | Response:
    """Give a staff member another role; the business always keeps an owner."""
    member = signed_in_staff()
    form = RoleForm()
    if not form.validate_on_submit():
        return _member_page(staff_id, form)
    role = StaffRole(form.role.data)
    try:
        with current_vault().unit_of_work() as uow:
            change_staff_role(uow, member.business_id, staff_id, role, actor=member.caller.actor)
    except StaffNotFoundError:
        abort(404)
    except LastOwnerError:
        form.role.errors = [_("You are the last owner. Make someone else an owner first.")]
        return _member_page(staff_id, form)
    return _after_change(
        staff_id,
        _("The role is changed; it applies from their next page."),
        left_settings=staff_id == member.id and role is not StaffRole.OWNER,
    )


def _set_disabled(staff_id: uuid.UUID, disabled: bool) -> str | Response:
    member = signed_in_staff()
    try:
        with current_vault().unit_of_work() as uow:
            set_staff_disabled(
                uow, member.business_id, staff_id, disabled, actor=member.caller.actor
            )
    except StaffNotFoundError:
        abort(404)
    except LastOwnerError:
        problem = _(
            "The business needs an owner who can sign in. Make someone else an owner first."
        )
        return _member_page(staff_id, problem=problem)
    if disabled and staff_id == member.id:
        sign_out_staff()
        return redirect(url_for("portal_staff.login"), 303)
    if disabled:
        return _after_change(
            staff_id, _("They can no longer sign in; an open session ends at once.")
        )
    return _after_change(staff_id, _("They can sign in again."))


@blueprint.post("/settings/staff/<uuid:staff_id>/disable")
@owner_required
def disable_staff(staff_id: uuid.UUID) -> str | Response:
    """Stop a staff member signing in."""
    return _set_disabled(staff_id, True)


@blueprint.post("/settings/staff/<uuid:staff_id>/enable")
@owner_required
def enable_staff(staff_id: uuid.UUID) -> str | Response:
    """Let a disabled staff member sign in again."""
    return _set_disabled(staff_id, False)
