"""Every web page module of the business portal; the app factory mounts each one's `blueprint`."""

from __future__ import annotations

import importlib

from flask import Blueprint

PORTAL_PAGE_MODULES = [
    "business_portal.staff.views",
    "business_portal.dashboard.views",
    "business_portal.customers.views",
    "business_portal.card.views",
    "business_portal.deals.views",
    "business_portal.tasks.views",
    "business_portal.segments.views",
    "business_portal.requests.views",
    "business_portal.settings.views",
    "business_portal.compliance.views",
]


def portal_blueprints() -> list[Blueprint]:
    """Return the blueprints of every page module, in the order above."""
    return [importlib.import_module(name).blueprint for name in PORTAL_PAGE_MODULES]
