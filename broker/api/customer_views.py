"""Per-customer routes: the granted profile, interactions, and asking for more."""

from __future__ import annotations

from flask import Response

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
from broker.businesses.services import business_snapshot
from broker.gate import AccessDenied, append_interaction, read_interactions, read_profile
from schemas.agreements import AgreementStatus, AgreementTerms
from schemas.api import (
    AmendmentIn,
    Created,
    FieldOut,
    InteractionList,
    InteractionOut,
    ProfileOut,
)
from schemas.interactions import InteractionEntry
from vault.agreements.services import Context, current_status, request_agreement


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
        if current_status(current, uow.now()) is not AgreementStatus.ACTIVE:
            raise Problem(409, "not-active", "Only an active agreement can be amended")
        terms = AgreementTerms.model_validate(current.terms)
        known = terms.field_modes()
        added = [f for f in amendment.fields if known.get(f.key) is not f.mode]
        if not added and amendment.duration is None:
            raise Problem(422, "nothing-to-amend", "Ask for a new field or a longer term")
        merged = AgreementTerms.model_validate(
            {
                **terms.model_dump(mode="json"),
                "fields": [
                    f.model_dump(mode="json")
                    for f in terms.fields
                    if f.key not in {a.key for a in added}
                ]
                + [a.model_dump(mode="json") for a in added],
                "duration": str(amendment.duration or terms.duration),
                "purpose_description": amendment.purpose_description or terms.purpose_description,
            }
        )
        created = request_agreement(
            uow,
            business=business_snapshot(uow, bearer.caller.business_id),
            terms=merged,
            client_id=bearer.token.client_id,
            customer_id=current.customer_id,
            supersedes=current,
            context=Context(actor=bearer.caller.actor),
        )
        body = agreement_out(uow, created)
        uow.commit()
    return json_response(Created(id=body.id, status=body.status), 202)
