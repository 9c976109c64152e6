"""The portal's navigation: one list of areas, shown to signed-in staff on every portal page."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, request, url_for
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from business_portal.staff.session import current_staff

# (endpoint, label, who sees it) in the order the navigation shows them.
PORTAL_NAV: list[tuple[str, LazyString, str]] = [
    ("portal_dashboard.dashboard", _l("Dashboard"), "any"),
    ("portal_customers.customer_list", _l("Customers"), "any"),
    ("portal_deals.board", _l("Deals"), "any"),
    ("portal_tasks.task_list", _l("Tasks"), "any"),
    ("portal_segments.segments", _l("Segments"), "any"),
    ("portal_requests.templates", _l("Requests"), "any"),
    ("portal_settings.settings", _l("Settings"), "owner"),
    ("portal_compliance.registry", _l("Compliance"), "compliance"),
]

# Who sees an entry: "any" staff, "owner" only, or "compliance" (officers and owners).
AUDIENCES = {
    "any": frozenset({"owner", "agent", "compliance", "viewer"}),
    "owner": frozenset({"owner"}),
    "compliance": frozenset({"owner", "compliance"}),
}


ROLE_LABELS = {
    "owner": _l("Owner"),
    "agent": _l("Agent"),
    "compliance": _l("Compliance officer"),
    "viewer": _l("Viewer"),
}


def role_label(role: str) -> str:
    """Return a staff role in the page's language."""
    return str(ROLE_LABELS.get(role, role))


@dataclass(frozen=True)
class PortalNavItem:
    """One link of the portal navigation."""

    url: str
    label: str
    current: bool


def init_portal_navigation(app: Flask) -> None:
    """Give every portal page its navigation and the signed-in staff member."""

    @app.context_processor
    def portal_nav() -> dict[str, object]:
        if not request.path.startswith("/portal"):
            return {}
        member = current_staff()
        if member is None:
            return {"portal_nav": None, "staff": None, "role_label": role_label}
        area = request.blueprint
        items = [
            PortalNavItem(url_for(endpoint), str(label), endpoint.split(".")[0] == area)
            for endpoint, label, who in PORTAL_NAV
            if endpoint in app.view_functions and member.role in AUDIENCES[who]
        ]
        return {"portal_nav": items, "staff": member, "role_label": role_label}
