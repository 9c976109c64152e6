"""The business's agreements: a filtered, paginated list and each one's full record."""

from __future__ import annotations

from datetime import datetime

from flask import Response, request
from sqlalchemy import and_, or_, select

from broker.api.auth import authenticate_bearer
from broker.api.blueprint import api_vault, blueprint, json_response, parse_uuid
from broker.api.cursors import decode_cursor, encode_cursor, limit_arg, since_arg
from broker.api.presenters import agreement_detail, agreement_out
from broker.api.problems import Problem
from schemas.agreements import AgreementStatus
from schemas.api import AgreementPage
from vault.agreements.models import Agreement


@blueprint.get("/agreements")
def agreements() -> Response:
    """This business's agreements, oldest change first, `limit` at a time."""
    status = request.args.get("status")
    if status is not None and status not in {s.value for s in AgreementStatus}:
        raise Problem(
            400,
            "invalid-status",
            "Unknown status",
            "Use one of: " + ", ".join(s.value for s in AgreementStatus) + ".",
        )
    limit, since = limit_arg(), since_arg()
    with api_vault().unit_of_work(write=False) as uow:
        bearer = authenticate_bearer(uow)
        query = select(Agreement).where(Agreement.business_id == bearer.caller.business_id)
        if status is not None:
            query = query.where(Agreement.status == status)
        if since is not None:
            query = query.where(Agreement.updated_at > since)
        cursor = request.args.get("cursor")
        if cursor:
            at, last_id = decode_cursor(cursor, 2)
            try:
                moment = datetime.fromisoformat(at)
                after = parse_uuid(last_id, "cursor")
            except (ValueError, Problem):
                raise Problem(
                    400, "invalid-cursor", "The cursor is not one this API gave out"
                ) from None
            query = query.where(
                or_(
                    Agreement.updated_at > moment,
                    and_(Agreement.updated_at == moment, Agreement.id > after),
                )
            )
        rows = list(
            uow.session.scalars(query.order_by(Agreement.updated_at, Agreement.id).limit(limit + 1))
        )
        page = [agreement_out(uow, a) for a in rows[:limit]]
        next_cursor = (
            encode_cursor(rows[limit - 1].updated_at.isoformat(), str(rows[limit - 1].id))
            if len(rows) > limit
            else None
        )
        uow.commit()  # pairwise ids recorded while describing
    return json_response(AgreementPage(items=page, next_cursor=next_cursor))


@blueprint.get("/agreements/<agreement_id>")
def agreement(agreement_id: str) -> Response:
    """One agreement with every lifecycle event and every receipt."""
    wanted = parse_uuid(agreement_id, "agreement")
    with api_vault().unit_of_work() as uow:
        bearer = authenticate_bearer(uow)
        found = uow.session.get(Agreement, wanted)
        if found is None or found.business_id != bearer.caller.business_id:
            raise Problem(404, "not-found", "No such agreement")
        body = agreement_detail(uow, found)
        uow.commit()
    return json_response(body)
