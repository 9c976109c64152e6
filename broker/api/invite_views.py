"""Invites: create one, and fetch its QR code as SVG or PNG."""

from __future__ import annotations

from flask import Response

from broker.api.auth import authenticate_bearer
from broker.api.blueprint import api_vault, blueprint, json_response, parse_body
from broker.api.problems import Problem
from broker.invites.models import Invite
from broker.invites.services import create_invite, invite_url, qr_code
from schemas.api import InviteIn, InviteOut

QR_TYPES = {"svg": "image/svg+xml", "png": "image/png"}


@blueprint.post("/invites")
def new_invite() -> Response:
    """Create an invite link (and QR code) from the terms of a request."""
    wanted = parse_body(InviteIn)
    with api_vault().unit_of_work() as uow:
        bearer = authenticate_bearer(uow)
        invite = create_invite(
            uow,
            bearer.caller.business_id,
            wanted.terms,
            label=wanted.label,
            actor=bearer.caller.actor,
            valid_for=wanted.valid_for,
        )
        uow.commit()
        base = f"{uow.issuer}/api/v1/invites/{invite.code}"
        body = InviteOut(
            code=invite.code,
            url=invite_url(uow.issuer, invite.code),
            qr_svg=base + "/qr.svg",
            qr_png=base + "/qr.png",
            expires_at=invite.expires_at,
        )
    return json_response(body, 201)


@blueprint.get("/invites/<code>/qr.<kind>")
def invite_qr(code: str, kind: str) -> Response:
    """The invite's QR code, for printing."""
    if kind not in QR_TYPES:
        raise Problem(404, "not-found", "No such image", "Ask for qr.svg or qr.png.")
    with api_vault().unit_of_work(write=False) as uow:
        bearer = authenticate_bearer(uow)
        invite = uow.session.get(Invite, code)
        if invite is None or invite.business_id != bearer.caller.business_id:
            raise Problem(404, "not-found", "No such invite")
        url = invite_url(uow.issuer, invite.code)
    response = Response(qr_code(url, kind), mimetype=QR_TYPES[kind])
    response.headers["Cache-Control"] = "no-store"
    return response
