"""Per-customer routes: the granted profile, interactions, and asking for more."""

from __future__ import annotations

from flask import Response

from broker.amendments import AmendmentError, ask_for_amendment
from broker.api.auth import authenticate_bearer
from broker.api.blueprint import (
    agreement_for_subject,
    agreement_id_for_subject,
    api_vault,
    blueprint,
    denied,
    json_response,
    parse_body,
)
from broker.api.presenters import agreement_out
from broker.api.problems import Problem
from broker.gate import AccessDenied, append_interaction, read_interactions, read_profile
from schemas.api import (
    AmendmentIn,
    Created,
    FieldOut,
    InteractionList,
    InteractionOut,
    ProfileOut,
)
from schemas.interactions import InteractionEntry
from vault.agreements.locks import own_agreement
from vault.agreements.services import Context


@blueprint.get("/customers/<subject>/profile")
def profile(subject: str) -> Response:
    """The customer's granted fields, read through the gate."""
    with api_vault().unit_of_work() as uow:
        bearer = authenticate_bearer(uow)
        agreement_id = agreement_id_for_subject(uow, bearer, subject)
        try:
            granted = read_profile(uow, bearer.caller, agreement_id, subject=subject)
        except AccessDenied as error:
            raise denied(error) from None
    return json_response(
        ProfileOut(
            customer=granted.subject,
            agreement_id=str(granted.agreement_id),
            purpose=granted.purpose,
            fields={
                k: FieldOut(value=v.value, version=v.version, updated_at=v.updated_at)
                for k, v in granted.fields.items()
            },
        )
    )


@blueprint.get("/customers/<subject>/interactions")
def list_interactions(subject: str) -> Response:
    """The interactions this business logged with the customer (never anyone else's)."""
    with api_vault().unit_of_work() as uow:
        bearer = authenticate_bearer(uow)
        agreement_id = agreement_id_for_subject(uow, bearer, subject)
        try:
            records = read_interactions(uow, bearer.caller, agreement_id)
        except AccessDenied as error:
            raise denied(error) from None
    return json_response(
        InteractionList(
            items=[
                InteractionOut(
                    id=str(r.id),
                    kind=r.kind.value,
                    occurred_at=r.occurred_at,
                    summary=r.summary,
                    details=r.details,
                    amount=None if r.amount is None else f"{r.amount:.2f}",
                    currency=r.currency,
                )
                for r in records
            ]
        )
    )


@blueprint.post("/customers/<subject>/interactions")
def add_interaction(subject: str) -> Response:
    """Log an interaction in the customer's vault (needs `append` on interactions)."""
    entry = parse_body(InteractionEntry)
    with api_vault().unit_of_work() as uow:
        bearer = authenticate_bearer(uow)
        agreement_id = agreement_id_for_subject(uow, bearer, subject)
        try:
            interaction_id = append_interaction(uow, bearer.caller, agreement_id, entry)
        except AccessDenied as error:
            raise denied(error) from None
    return json_response(Created(id=str(interaction_id), status="logged"), 201)


@blueprint.post("/customers/<subject>/amendments")
def request_amendment(subject: str) -> Response:
    """Ask a connected customer for more fields or a longer term; it waits in their inbox."""
    amendment = parse_body(AmendmentIn)
    with api_vault().unit_of_work() as uow:
        bearer = authenticate_bearer(uow)
        current = agreement_for_subject(uow, bearer, subject)
        own_agreement(uow, current.id)
        uow.session.refresh(current)  # as it stands now that no change can slip in
        try:
            created = ask_for_amendment(
                uow,
                current,
                amendment,
                Context(actor=bearer.caller.actor),
                client_id=bearer.token.client_id,
            )
        except AmendmentError as error:
            raise _amendment_problem(error) from None
        body = agreement_out(uow, created)
        uow.commit()
    return json_response(Created(id=body.id, status=body.status), 202)


_AMENDMENT_PROBLEMS = {
    "not_active": (409, "not-active", "Only an active agreement can be amended"),
    "nothing_to_amend": (422, "nothing-to-amend", "Ask for a new field or a longer term"),
    "too_many_fields": (422, "too-many-fields", "An agreement holds at most 40 fields"),
    "term_not_longer": (422, "term-not-longer", "The new term must end after the current one"),
    "change_waiting": (409, "change-waiting", "An amendment already waits for the customer"),
}


def _amendment_problem(error: AmendmentError) -> Problem:
    status, kind, title = _AMENDMENT_PROBLEMS[error.code]
    return Problem(status, kind, title)
