"""Every page of the customer's vault, found in the app's URL map and filled from a tour."""

from __future__ import annotations

import uuid

from flask import Flask
from sqlalchemy import select

from tests.tour import Tour
from vault.receipts.models import ConsentReceipt
from vault.unit_of_work import Vault

VAULT_BLUEPRINTS = (
    "vault",
    "vault_auth",
    "vault_consent",
    "vault_connections",
    "vault_profile",
    "vault_requests",
    "vault_access_log",
    "vault_interactions",
    "vault_notifications",
    "vault_account",
    "vault_export",
)
ANONYMOUS = ("vault.index", "vault_auth.login", "vault_auth.signup")
# Not pages a signed-in customer reads: downloads, a health probe, and steps that exist only
# in another state (half-way through a two-factor sign-in, right after erasure).
DOWNLOADS = (".jws", ".zip", ".json")
NOT_PAGES = ("vault.health", "vault.static", "vault_auth.two_factor", "vault_account.erased")


def _parameters(vault: Vault, tour: Tour, endpoint: str) -> dict[str, object]:
    agreement = tour.agreements["pending" if endpoint == "vault_consent.consent" else "active"]
    with vault.unit_of_work(write=False) as uow:
        receipt = uow.session.scalar(
            select(ConsentReceipt.id).where(ConsentReceipt.agreement_id == agreement).limit(1)
        )
    return {
        "agreement_id": agreement,
        "key": "identity.given_name",
        "receipt_id": receipt or uuid.uuid4(),
    }


def signed_in_pages(app: Flask, vault: Vault, tour: Tour) -> dict[str, str]:
    """Return endpoint → path for every GET page of a signed-in customer."""
    pages: dict[str, str] = {}
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            blueprint = rule.endpoint.partition(".")[0]
            if blueprint not in VAULT_BLUEPRINTS or "GET" not in (rule.methods or ()):
                continue
            if rule.endpoint in NOT_PAGES + ANONYMOUS or rule.rule.endswith(DOWNLOADS):
                continue
            values = _parameters(vault, tour, rule.endpoint)
            missing = set(rule.arguments) - set(values)
            assert not missing, f"the tour cannot fill {missing} of {rule.rule}"
            pages[rule.endpoint] = url_for(
                rule.endpoint, **{k: v for k, v in values.items() if k in rule.arguments}
            )
    return dict(sorted(pages.items()))


def anonymous_pages(app: Flask) -> dict[str, str]:
    """Return endpoint → path for the pages a visitor sees before signing in."""
    with app.test_request_context():
        from flask import url_for

        return {endpoint: url_for(endpoint) for endpoint in ANONYMOUS}
