"""Resource API routes: thin, each one a call into the gate."""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from broker.api.auth import Bearer, authenticate_bearer
from broker.api.problems import Problem
from broker.gate import AccessDenied, read_profile
from broker.pairwise import customer_for
from schemas.agreements import AgreementStatus
from schemas.api import FieldOut, ProfileOut
from vault.agreements.models import Agreement
from vault.unit_of_work import UnitOfWork, Vault

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")


def _vault() -> Vault:
    vault: Vault = current_app.extensions["emanet"].vault
    return vault


@blueprint.errorhandler(Problem)
def _problem(problem: Problem) -> Response:
    return problem.response(request.path)


@blueprint.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    return Problem(
        error.code or 500, "http-" + str(error.code), error.name, error.description
    ).response(request.path)


def _denied(error: AccessDenied) -> Problem:
    return Problem(
        403, "access-denied", "The agreement does not allow this", str(error), reason=error.reason
    )


def agreement_for_subject(uow: UnitOfWork, bearer: Bearer, subject: str) -> uuid.UUID:
    """Return the agreement a request may use for this customer, or raise 404."""
    not_found = Problem(
        404, "not-found", "No such customer", "This business has no agreement with that customer."
    )
    customer_id = customer_for(uow, bearer.caller.business_id, subject)
    if customer_id is None:
        raise not_found
    if bearer.token.agreement_id is not None:
        agreement = uow.session.get(Agreement, bearer.token.agreement_id)
        if agreement is None or agreement.customer_id != customer_id:
            raise not_found
        return agreement.id
    latest = uow.session.scalar(
        select(Agreement.id)
        .where(
            Agreement.business_id == bearer.caller.business_id,
            Agreement.customer_id == customer_id,
            Agreement.status == AgreementStatus.ACTIVE.value,
        )
        .order_by(Agreement.decided_at.desc())
        .limit(1)
    )
    if latest is None:
        raise not_found
    return latest


@blueprint.get("/customers/<subject>/profile")
def profile(subject: str) -> Response:
    """The customer's granted fields, read through the gate."""
    with _vault().unit_of_work() as uow:
        bearer = authenticate_bearer(uow)
        agreement_id = agreement_for_subject(uow, bearer, subject)
        try:
            granted = read_profile(uow, bearer.caller, agreement_id)
        except AccessDenied as error:
            raise _denied(error) from None
    body = ProfileOut(
        customer=granted.subject,
        agreement_id=str(granted.agreement_id),
        purpose=granted.purpose,
        fields={
            k: FieldOut(value=v.value, version=v.version, updated_at=v.updated_at)
            for k, v in granted.fields.items()
        },
    )
    response = jsonify(body.model_dump(mode="json"))
    response.headers["Cache-Control"] = "no-store"
    return response
