"""The access log: every read and write a business made of the customer's data, in words."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice

from schemas.agreements import INTERACTIONS
from schemas.choice_labels import pick_locale
from schemas.field_catalogue import FIELD_CATALOGUE, GROUP_LABELS
from vault.access_log.models import AccessEvent
from vault.access_log.proofs import inclusion_bundle, provable_below
from vault.access_log.services import customer_log_page
from vault.agreement_words import purpose_words
from vault.agreements.models import Agreement
from vault.agreements.services import customer_agreements
from vault.timeline_forms import AccessLogFilterForm
from vault.web_session import current_customer, current_vault, customer_required

blueprint = Blueprint("vault_access_log", __name__, template_folder="templates")

PAGE_SIZE = 50
# The largest sequence number either database stores; a bigger `before` is no page at all.
MAX_SEQ = 2**63 - 1

# What a customer's log shows: every business access, and the opening of the vault.
KIND_WORDS: dict[str, Any] = {
    "profile.read": _l("Read your data"),
    "profile.write": _l("Changed your data"),
    "interaction.append": _l("Added to your interactions"),
    "interaction.read": _l("Read your interactions"),
    "customer.created": _l("You opened your vault"),
}
ACCOUNT_KINDS = {"customer.created"}
# Why the gate refused, by the reason code after "denied:".
REFUSAL_WORDS: dict[str, Any] = {
    "restricted": _l("you had paused this connection"),
    "revoked": _l("you had revoked this connection"),
    "expired": _l("the agreement had expired"),
    "declined": _l("you had declined the request"),
    "requested": _l("you had not answered the request yet"),
    "superseded": _l("a newer agreement had replaced this one"),
    "not_granted": _l("you had not granted these fields"),
    "no_agreement": _l("there was no agreement"),
}


@dataclass(frozen=True)
class LogRow:
    """One entry of the log, ready to show."""

    seq: int
    at: datetime
    what: str
    account: bool  # an event of the customer's own account, not a business access
    business: str | None
    fields: list[str]
    purpose: str | None
    allowed: bool
    refusal: str | None
    connection_url: str | None
    proof_url: str | None  # None until a signed checkpoint covers the event


def field_words(key: str, locale: str) -> str:
    """Return a field's label in the page language (the key itself if it is unknown)."""
    if key == INTERACTIONS:
        return str(_l("Your interactions"))
    spec = FIELD_CATALOGUE.get(key)
    return spec.label(locale) if spec is not None else key


def connection_url(agreement_id: uuid.UUID) -> str:
    """Return the page of one connection."""
    return url_for("vault_connections.connection", agreement_id=agreement_id)


def business_names(agreements: Iterable[Agreement]) -> dict[uuid.UUID, str]:
    """Return each business's name as its newest agreement shows it (agreements newest first)."""
    names: dict[uuid.UUID, str] = {}
    for agreement in agreements:
        names.setdefault(agreement.business_id, str(agreement.business.get("legal_name", "")))
    return names


def _row(
    event: AccessEvent,
    by_agreement: dict[uuid.UUID, Agreement],
    names: dict[uuid.UUID, str],
    locale: str,
    provable: int,
) -> LogRow:
    agreement = by_agreement.get(event.agreement_id) if event.agreement_id else None
    if agreement is not None:
        business: str | None = str(agreement.business.get("legal_name", ""))
    else:
        business = names.get(event.business_id) if event.business_id else None
    allowed = event.outcome == "allowed"
    reason = event.outcome.removeprefix("denied:")
    refusal = None if allowed else str(REFUSAL_WORDS.get(reason, _l("not allowed")))
    return LogRow(
        seq=event.seq,
        at=event.at,
        what=str(KIND_WORDS[event.kind]),
        account=event.kind in ACCOUNT_KINDS,
        business=business,
        fields=[field_words(key, locale) for key in event.fields or []],
        purpose=purpose_words(event.purpose) if event.purpose else None,
        allowed=allowed,
        refusal=refusal,
        connection_url=connection_url(agreement.id) if agreement is not None else None,
        proof_url=url_for("vault_access_log.proof", seq=event.seq)
        if event.chain_position is not None and event.chain_position < provable
        else None,
    )


def _filter_choices(form: AccessLogFilterForm, names: dict[uuid.UUID, str], locale: str) -> None:
    """Offer the customer's businesses, and every field under its group."""
    form.business.choices = [SelectChoice("", _l("All businesses"))] + [
        SelectChoice(str(business_id), name)
        for business_id, name in sorted(names.items(), key=lambda item: item[1].casefold())
    ]
    fields = [SelectChoice("", _l("All fields"))]
    for spec in FIELD_CATALOGUE.values():
        group = pick_locale(GROUP_LABELS[spec.group], locale)
        fields.append(SelectChoice(spec.key, spec.label(locale), optgroup=group))
    fields.append(
        SelectChoice(
            INTERACTIONS, field_words(INTERACTIONS, locale), optgroup=str(_l("Relationship"))
        )
    )
    form.field.choices = fields


def _before() -> int | None:
    before = request.args.get("before", type=int)
    return before if before is not None and 0 < before <= MAX_SEQ else None


def _page_url(**params: object) -> str:
    # Keep the filters and the language of this page; drop empty values.
    args: dict[str, object] = {
        key: request.args[key] for key in ("business", "field", "lang") if request.args.get(key)
    }
    args.update(params)
    return url_for("vault_access_log.access_log", **{k: v for k, v in args.items() if v})


@blueprint.get("/access-log")
@customer_required
def access_log() -> str:
    """Show who read or changed what of the customer's data, newest first."""
    customer_id = current_customer()
    assert customer_id is not None
    locale = str(get_locale())
    form = AccessLogFilterForm(formdata=request.args)
    before = _before()
    with current_vault().unit_of_work(write=False) as uow:
        agreements = customer_agreements(uow, customer_id)
        names = business_names(agreements)
        _filter_choices(form, names, locale)
        form.validate()
        business_id = (
            uuid.UUID(form.business.data)
            if form.business.data and not form.business.errors
            else None
        )
        field = form.field.data if form.field.data and not form.field.errors else None
        events = customer_log_page(
            uow,
            customer_id,
            kinds=list(KIND_WORDS),
            business_id=business_id,
            field=field,
            before_seq=before,
            limit=PAGE_SIZE + 1,
        )
        by_agreement = {a.id: a for a in agreements}
        provable = provable_below(uow.session)
        rows = [_row(event, by_agreement, names, locale, provable) for event in events[:PAGE_SIZE]]
    older = _page_url(before=rows[-1].seq) if len(events) > PAGE_SIZE else None
    return render_template(
        "vault/access_log.html",
        form=form,
        rows=rows,
        older_url=older,
        newest_url=_page_url() if before is not None else None,
        clear_url=url_for("vault_access_log.access_log", lang=request.args.get("lang") or None)
        if business_id or field
        else None,
        filtered=bool(business_id or field),
    )


@blueprint.get("/access-log/<int:seq>/proof.json")
@customer_required
def proof(seq: int) -> Response:
    """Download the proof that one event of the customer's log is in the signed log.

    It verifies with SHA-256, Ed25519 and our published JWKS alone (RFC 9162 §2.1.3).
    """
    customer_id = current_customer()
    if customer_id is None or not 0 < seq <= MAX_SEQ:
        abort(404)
    vault = current_vault()
    with vault.unit_of_work(write=False) as uow:
        bundle = inclusion_bundle(
            uow.session,
            seq,
            customer_id=customer_id,
            jwks_uri=vault.issuer.rstrip("/") + "/.well-known/jwks.json",
        )
    if bundle is None:
        abort(404)  # not theirs, or not under a signed checkpoint yet: nothing to prove
    body = json.dumps(bundle, indent=2, ensure_ascii=False)
    response = Response(body + "\n", mimetype="application/json")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="emanet-access-proof-{seq}.json"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response
