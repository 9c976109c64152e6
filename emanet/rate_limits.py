"""Rate limits on sign-in and the OAuth endpoints (Flask-Limiter), and how a 429 reads."""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext as _
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

# Per process; several gunicorn workers each count on their own. A shared store (for example
# RATELIMIT_STORAGE_URI=redis://…) makes the limits exact across workers and hosts.
limiter = Limiter(key_func=get_remote_address, storage_uri="memory://", headers_enabled=True)

LIMITS = {
    "vault_auth.login": ("10 per minute;50 per hour", ["POST"]),
    "vault_auth.signup": ("5 per minute;30 per hour", ["POST"]),
    "vault_auth.two_factor": ("10 per minute;50 per hour", ["POST"]),
    "portal_staff.login": ("10 per minute;50 per hour", ["POST"]),
    "portal_compliance.login": ("10 per minute;50 per hour", ["POST"]),
    "oauth.token": ("120 per minute", None),
    "oauth.revoke": ("300 per minute", None),
    "oauth.introspect": ("600 per minute", None),
}


def init_rate_limits(app: Flask) -> None:
    """Attach the limiter and wrap the limited views."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    limiter.init_app(app)
    for endpoint, (rule, methods) in LIMITS.items():
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = limiter.limit(rule, methods=methods)(
                app.view_functions[endpoint]
            )

    @app.errorhandler(RateLimitExceeded)
    def too_many(error: RateLimitExceeded) -> tuple[Response | str, int]:
        if request.path.startswith(("/oauth/", "/api/")):
            body = jsonify(
                error="too_many_requests",
                error_description=f"Rate limit reached ({error.description}); wait and try again.",
            )
            return body, 429
        message = _("Too many attempts from this address. Wait a minute and try again.")
        return render_template("vault/too_many.html", message=message), 429
