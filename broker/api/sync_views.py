"""Bulk sync: every granted profile of the business, for a client-credentials token."""

from __future__ import annotations

from flask import Response, request
from sqlalchemy import select

from broker.api.auth import authenticate_bearer
from broker.api.blueprint import api_vault, blueprint, json_response, parse_uuid
from broker.api.cursors import decode_cursor, encode_cursor, limit_arg, since_arg
from broker.api.problems import Problem
from broker.gate import AccessDenied, read_profile
from schemas.agreements import AgreementStatus
from schemas.api import FieldOut, ProfileOut, ProfilePage
from vault.agreements.models import Agreement
from vault.profile.metadata import changed_since

SYNC_DEFAULT_LIMIT = 100


@blueprint.get("/sync/profiles")
def sync_profiles() -> Response:
    """Granted profiles of customers with an active agreement, in agreement order.

    Every profile is read through the gate, page by page: a revoked agreement simply stops
    appearing, whatever cursor the client holds (DESIGN invariant 5).
    """
    limit, since = limit_arg(SYNC_DEFAULT_LIMIT), since_arg()
    with api_vault().unit_of_work() as uow:
        bearer = authenticate_bearer(uow)
        if bearer.token.agreement_id is not None:
            raise Problem(
                403,
                "bulk-sync-only",
                "Bulk sync needs a client-credentials token",
                "Get one with grant_type=client_credentials.",
            )
        query = select(Agreement.id, Agreement.customer_id).where(
            Agreement.business_id == bearer.caller.business_id,
            Agreement.status == AgreementStatus.ACTIVE.value,
        )
        cursor = request.args.get("cursor")
        if cursor:
            query = query.where(Agreement.id > parse_uuid(decode_cursor(cursor, 1)[0], "cursor"))
        rows = uow.session.execute(query.order_by(Agreement.id).limit(limit + 1)).all()
        ids = [row.id for row in rows]
        caller = bearer.caller
        customers = [row.customer_id for row in rows[:limit]]
        changed = set(customers) if since is None else changed_since(uow, customers, since)
    items: list[ProfileOut] = []
    for agreement_id, customer_id in rows[:limit]:
        if customer_id not in changed:
            continue
        with api_vault().unit_of_work() as uow:
            try:
                granted = read_profile(uow, caller, agreement_id)
            except AccessDenied:
                continue  # ended between the listing and the read: it is simply not sent
        fields = {
            k: FieldOut(value=v.value, version=v.version, updated_at=v.updated_at)
            for k, v in granted.fields.items()
        }
        items.append(
            ProfileOut(
                customer=granted.subject,
                agreement_id=str(agreement_id),
                purpose=granted.purpose,
                fields=fields,
            )
        )
    next_cursor = encode_cursor(str(ids[limit - 1])) if len(ids) > limit else None
    return json_response(ProfilePage(items=items, next_cursor=next_cursor))
