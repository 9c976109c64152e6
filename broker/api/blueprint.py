"""The /api/v1 blueprint, its problem handlers, and what every route needs."""

from __future__ import annotations

import importlib
import uuid
from typing import TypeVar

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from broker.api.auth import Bearer
from broker.api.problems import Problem
from broker.gate import AccessDenied
from broker.pairwise import customer_for
from schemas.agreements import AgreementStatus
from vault.agreements.models import Agreement
from vault.unit_of_work import UnitOfWork, Vault

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")
M = TypeVar("M", bound=BaseModel)


def api_vault() -> Vault:
    """Return the vault the app runs on."""
    vault: Vault = current_app.extensions["emanet"].vault
    return vault


@blueprint.errorhandler(Problem)
def _problem(problem: Problem) -> Response:
    return problem.response(request.path)


@blueprint.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    return Problem(error.code or 500, f"http-{error.code}", error.name, error.description).response(
        request.path
    )


def json_response(body: BaseModel, status: int = 200) -> Response:
    """Render a response model; nothing the API returns may be cached."""
    response = jsonify(body.model_dump(mode="json"))
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def parse_body(model: type[M]) -> M:
    """Validate the JSON body against a model, or raise a 400/415/422 problem."""
    if not request.is_json:
        raise Problem(
            415, "unsupported-media-type", "Send JSON", "Use Content-Type: application/json."
        )
    raw = request.get_json(silent=True)
    if raw is None:
        raise Problem(400, "malformed-json", "The body is not valid JSON")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise Problem(
            422,
            "invalid-body",
            "The body has invalid values",
            errors=[{"loc": [str(p) for p in e["loc"]], "message": e["msg"]} for e in exc.errors()],
        ) from None


def denied(error: AccessDenied) -> Problem:
    """Turn the gate's refusal into a 403 problem naming the reason."""
    return Problem(
        403, "access-denied", "The agreement does not allow this", str(error), reason=error.reason
    )


def agreement_for_subject(uow: UnitOfWork, bearer: Bearer, subject: str) -> Agreement:
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
        return agreement
    latest = uow.session.scalar(
        select(Agreement)
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


def parse_uuid(value: str, what: str) -> uuid.UUID:
    """Read an id from the path, or answer 404 (an unknown id and a malformed one look alike)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Problem(404, "not-found", f"No such {what}") from None


ROUTE_MODULES = (
    "broker.api.customer_views",
    "broker.api.agreement_views",
    "broker.api.sync_views",
    "broker.api.invite_views",
    "broker.api.openapi",
)


def api_blueprint() -> Blueprint:
    """Return the blueprint with every route module loaded onto it."""
    for name in ROUTE_MODULES:
        importlib.import_module(name)
    return blueprint
