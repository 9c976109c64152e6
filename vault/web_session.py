"""Who is signed in to the web vault, and the guard for pages that need a customer."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import current_app, redirect, request, session, url_for
from werkzeug.wrappers import Response

from vault.unit_of_work import Vault

P = ParamSpec("P")
R = TypeVar("R")


def content_security_policy(form_targets: list[str] | None = None) -> str:
    """Return the CSP: no inline script, no framing, forms only to us (and named targets)."""
    targets = " ".join(["'self'", *(form_targets or [])])
    return (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        f"frame-ancestors 'none'; form-action {targets}; base-uri 'none'; object-src 'none'"
    )


def current_vault() -> Vault:
    """Return the vault the running app was built with."""
    vault: Vault = current_app.extensions["emanet"].vault
    return vault


def current_customer() -> uuid.UUID | None:
    """Return the signed-in customer's id, if any."""
    raw = session.get("customer_id")
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        return None


def sign_in(customer_id: uuid.UUID) -> None:
    """Start a fresh session for the customer (nothing of the old one carries over)."""
    session.clear()
    session.permanent = True
    session["customer_id"] = str(customer_id)


def sign_out() -> None:
    """End the session."""
    session.clear()


def safe_next(target: str | None, default: str) -> str:
    """Return `target` if it is a path on this site, else `default` (no open redirects)."""
    if not target or not target.isprintable():  # a line break would split the header
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target:
        return default
    return target


def customer_required(view: Callable[P, R]) -> Callable[P, R | Response]:
    """Send visitors who are not signed in to the sign-in page, then back."""

    @wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        if current_customer() is None:
            return redirect(url_for("vault_auth.login", next=request.full_path.rstrip("?")), 303)
        return view(*args, **kwargs)

    return guarded
