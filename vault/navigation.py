"""The signed-in customer's navigation, with the count of requests waiting for an answer."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from schemas.agreements import AgreementStatus
from vault.agreements.models import Agreement
from vault.web_session import current_customer, current_vault

# (endpoint, label) in the order the navigation shows them; pages register as they exist.
NAV_ENTRIES: list[tuple[str, str]] = [
    ("vault_profile.my_data", "My data"),
    ("vault_requests.inbox", "Requests"),
    ("vault_notifications.notifications", "Notifications"),
    ("vault_connections.connections", "Connections"),
    ("vault_access_log.access_log", "Access log"),
    ("vault_interactions.timeline", "Interactions"),
    ("vault_export.export_page", "Export"),
    ("vault_account.account", "Account"),
]


@dataclass(frozen=True)
class NavItem:
    """One link of the navigation."""

    url: str
    label: str
    current: bool
    badge: int


# Lazy, built once, so a page translates only the labels it shows.
NAV_LABELS = {
    "My data": _l("My data"),
    "Requests": _l("Requests"),
    "Notifications": _l("Notifications"),
    "Connections": _l("Connections"),
    "Access log": _l("Access log"),
    "Interactions": _l("Interactions"),
    "Export": _l("Export"),
    "Account": _l("Account"),
}


def waiting_requests(customer_id: object) -> int:
    """Count the requests and amendments waiting for this customer's answer."""
    with current_vault().unit_of_work(write=False) as uow:
        return (
            uow.session.scalar(
                select(func.count())
                .select_from(Agreement)
                .where(
                    Agreement.customer_id == customer_id,
                    Agreement.status == AgreementStatus.REQUESTED.value,
                )
            )
            or 0
        )


def init_navigation(app: Flask) -> None:
    """Give every page the navigation when a customer is signed in."""

    @app.context_processor
    def vault_nav() -> dict[str, object]:
        customer_id = current_customer()
        if customer_id is None:
            return {"vault_nav": None}
        waiting = waiting_requests(customer_id)
        items = [
            NavItem(
                url_for(endpoint),
                str(NAV_LABELS[label]),
                request.endpoint == endpoint,
                waiting if endpoint == "vault_requests.inbox" else 0,
            )
            for endpoint, label in NAV_ENTRIES
            if endpoint in app.view_functions
        ]
        return {"vault_nav": {"links": items}}
