"""Portal pages of this area (being built)."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("portal_tasks", __name__, url_prefix="/portal")
