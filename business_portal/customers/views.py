"""The customer list at /portal/customers: search, filters, pages, saved views and CSV."""

from __future__ import annotations

import uuid
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from business_portal.customers import saved_views
from business_portal.customers.csv_export import csv_lines
from business_portal.customers.forms import CustomerFilterForm, DeleteViewForm, SavedViewForm
from business_portal.customers.list_query import CustomerQuery
from business_portal.customers.search_index import refresh_search_index
from business_portal.customers.services import (
    PAGE_REFRESH_LIMIT,
    granted_columns,
    list_customers,
    tags_in_use,
)
from business_portal.customers.table_cells import column_label, empty_words, row
from business_portal.staff.session import signed_in_staff, staff_required
from vault.web_session import current_vault

blueprint = Blueprint("portal_customers", __name__, url_prefix="/portal")

VIEW_ERRORS = {
    "name_required": lambda: _("Give the view a name."),
    "name_too_long": lambda: _("Use at most 80 characters."),
    "too_many": lambda: _("You have 50 saved views. Delete one to save another."),
}


def list_url(params: dict[str, str], **extra: str | None) -> str:
    """Return the list's address with this query, keeping the page's language."""
    lang = request.args.get("lang")
    args = {**params, **({"lang": lang} if lang else {}), **extra}
    return url_for("portal_customers.customer_list", **{k: v for k, v in args.items() if v})


def _list_page(form: CustomerFilterForm, save_form: SavedViewForm) -> str:
    """Render the list for the form's query (validated here), with the save form as given."""
    member = signed_in_staff()
    locale = str(get_locale())
    with current_vault().unit_of_work() as uow:
        refresh_search_index(uow, member.business_id, limit=PAGE_REFRESH_LIMIT)
        tags = tags_in_use(uow, member.business_id)
        form.offer(granted_columns(uow, member.business_id), tags, locale)
        form.validate()
        query = form.query()
        after, before = request.args.get("after"), request.args.get("before")
        page = list_customers(
            uow, member.caller, query, after=after, before=before, refresh_limit=0
        )
        views = saved_views.my_views(uow, member.business_id, member.id)
    params = query.as_params()
    if not save_form.is_submitted():
        save_form.carry(query)
    return render_template(
        "portal/customers/list.html",
        form=form,
        save_form=save_form,
        delete_form=DeleteViewForm(),
        rows=[row(entry, page.columns) for entry in page.entries],
        columns=[(key, column_label(key, locale)) for key in page.columns],
        empty=empty_words(),
        views=views,
        searched=page.searched,
        filtered=form.filtered,
        next_url=list_url(params, after=page.next_mark) if page.next_mark else None,
        previous_url=list_url(params, before=page.previous_mark) if page.previous_mark else None,
        first_url=list_url(params) if page.previous_mark else None,
        clear_url=list_url({}) if form.filtered else None,
        csv_url=url_for("portal_customers.customer_list_csv", **params),
    )


@blueprint.get("/customers")
@staff_required
def customer_list() -> str:
    """Show the business's connected customers, their granted fields, a page at a time."""
    return _list_page(CustomerFilterForm(formdata=request.args), SavedViewForm())


@blueprint.get("/customers.csv")
@staff_required
def customer_list_csv() -> Response:
    """Download the current view as CSV (granted fields only), streamed through the gate."""
    member = signed_in_staff()
    query = CustomerQuery.from_params(request.args)
    lines = csv_lines(current_vault(), member.caller, query)
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={
            "Content-Disposition": 'attachment; filename="customers.csv"',
            "Cache-Control": "no-store",
        },
    )


@blueprint.post("/customers/views")
@staff_required
def save_view() -> str | Response:
    """Save the list's current query as one of the staff member's views."""
    member = signed_in_staff()
    save_form = SavedViewForm()
    if save_form.validate_on_submit():
        query, name = save_form.query(), save_form.name.data or ""
        try:
            with current_vault().unit_of_work() as uow:
                saved_views.save_view(uow, member.business_id, member.id, name, query)
        except saved_views.SavedViewError as error:
            save_form.name.errors = [VIEW_ERRORS[error.code]()]
        else:
            flash(_("Saved the view “%(name)s”.", name=" ".join(name.split())))
            return redirect(list_url(query.as_params()), 303)
    filters = CustomerFilterForm(formdata=MultiDict(save_form.query().as_params()))
    return _list_page(filters, save_form)


@blueprint.get("/customers/views/<uuid:view_id>")
@staff_required
def open_view(view_id: uuid.UUID) -> Response:
    """Open one of the staff member's saved views."""
    member = signed_in_staff()
    with current_vault().unit_of_work(write=False) as uow:
        view = saved_views.my_view(uow, member.business_id, member.id, view_id)
        saved: dict[str, Any] = dict(view.query) if view is not None else {}
    if view is None:
        abort(404)
    return redirect(list_url(CustomerQuery.from_params(saved).as_params()), 303)


@blueprint.post("/customers/views/<uuid:view_id>/delete")
@staff_required
def delete_view(view_id: uuid.UUID) -> Response:
    """Delete one of the staff member's saved views."""
    member = signed_in_staff()
    with current_vault().unit_of_work() as uow:
        deleted = saved_views.delete_view(uow, member.business_id, member.id, view_id)
    if not deleted:
        abort(404)
    flash(_("Deleted the view."))
    return redirect(list_url({}), 303)
