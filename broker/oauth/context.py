"""The unit of work of the OAuth request being handled (Authlib's hooks take no arguments)."""

from __future__ import annotations

from flask import g

from vault.unit_of_work import UnitOfWork


def current_uow() -> UnitOfWork:
    """Return the unit of work opened for this request by the OAuth views."""
    uow: UnitOfWork = g.oauth_uow
    return uow
