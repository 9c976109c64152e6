"""OAuth clients in the settings: list, create, rotate a secret, revoke (owners only)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from pydantic import ValidationError
from werkzeug.wrappers import Response

from broker.businesses.services import ClientNotFoundError, revoke_client, rotate_client_secret
from business_portal.settings.blueprint import blueprint, secret_page
from business_portal.settings.forms import AUTH_METHOD_WORDS, ClientForm, place_errors
from business_portal.settings.services import create_client, get_client, list_clients
from business_portal.staff.session import owner_required, signed_in_staff
from schemas.businesses import ClientIn
from vault.web_session import current_vault


def _clients_page(form: ClientForm | None = None) -> str:
    member = signed_in_staff()
    with current_vault().unit_of_work(write=False) as uow:
        rows = list_clients(uow, member.business_id)
    return render_template(
        "portal/settings/clients.html", rows=rows, form=form or ClientForm(formdata=None)
    )


@blueprint.get("/settings/clients")
@owner_required
def clients() -> str:
    """List the business's OAuth clients."""
    return _clients_page()


@blueprint.post("/settings/clients", endpoint="create_client")
@owner_required
def new_client() -> str | Response:
    """Create an OAuth client and show its secret this once."""
    member = signed_in_staff()
    form = ClientForm()
    valid = form.validate_on_submit()
    try:
        wanted = ClientIn.model_validate(form.client_input())
    except ValidationError as error:
        place_errors(form, error, lines="redirect_uris")
        return _clients_page(form)
    if not valid:
        return _clients_page(form)
    with current_vault().unit_of_work() as uow:
        issued = create_client(uow, member.business_id, wanted, actor=member.caller.actor)
    return secret_page(kind="client", client_id=issued.client_id, secret=issued.client_secret)


@blueprint.get("/settings/clients/<client_id>")
@owner_required
def client(client_id: str) -> str:
    """Show an OAuth client, with its secret's rotation and its revocation."""
    member = signed_in_staff()
    with current_vault().unit_of_work(write=False) as uow:
        try:
            row = get_client(uow, member.business_id, client_id)
        except ClientNotFoundError:
            abort(404)
    method = AUTH_METHOD_WORDS.get(row.token_endpoint_auth_method, row.token_endpoint_auth_method)
    return render_template("portal/settings/client.html", row=row, method=str(method))


@blueprint.post("/settings/clients/<client_id>/rotate", endpoint="rotate_client_secret")
@owner_required
def rotate(client_id: str) -> Response:
    """Give the client a new secret, shown this once; the old one stops working at once."""
    member = signed_in_staff()
    try:
        with current_vault().unit_of_work() as uow:
            issued = rotate_client_secret(
                uow, member.business_id, client_id, actor=member.caller.actor
            )
    except ClientNotFoundError:
        abort(404)
    return secret_page(
        kind="client", client_id=issued.client_id, secret=issued.client_secret, rotated=True
    )


@blueprint.post("/settings/clients/<client_id>/revoke", endpoint="revoke_client")
@owner_required
def revoke(client_id: str) -> Response:
    """Switch a client off for good, with every token it was given."""
    member = signed_in_staff()
    try:
        with current_vault().unit_of_work() as uow:
            revoke_client(uow, member.business_id, client_id, actor=member.caller.actor)
    except ClientNotFoundError:
        abort(404)
    flash(_("The client is revoked: its secret and its tokens no longer work."))
    return redirect(url_for(".client", client_id=client_id), 303)
