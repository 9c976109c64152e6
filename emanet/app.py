"""The Flask application factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, request

from emanet import bootstrap
from emanet.i18n import init_i18n
from emanet.settings import Settings, load_settings

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def create_app(config: Mapping[str, Any] | None = None, settings: Settings | None = None) -> Flask:
    """Build the app: settings from the environment unless given, Flask config overrides."""
    bootstrap.configure_logging()
    settings = settings or load_settings()
    runtime = bootstrap.build_runtime(settings)
    app = Flask(__name__, instance_path=str(settings.instance_dir))
    app.config.update(
        SECRET_KEY=bootstrap.ensure_secret_key(settings),
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        EMANET_MODE=settings.mode,
    )
    if config:
        app.config.update(config)
    app.extensions["emanet"] = runtime
    init_i18n(app)

    from vault.views import blueprint as vault_blueprint

    app.register_blueprint(vault_blueprint)

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=63072000")
        return response

    return app


def runtime_of(app: Flask) -> bootstrap.Runtime:
    """Return the runtime the app was built with."""
    runtime: bootstrap.Runtime = app.extensions["emanet"]
    return runtime
