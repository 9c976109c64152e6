"""Where a consent form's redirect chain may end: the client's redirect URI, nothing else."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from sqlalchemy import select

from broker.oauth.models import PendingAuthorization
from vault.unit_of_work import UnitOfWork


def return_origins(uow: UnitOfWork, agreement_id: uuid.UUID) -> list[str]:
    """Return the origins the browser goes on to after answering this request.

    CSP's form-action also governs the redirects that follow a form submission, so the
    consent page must name the client's redirect URI origin or the browser stops there.
    """
    uris = uow.session.scalars(
        select(PendingAuthorization.redirect_uri).where(
            PendingAuthorization.agreement_id == agreement_id
        )
    )
    origins = []
    for uri in uris:
        parts = urlsplit(uri)
        origins.append(f"{parts.scheme}://{parts.netloc}")
    return sorted(set(origins))
