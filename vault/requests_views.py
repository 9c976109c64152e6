"""The requests inbox: every request and amendment waiting for the customer's answer.

Answering takes as many steps as revoking does (issue 4): open the request from here, then
share or decline on the consent screen; the consent screen brings the customer back here.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, render_template, request, url_for

from schemas.agreements import AgreementStatus
from vault.agreement_words import decision_words
from vault.agreements.services import AgreementError, customer_agreement
from vault.connection_screens import pending_requests
from vault.unit_of_work import UnitOfWork
from vault.web_session import current_customer, current_vault, customer_required

blueprint = Blueprint("vault_requests", __name__, template_folder="templates")


def _just_decided(uow: UnitOfWork, customer_id: uuid.UUID) -> dict[str, str] | None:
    """Return the notice about the answer the customer has just given, if any."""
    try:
        agreement_id = uuid.UUID(request.args.get("decided", ""))
        agreement = customer_agreement(uow, agreement_id, customer_id, lock=False)
    except (ValueError, AgreementError):
        return None
    answered = (AgreementStatus.ACTIVE, AgreementStatus.DECLINED)
    if agreement.customer_id != customer_id or agreement.status not in answered:
        return None
    return {
        "text": decision_words(agreement.business["legal_name"], len(agreement.granted_fields)),
        "url": url_for("vault_connections.connection", agreement_id=agreement.id),
    }


@blueprint.get("/requests")
@customer_required
def inbox() -> str:
    """List the requests and amendments waiting for an answer, newest first."""
    customer_id = current_customer()
    assert customer_id is not None
    with current_vault().unit_of_work(write=False) as uow:
        waiting = pending_requests(uow, customer_id)
        decided = _just_decided(uow, customer_id)
    return render_template(
        "vault/requests.html",
        requests=waiting,
        decided=decided,
        answer_urls={
            r.id: url_for(
                "vault_consent.consent",
                agreement_id=r.id,
                next=url_for("vault_requests.inbox", decided=r.id),
            )
            for r in waiting
        },
    )
