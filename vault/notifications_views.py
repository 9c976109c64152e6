"""The customer's notifications: requests waiting, amendments, agreements ending or ended."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, render_template, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from vault.access_log_views import connection_url
from vault.notifications import Notification, NotificationKind, customer_notifications
from vault.web_session import current_customer, current_vault, customer_required

blueprint = Blueprint("vault_notifications", __name__, template_folder="templates")

ACTIONS: dict[NotificationKind, Any] = {
    NotificationKind.NEW_REQUEST: _l("Answer the request"),
    NotificationKind.AMENDMENT: _l("Review the change"),
    NotificationKind.EXPIRING: _l("See the connection"),
    NotificationKind.EXPIRED: _l("See the connection"),
}


@dataclass(frozen=True)
class NotificationRow:
    """One notification, ready to show."""

    kind: str
    sentence: str
    action: str
    url: str


def _sentence(notification: Notification) -> str:
    name = notification.business_name
    day = format_date(notification.at, "long")
    if notification.kind is NotificationKind.NEW_REQUEST:
        return _("%(name)s asks for some of your data.", name=name)
    if notification.kind is NotificationKind.AMENDMENT:
        return _("%(name)s asks to change what you share with them.", name=name)
    if notification.kind is NotificationKind.EXPIRING:
        return _("Your agreement with %(name)s ends on %(date)s.", name=name, date=day)
    return _("Your agreement with %(name)s ended on %(date)s.", name=name, date=day)


def _row(notification: Notification) -> NotificationRow:
    kind = notification.kind
    if kind in (NotificationKind.NEW_REQUEST, NotificationKind.AMENDMENT):
        # No return address: after the answer the consent screen shows the new connection.
        url = url_for("vault_consent.consent", agreement_id=notification.agreement_id)
    else:
        url = connection_url(notification.agreement_id)
    return NotificationRow(kind.value, _sentence(notification), str(ACTIONS[kind]), url)


@blueprint.get("/notifications")
@customer_required
def notifications() -> str:
    """List what needs the customer's attention, most pressing first."""
    customer_id = current_customer()
    assert customer_id is not None
    with current_vault().unit_of_work(write=False) as uow:
        found = customer_notifications(uow, customer_id)
    return render_template("vault/notifications.html", rows=[_row(n) for n in found])
