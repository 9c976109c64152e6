"""Who may use the compliance console, and what they see.

A business's compliance officers and owners see that business's agreements only; an
operator-level auditor sees every business's. Everything else in the console asks an
`Officer` for its scope, so tenant isolation is decided here, once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import abort, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from business_portal.compliance.services.auditors import AuditorView, auditor_by_id
from business_portal.staff.session import current_staff
from schemas.businesses import StaffRole
from vault.web_session import current_vault

P = ParamSpec("P")
R = TypeVar("R")

AUDITOR_SESSION_KEY = "compliance_auditor_id"
# Staff roles that open the console: the business's officers, and its owners.
CONSOLE_ROLES = frozenset({StaffRole.COMPLIANCE.value, StaffRole.OWNER.value})


@dataclass(frozen=True)
class Officer:
    """Who is using the console; `business_id` is None for an auditor (every business)."""

    actor: str
    name: str
    business_id: uuid.UUID | None

    @property
    def is_auditor(self) -> bool:
        """Whether this is an operator-level auditor rather than a business's staff member."""
        return self.business_id is None


def sign_in_auditor(auditor: AuditorView) -> None:
    """Start a fresh session for the auditor (nothing of the old one carries over)."""
    session.clear()
    session.permanent = True
    session[AUDITOR_SESSION_KEY] = str(auditor.id)


def _signed_in_auditor() -> AuditorView | None:
    raw = session.get(AUDITOR_SESSION_KEY)
    try:
        auditor_id = uuid.UUID(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
    if auditor_id is None:
        return None
    with current_vault().unit_of_work(write=False) as uow:
        return auditor_by_id(uow, auditor_id)


def current_officer() -> Officer | None:
    """Return who may use the console in this request (looked up once), if anyone."""
    if "compliance_officer" in g:
        cached: Officer | None = g.compliance_officer
        return cached
    officer = None
    member = current_staff()
    if member is not None and member.role in CONSOLE_ROLES:
        officer = Officer(f"staff:{member.id}", member.display_name, member.business_id)
    elif member is None:
        auditor = _signed_in_auditor()
        if auditor is not None:
            officer = Officer(auditor.actor, auditor.display_name, None)
    g.compliance_officer = officer
    return officer


def signed_in_officer() -> Officer:
    """Return the officer inside a guarded view."""
    officer = current_officer()
    if officer is None:  # the guard runs first; reaching here is a programming error
        abort(401)
    return officer


def compliance_required(view: Callable[P, R]) -> Callable[P, R | Response]:
    """Let officers, owners and auditors in; other staff get 403; visitors sign in first."""

    @wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        if current_officer() is None:
            if current_staff() is not None:
                abort(403)
            target = request.full_path.rstrip("?") if request.method == "GET" else None
            return redirect(url_for("portal_compliance.login", next=target), 303)
        return view(*args, **kwargs)

    return guarded
