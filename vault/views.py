"""The customer's web vault: the landing page and the health check."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, make_response, render_template, request
from sqlalchemy import text

from emanet.i18n import LANGUAGES

blueprint = Blueprint(
    "vault",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/vault",
)


@blueprint.get("/")
def index() -> Response:
    """Show what Emanet is, in the visitor's language."""
    response = make_response(render_template("vault/index.html"))
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        response.set_cookie(
            "lang", chosen, max_age=365 * 24 * 3600, secure=True, httponly=True, samesite="Lax"
        )
    return response


@blueprint.get("/healthz")
def health() -> tuple[Response, int]:
    """Report whether the database and the keyring answer."""
    runtime = current_app.extensions["emanet"]
    checks = {"database": "ok", "keyring": "ok"}
    try:
        with runtime.database.session(write=False) as session:
            session.execute(text("SELECT 1"))
    except Exception:  # any failure means "not ready"; the log has the details
        current_app.logger.exception("database health check failed")
        checks["database"] = "unavailable"
    try:
        _ = runtime.vault.provider.active_kek_id  # reading it re-checks the file
    except Exception:
        current_app.logger.exception("keyring health check failed")
        checks["keyring"] = "unavailable"
    healthy = all(value == "ok" for value in checks.values())
    return jsonify(status="ok" if healthy else "unavailable", **checks), 200 if healthy else 503
