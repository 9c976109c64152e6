"""My data: every catalogue field with its value, who sees it, its edit page and its history."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from schemas.agreements import AgreementStatus
from schemas.choice_labels import pick_locale
from schemas.field_catalogue import (
    FIELD_CATALOGUE,
    GROUP_LABELS,
    FieldGroup,
    FieldSpec,
    validate_field_value,
)
from schemas.field_errors import FieldProblem, FieldValueError
from vault.agreements.models import Agreement
from vault.agreements.services import customer_agreements
from vault.agreements.status import current_status
from vault.profile.services import delete_field, field_history, get_field, read_fields, set_field
from vault.profile_display import show_value
from vault.profile_forms import DeleteFieldForm, edit_form
from vault.unit_of_work import UnitOfWork
from vault.web_session import current_customer, current_vault, customer_required

blueprint = Blueprint("vault_profile", __name__, template_folder="templates")


@dataclass(frozen=True)
class Viewer:
    """A business that can see a field right now, under which agreement and how."""

    agreement_id: uuid.UUID
    name: str
    mode: str


def viewers_by_field(uow: UnitOfWork, customer_id: uuid.UUID) -> dict[str, list[Viewer]]:
    """Return, per field, the businesses whose agreement lets them read it at this moment."""
    now = uow.now()
    viewers: dict[str, list[Viewer]] = defaultdict(list)
    for agreement in customer_agreements(uow, customer_id):
        # A paused agreement (Art. 18 restriction) lets nobody read until it is resumed.
        if agreement.restricted or current_status(agreement, now) is not AgreementStatus.ACTIVE:
            continue
        for key, mode in sorted(agreement.granted_fields.items()):
            name = str(agreement.business.get("legal_name", ""))
            viewers[key].append(Viewer(agreement.id, name, mode))
    return viewers


def _customer() -> uuid.UUID:
    customer_id = current_customer()
    assert customer_id is not None  # customer_required has sent everyone else away
    return customer_id


def _spec(key: str) -> FieldSpec:
    spec = FIELD_CATALOGUE.get(key)
    if spec is None:
        abort(404)
    return spec


def _anchor(key: str) -> str:
    return "field-" + key.replace(".", "-")


def _back_to(key: str) -> str:
    # Keep a language chosen in the address; the anchor brings the person back to the field.
    return url_for("vault_profile.my_data", lang=request.args.get("lang")) + "#" + _anchor(key)


def _tell(key: str, message: str) -> None:
    # Shown at the top of the page and beside the field, where the person lands.
    flash(message, f"field:{key}")


@blueprint.get("/data")
@customer_required
def my_data() -> str:
    """Show every catalogue field, grouped, with its value and who can see it."""
    customer_id = _customer()
    locale = str(get_locale())
    with current_vault().unit_of_work(write=False) as uow:
        values = read_fields(uow, customer_id)
        viewers = viewers_by_field(uow, customer_id)
    told = {
        category.removeprefix("field:"): message
        for category, message in get_flashed_messages(with_categories=True)
        if category.startswith("field:")
    }
    groups = []
    for group in FieldGroup:
        rows = [
            {
                "key": spec.key,
                "anchor": _anchor(spec.key),
                "label": spec.label(locale),
                "shown": show_value(spec, values[spec.key].value) if spec.key in values else None,
                "viewers": viewers.get(spec.key, []),
                "told": told.get(spec.key),
            }
            for spec in FIELD_CATALOGUE.values()
            if spec.group is group
        ]
        if rows:
            groups.append({"label": pick_locale(GROUP_LABELS[group], locale), "fields": rows})
    filled = sum(1 for key in FIELD_CATALOGUE if key in values)
    return render_template(
        "vault/my_data.html", groups=groups, filled=filled, total=len(FIELD_CATALOGUE)
    )


@blueprint.route("/data/<key>/edit", methods=["GET", "POST"])
@customer_required
def edit(key: str) -> str | Response:
    """Edit one field; a bad value comes back with the message beside the input it is about."""
    spec = _spec(key)
    customer_id = _customer()
    vault = current_vault()
    with vault.unit_of_work(write=False) as uow:
        current = get_field(uow, customer_id, key)
        viewers = viewers_by_field(uow, customer_id).get(key, [])
    form = edit_form(spec, current.value if current else None)
    if form.validate_on_submit():
        try:
            if form.blank():
                raise FieldValueError(key, [FieldProblem((), "missing", "This is required.")])
            raw = form.raw_value()
            if current is not None and validate_field_value(key, raw) == current.value:
                _tell(key, _("Nothing changed."))
                return redirect(_back_to(key), 303)
            with vault.unit_of_work() as uow:
                set_field(uow, customer_id, key, raw)
        except FieldValueError as error:
            form.show_problems(error.problems)
        else:
            _tell(key, _("Saved: %(field)s.", field=spec.label(str(get_locale()))))
            return redirect(_back_to(key), 303)
    return render_template(
        "vault/my_data_edit.html",
        form=form,
        spec=spec,
        label=spec.label(str(get_locale())),
        hint=spec.hint(str(get_locale())),
        has_value=current is not None,
        viewers=viewers,
        back=_back_to(key),
    )


@blueprint.route("/data/<key>/delete", methods=["GET", "POST"])
@customer_required
def delete(key: str) -> str | Response:
    """Ask once, then delete a field's value (its history stays)."""
    spec = _spec(key)
    customer_id = _customer()
    vault = current_vault()
    form = DeleteFieldForm()
    label = spec.label(str(get_locale()))
    if form.validate_on_submit():
        with vault.unit_of_work() as uow:
            removed = delete_field(uow, customer_id, key)
        _tell(key, _("Deleted: %(field)s.", field=label) if removed else _("It was already empty."))
        return redirect(_back_to(key), 303)
    with vault.unit_of_work(write=False) as uow:
        current = get_field(uow, customer_id, key)
        viewers = viewers_by_field(uow, customer_id).get(key, [])
    if current is None:
        _tell(key, _("It was already empty."))
        return redirect(_back_to(key), 303)
    return render_template(
        "vault/my_data_delete.html",
        form=form,
        key=key,
        label=label,
        shown=show_value(spec, current.value),
        viewers=viewers,
        back=_back_to(key),
    )


def _author_names(agreements: list[Agreement]) -> dict[str, str]:
    names: dict[str, str] = {}
    for agreement in agreements:
        name = str(agreement.business.get("legal_name", ""))
        names[f"business:{agreement.business_id}"] = name
        if agreement.client_id:
            names[f"client:{agreement.client_id}"] = name
    return names


def _author(actor: str, names: dict[str, str]) -> str:
    if actor == "customer":
        return _("You")
    if actor in names:
        return names[actor]
    if actor.startswith(("business:", "client:", "staff:")):
        return _("A business")
    return "Emanet"


@blueprint.get("/data/<key>/history")
@customer_required
def history(key: str) -> str:
    """Show every version of a field, newest first, deletions included."""
    spec = _spec(key)
    customer_id = _customer()
    with current_vault().unit_of_work(write=False) as uow:
        versions = field_history(uow, customer_id, key)
        names = _author_names(customer_agreements(uow, customer_id))
    rows = [
        {
            "version": v.version,
            "at": v.changed_at,
            "shown": None if v.deleted else show_value(spec, v.value),
            "by": _author(v.changed_by, names),
        }
        for v in versions
    ]
    return render_template(
        "vault/my_data_history.html",
        key=key,
        label=spec.label(str(get_locale())),
        rows=rows,
        back=_back_to(key),
    )
