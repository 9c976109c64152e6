"""The settings blueprint, shared by its page modules (views, client_views, webhook_views)."""

from __future__ import annotations

from flask import Blueprint, current_app, make_response, render_template, url_for
from werkzeug.wrappers import Response

blueprint = Blueprint("portal_settings", __name__, url_prefix="/portal")
# Pipeline stages are the deals area's page; settings link to it once it exists.
STAGES_ENDPOINT = "portal_deals.stages"


@blueprint.context_processor
def settings_links() -> dict[str, object]:
    """Give every settings page the address of the pipeline stages, if the app has that page."""
    has_stages = STAGES_ENDPOINT in current_app.view_functions
    return {"stages_url": url_for(STAGES_ENDPOINT) if has_stages else None}


def secret_page(**context: object) -> Response:
    """Show a secret this once: the page is never stored by the browser or a proxy."""
    response = make_response(render_template("portal/settings/secret.html", **context))
    response.headers["Cache-Control"] = "no-store"
    return response
