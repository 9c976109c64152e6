"""Request templates and invites at /portal/requests: write a request once, hand it out often."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from pydantic import ValidationError
from werkzeug.wrappers import Response

from broker.invites.services import invite_url, qr_code
from business_portal.requests.field_picker import FieldPicker
from business_portal.requests.forms import (
    InviteForm,
    TemplateForm,
    place_template_errors,
)
from business_portal.requests.services import (
    InviteIn,
    InviteNotFoundError,
    InviteRow,
    TemplateArchivedError,
    TemplateIn,
    TemplateNotFoundError,
    archive_template,
    create_template,
    disable_invite,
    get_invite,
    get_template,
    invite_from_template,
    list_invites,
    list_templates,
    update_template,
)
from business_portal.requests.words import invite_words, template_words
from business_portal.staff.session import change_required, signed_in_staff, staff_required
from vault.agreement_words import terms_view
from vault.web_session import current_vault

blueprint = Blueprint("portal_requests", __name__, url_prefix="/portal")


def _checked(form: TemplateForm, picker: FieldPicker) -> TemplateIn | None:
    """Return the template the form holds, or None with each problem beside its field."""
    valid = form.validate_on_submit()
    try:
        template = TemplateIn.model_validate(form.terms_input(picker.requested()))
    except ValidationError as error:
        place_template_errors(form, picker, error)
        return None
    return template if valid else None


def _own_invite(code: str) -> tuple[InviteRow, str]:
    """Return the signed-in business's invite and its link, or answer 404."""
    member = signed_in_staff()
    with current_vault().unit_of_work(write=False) as uow:
        try:
            row = get_invite(uow, member.business_id, code)
        except InviteNotFoundError:
            abort(404)
        return row, invite_url(uow.issuer, row.code)


def _template_page(
    template_id: uuid.UUID,
    form: TemplateForm | None = None,
    invite_form: InviteForm | None = None,
    picker: FieldPicker | None = None,
) -> str:
    member = signed_in_staff()
    with current_vault().unit_of_work(write=False) as uow:
        try:
            row = get_template(uow, member.business_id, template_id)
        except TemplateNotFoundError:
            abort(404)
    if form is None:
        form = TemplateForm(formdata=None)
        form.load(row.name, row.terms.model_dump(mode="json"))
    if picker is None:
        picker = FieldPicker({f.key: f.mode.value for f in row.terms.fields})
    return render_template(
        "portal/requests/template.html",
        template=template_words(row),
        form=form,
        picker=picker,
        invite_form=invite_form or InviteForm(formdata=None),
    )


@blueprint.get("/requests")
@staff_required
def templates() -> str:
    """List the business's request templates and its invites."""
    member = signed_in_staff()
    with current_vault().unit_of_work(write=False) as uow:
        rows = list_templates(uow, member.business_id)
        invites = [
            invite_words(row, invite_url(uow.issuer, row.code))
            for row in list_invites(uow, member.business_id)
        ]
    return render_template(
        "portal/requests/list.html",
        templates=[template_words(row) for row in rows if row.archived_at is None],
        archived=[template_words(row) for row in rows if row.archived_at is not None],
        invites=invites,
    )


@blueprint.route("/requests/new", methods=["GET", "POST"])
@change_required
def new_template() -> str | Response:
    """Write a new request template."""
    member = signed_in_staff()
    form = TemplateForm()
    picker = FieldPicker({})
    if form.is_submitted():
        picker = FieldPicker.from_post(request.form, request.form.getlist("fields"))
        template = _checked(form, picker)
        if template is not None:
            with current_vault().unit_of_work() as uow:
                template_id = create_template(uow, member.business_id, template, staff_id=member.id)
            flash(_("The template is saved. Make an invite from it below."))
            return redirect(url_for(".template", template_id=template_id), 303)
    return render_template("portal/requests/template.html", template=None, form=form, picker=picker)


@blueprint.route("/requests/<uuid:template_id>", methods=["GET", "POST"])
@staff_required
def template(template_id: uuid.UUID) -> str | Response:
    """Show a template; owners and agents change it here."""
    member = signed_in_staff()
    if request.method == "GET":
        return _template_page(template_id)
    if not member.can_change:
        abort(403)
    form = TemplateForm()
    picker = FieldPicker.from_post(request.form, request.form.getlist("fields"))
    with current_vault().unit_of_work(write=False) as uow:
        try:
            get_template(uow, member.business_id, template_id)
        except TemplateNotFoundError:
            abort(404)
    changed = _checked(form, picker)
    if changed is None:
        return _template_page(template_id, form=form, picker=picker)
    try:
        with current_vault().unit_of_work() as uow:
            update_template(uow, member.business_id, template_id, changed)
    except TemplateNotFoundError:
        abort(404)
    except TemplateArchivedError:
        flash(_("This template is archived: it cannot be changed."))
    else:
        flash(_("The template is saved. Invites made earlier keep the terms they were made with."))
    return redirect(url_for(".template", template_id=template_id), 303)


@blueprint.post("/requests/<uuid:template_id>/archive", endpoint="archive_template")
@change_required
def archive(template_id: uuid.UUID) -> Response:
    """Archive a template: no new invites are made from it."""
    member = signed_in_staff()
    try:
        with current_vault().unit_of_work() as uow:
            archive_template(uow, member.business_id, template_id)
    except TemplateNotFoundError:
        abort(404)
    flash(_("The template is archived. Invites made from it still work until you switch them off."))
    return redirect(url_for(".templates"), 303)


@blueprint.post("/requests/<uuid:template_id>/invite")
@change_required
def create_invite(template_id: uuid.UUID) -> str | Response:
    """Make an invite link and QR code from a template."""
    member = signed_in_staff()
    form = InviteForm()
    if form.validate_on_submit():
        try:
            wanted = InviteIn.model_validate(form.invite_input())
        except ValidationError as error:
            form.place_errors(error)
        else:
            try:
                with current_vault().unit_of_work() as uow:
                    code = invite_from_template(
                        uow, member.business_id, template_id, wanted, actor=member.caller.actor
                    )
            except TemplateNotFoundError:
                abort(404)
            except TemplateArchivedError:
                flash(_("This template is archived: make invites from a template in use."))
                return redirect(url_for(".template", template_id=template_id), 303)
            flash(_("The invite is ready. Share the link or print the poster."))
            return redirect(url_for(".invite", code=code), 303)
    return _template_page(template_id, invite_form=form)


@blueprint.get("/requests/invites/<code>")
@staff_required
def invite(code: str) -> str:
    """Show an invite: its link, QR code, how often it was opened, and its switch."""
    return render_template("portal/requests/invite.html", invite=invite_words(*_own_invite(code)))


@blueprint.get("/requests/invites/<code>/print")
@staff_required
def invite_print(code: str) -> str:
    """Show the invite as a poster to print for the counter."""
    row, url = _own_invite(code)
    return render_template(
        "portal/requests/invite_print.html",
        invite=invite_words(row, url),
        terms=terms_view(row.terms),
        business_name=signed_in_staff().business_name,
    )


@blueprint.get("/requests/invites/<code>/qr.svg")
@staff_required
def invite_qr(code: str) -> Response:
    """Draw the invite's QR code as SVG."""
    _row, url = _own_invite(code)
    response = Response(qr_code(url, "svg"), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.post("/requests/invites/<code>/disable", endpoint="disable_invite")
@change_required
def switch_off_invite(code: str) -> Response:
    """Switch an invite off: its link and QR code stop working."""
    member = signed_in_staff()
    try:
        with current_vault().unit_of_work() as uow:
            disable_invite(uow, member.business_id, code, actor=member.caller.actor)
    except InviteNotFoundError:
        abort(404)
    flash(_("The invite is switched off. Its link and QR code open nothing any more."))
    return redirect(url_for(".invite", code=code), 303)
