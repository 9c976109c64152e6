"""How "forbidden" and "not found" read on portal pages."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException


def init_portal_errors(app: Flask) -> None:
    """Answer 403 and 404 under /portal/ with a portal page; elsewhere leave them alone."""

    def portal_error(error: HTTPException) -> tuple[str, int] | HTTPException:
        if not request.path.startswith("/portal/"):
            return error
        if error.code == 403:
            title = _("Not allowed")
            message = _("Your role does not allow this. Ask an owner of your business.")
        else:
            title = _("Not found")
            message = _("There is nothing here, or it is not yours to see.")
        page = render_template("portal/error.html", title=title, message=message)
        return page, error.code or 404

    app.register_error_handler(403, portal_error)
    app.register_error_handler(404, portal_error)
