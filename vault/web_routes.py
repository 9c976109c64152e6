"""Every web page module of the vault; the app factory mounts each one's `blueprint`."""

from __future__ import annotations

import importlib

from flask import Blueprint

# Append a module here when it adds pages (one line each).
VAULT_PAGE_MODULES = [
    "vault.views",
    "vault.auth_views",
    "vault.consent_views",
    "vault.connections_views",
    "vault.access_log_views",
    "vault.interactions_views",
    "vault.notifications_views",
    "vault.export_views",
    "vault.profile_views",
    "vault.account_views",
    "vault.requests_views",
]


def vault_blueprints() -> list[Blueprint]:
    """Return the blueprints of every page module, in the order above."""
    return [importlib.import_module(name).blueprint for name in VAULT_PAGE_MODULES]
