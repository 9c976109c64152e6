"""Who is signed in to the portal, and the guards every portal route goes through.

Tenant isolation starts here: every page gets the staff member's business from the session
and looks up records only within it; a record of another business is simply "not found".
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import abort, g, redirect, request, session, url_for
from flask_babel import to_user_timezone
from werkzeug.wrappers import Response

from business_portal.staff.services import StaffMember, staff_member
from vault.web_session import current_vault

P = ParamSpec("P")
R = TypeVar("R")

SESSION_KEY = "staff_id"


def sign_in_staff(member: StaffMember) -> None:
    """Start a fresh session for the staff member (nothing of the old one carries over)."""
    session.clear()
    session.permanent = True
    session[SESSION_KEY] = str(member.id)


def sign_out_staff() -> None:
    """End the session."""
    session.clear()


def current_staff() -> StaffMember | None:
    """Return the signed-in staff member (looked up once per request), if any."""
    if "portal_staff" in g:
        cached: StaffMember | None = g.portal_staff
        return cached
    member = None
    raw = session.get(SESSION_KEY)
    try:
        staff_id = uuid.UUID(raw) if isinstance(raw, str) else None
    except ValueError:
        staff_id = None
    if staff_id is not None:
        with current_vault().unit_of_work(write=False) as uow:
            member = staff_member(uow, staff_id)
    g.portal_staff = member
    return member


def signed_in_staff() -> StaffMember:
    """Return the signed-in staff member inside a guarded view."""
    member = current_staff()
    if member is None:  # a guard runs first; reaching here is a programming error
        abort(401)
    return member


def portal_today() -> date:
    """Return today's date where the staff member is (the page's time zone)."""
    return to_user_timezone(current_vault().clock()).date()


def staff_required(view: Callable[P, R]) -> Callable[P, R | Response]:
    """Let any signed-in staff member see the page; send others to the sign-in page."""

    @wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        if current_staff() is None:
            target = request.full_path.rstrip("?") if request.method == "GET" else None
            return redirect(url_for("portal_staff.login", next=target), 303)
        return view(*args, **kwargs)

    return guarded


def change_required(view: Callable[P, R]) -> Callable[P, R | Response]:
    """Let owners and agents change records; viewers and compliance officers get 403."""

    @wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        member = current_staff()
        if member is None:
            return redirect(url_for("portal_staff.login"), 303)
        if not member.can_change:
            abort(403)
        return view(*args, **kwargs)

    return guarded


def owner_required(view: Callable[P, R]) -> Callable[P, R | Response]:
    """Let only the business's owners in (settings: staff, clients, webhooks, stages)."""

    @wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        member = current_staff()
        if member is None:
            target = request.full_path.rstrip("?") if request.method == "GET" else None
            return redirect(url_for("portal_staff.login", next=target), 303)
        if not member.is_owner:
            abort(403)
        return view(*args, **kwargs)

    return guarded
