"""Links from the card to other areas' pages, made only when those pages are there.

Deals and tasks are other areas of the portal; the card links to their pages by endpoint
when the endpoint is registered, and to the agreed addresses otherwise.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from flask import current_app, url_for
from werkzeug.routing import BuildError

__all__ = ["deal_link", "new_record_link", "task_list_link"]


def _has(endpoint: str) -> bool:
    return endpoint in current_app.view_functions


def deal_link(deal_id: uuid.UUID) -> str | None:
    """Return the address of a deal's page, or None while deals have no pages."""
    if not _has("portal_deals.deal"):
        return None
    try:
        return url_for("portal_deals.deal", deal_id=deal_id)
    except BuildError:
        return f"/portal/deals/{deal_id}"


def task_list_link() -> str | None:
    """Return the address of the task list, or None while there is none."""
    return url_for("portal_tasks.task_list") if _has("portal_tasks.task_list") else None


def new_record_link(endpoint: str, path: str, subject: str, back: str | None = None) -> str:
    """Return the address of a new task's or deal's form with the customer filled in.

    `back` is where the form returns once saved (the task form reads it as `next`).
    """
    query = {"subject": subject, **({"next": back} if back else {})}
    if _has(endpoint):
        try:
            return url_for(endpoint, **query)
        except BuildError:
            pass
    return f"{path}?{urlencode(query)}"
