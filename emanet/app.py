"""The Flask application factory."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, request
from flask_wtf.csrf import CSRFProtect

from emanet import bootstrap
from emanet.i18n import init_i18n
from emanet.rate_limits import init_rate_limits
from emanet.settings import Settings, load_settings
from vault.navigation import init_navigation
from vault.web_session import content_security_policy

SECURITY_HEADERS = {
    "Content-Security-Policy": content_security_policy(),
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
        PERMANENT_SESSION_LIFETIME=12 * 3600,
        WTF_CSRF_TIME_LIMIT=None,
        EMANET_MODE=settings.mode,
    )
    if config:
        app.config.update(config)
    app.extensions["emanet"] = runtime
    if settings.mode in ("test", "demo"):
        # Authlib refuses plain http; the demo and the tests serve http://127.0.0.1 only.
        os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
    init_i18n(app)

    register_blueprints(app)

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=63072000")
        return response

    return app


def register_blueprints(app: Flask) -> None:
    """Mount every area of the app; the machine-to-machine endpoints skip CSRF."""
    from broker.api.blueprint import api_blueprint
    from broker.invites.views import blueprint as invites
    from broker.oauth.consent_origins import return_origins
    from broker.oauth.views import blueprint as oauth
    from broker.oauth.views import introspect, revoke, token
    from broker.oauth.views import server as authorization_server
    from business_portal.errors import init_portal_errors
    from business_portal.navigation import init_portal_navigation
    from business_portal.web_routes import portal_blueprints
    from vault.web_routes import vault_blueprints

    api = api_blueprint()
    csrf = CSRFProtect(app)
    for blueprint in (*vault_blueprints(), *portal_blueprints(), oauth, invites, api):
        app.register_blueprint(blueprint)
    csrf.exempt(api)
    for view in (token, revoke, introspect):
        csrf.exempt(view)
    authorization_server.init_app(app)
    app.config["EMANET_CONSENT_RETURN_ORIGINS"] = return_origins
    init_rate_limits(app)
    init_navigation(app)
    init_portal_navigation(app)
    init_portal_errors(app)


def runtime_of(app: Flask) -> bootstrap.Runtime:
    """Return the runtime the app was built with."""
    runtime: bootstrap.Runtime = app.extensions["emanet"]
    return runtime
