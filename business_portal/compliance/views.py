"""Compliance console pages (being built)."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("portal_compliance", __name__, url_prefix="/portal/compliance")
