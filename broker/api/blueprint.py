"""The /api/v1 blueprint, its problem handlers, and what every route needs."""

from __future__ import annotations

import importlib
import uuid
from typing import TypeVar

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import BaseModel, ValidationError
from sqlalchemy import bindparam, select
from werkzeug.exceptions import HTTPException

from broker.api.auth import Bearer
from broker.api.problems import Problem
from broker.businesses.models import PairwiseSubject
from broker.gate import AccessDenied
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


_AGREEMENTS = Agreement.__table__.c
_PAIRS = PairwiseSubject.__table__.c
# The customer a business names by its pairwise identifier, as a subquery: the agreement is
# then found through its customer index, whatever number of agreements the business has.
_CUSTOMER = (
    select(_PAIRS.customer_id)
    .where(_PAIRS.subject == bindparam("subject"), _PAIRS.business_id == bindparam("business"))
    .scalar_subquery()
)
# Statements built once; only the id is read, the gate reads the agreement under its lock.
_BOUND_AGREEMENT = select(_AGREEMENTS.id).where(
    _AGREEMENTS.id == bindparam("agreement_id"), _AGREEMENTS.customer_id == _CUSTOMER
)
_LATEST_ACTIVE = (
    select(_AGREEMENTS.id)
    .where(
        _AGREEMENTS.customer_id == _CUSTOMER,
        _AGREEMENTS.business_id == bindparam("business"),
        _AGREEMENTS.status == AgreementStatus.ACTIVE.value,
    )
    .order_by(_AGREEMENTS.decided_at.desc())
    .limit(1)
)


def agreement_id_for_subject(uow: UnitOfWork, bearer: Bearer, subject: str) -> uuid.UUID:
    """Return the id of the agreement a request may use for this customer, or raise 404.

    An agreement token names its agreement; a client-credentials token uses the customer's
    latest active one. Whether the agreement allows the request is the gate's decision.
    """
    params = {"subject": subject, "business": bearer.caller.business_id}
    if bearer.token.agreement_id is not None:
        found = uow.session.scalar(
            _BOUND_AGREEMENT, {**params, "agreement_id": bearer.token.agreement_id}
        )
    else:
        found = uow.session.scalar(_LATEST_ACTIVE, params)
    if found is None:
        raise _no_such_customer()
    return found


def agreement_for_subject(uow: UnitOfWork, bearer: Bearer, subject: str) -> Agreement:
    """Return the agreement a request may use for this customer (to change it), or raise 404."""
    agreement = uow.session.get(Agreement, agreement_id_for_subject(uow, bearer, subject))
    if agreement is None:
        raise _no_such_customer()
    return agreement


def _no_such_customer() -> Problem:
    return Problem(
        404, "not-found", "No such customer", "This business has no agreement with that customer."
    )


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
