"""Bulk sync: every granted profile of the business, for a client-credentials token."""

from __future__ import annotations

from flask import Response, request
from sqlalchemy import bindparam, select

from broker.api.auth import authenticate_bearer
from broker.api.blueprint import api_vault, blueprint, json_response, parse_uuid
from broker.api.cursors import decode_cursor, encode_cursor, limit_arg, since_arg
from broker.api.problems import Problem
from broker.gate import read_profiles
from schemas.agreements import AgreementStatus
from schemas.api import FieldOut, ProfileOut, ProfilePage
from vault.agreements.models import Agreement
from vault.profile.metadata import changed_since

SYNC_DEFAULT_LIMIT = 100

_AGREEMENTS = Agreement.__table__.c
# The business's active agreements in id order, from the start or after a cursor.
_ACTIVE = (
    select(_AGREEMENTS.id, _AGREEMENTS.customer_id)
    .where(
        _AGREEMENTS.business_id == bindparam("business"),
        _AGREEMENTS.status == AgreementStatus.ACTIVE.value,
    )
    .order_by(_AGREEMENTS.id)
    .limit(bindparam("rows"))
)
_ACTIVE_AFTER = _ACTIVE.where(_AGREEMENTS.id > bindparam("after"))


@blueprint.get("/sync/profiles")
def sync_profiles() -> Response:
    """Granted profiles of customers with an active agreement, in agreement order.

    A page is read through the gate in one transaction: a revoked agreement simply stops
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
        cursor = request.args.get("cursor")
        after = parse_uuid(decode_cursor(cursor, 1)[0], "cursor") if cursor else None
        params = {"business": bearer.caller.business_id, "rows": limit + 1}
        if after is None:
            rows = uow.session.execute(_ACTIVE, params).all()
        else:
            rows = uow.session.execute(_ACTIVE_AFTER, {**params, "after": after}).all()
        page = rows[:limit]
        if since is not None:
            changed = changed_since(uow, [row.customer_id for row in page], since)
            page = [row for row in page if row.customer_id in changed]
        # Ended between the listing and the read: left out (and logged) by the gate.
        granted = read_profiles(uow, bearer.caller, [row.id for row in page])
    items = [
        ProfileOut(
            customer=profile.subject,
            agreement_id=str(profile.agreement_id),
            purpose=profile.purpose,
            fields={
                k: FieldOut(value=v.value, version=v.version, updated_at=v.updated_at)
                for k, v in profile.fields.items()
            },
        )
        for profile in granted
    ]
    next_cursor = encode_cursor(str(rows[limit - 1].id)) if len(rows) > limit else None
    return json_response(ProfilePage(items=items, next_cursor=next_cursor))
