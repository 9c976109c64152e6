"""The customer card in the page's language: fields, agreements, open deals and tasks.

A read model shaped for the screen (built from services.CardFacts, no database): templates
get plain words, never ORM objects. A field the customer did not share is a row that says so
and carries no value at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import format_currency, format_date, format_time, get_locale
from flask_babel import gettext as _

from business_portal.card.records import DealFacts, TaskFacts
from business_portal.card.services import AgreementFacts, CardFacts
from business_portal.records.stages import STAGE_NAMES
from schemas.agreements import INTERACTIONS
from schemas.field_catalogue import FIELD_CATALOGUE
from vault.agreement_words import duration_words, frequency_words, mode_words, purpose_words
from vault.profile_display import show_value

__all__ = [
    "AgreementPanel",
    "CardView",
    "card_view",
    "field_label",
    "moment",
    "money",
    "stage_words",
]

READABLE = ("read", "write")


@dataclass(frozen=True)
class FieldRow:
    """One field of the card: its value and when it changed, or why there is none."""

    key: str
    label: str
    state: str  # "shown", "empty" (shared, nothing filled in), "paused", "not_shared"
    lines: tuple[str, ...]
    as_list: bool
    updated: str | None
    updated_at: datetime | None


@dataclass(frozen=True)
class CompareRow:
    """A field an agreement asked for, and what the customer granted of it."""

    label: str
    requested: str
    granted: str | None


@dataclass(frozen=True)
class ReceiptRow:
    """A consent receipt as the panel lists it."""

    id: uuid.UUID
    what: str
    issued: str
    version: int


@dataclass(frozen=True)
class AgreementPanel:
    """One active agreement in words."""

    id: uuid.UUID
    purpose: str
    description: str
    legal_basis: str
    frequency: str
    restricted: bool
    since: str | None
    until: str | None
    term: str
    retention: str
    version: int
    fields: list[CompareRow]
    receipts: list[ReceiptRow]
    change_asked: str | None


@dataclass(frozen=True)
class DealRow:
    """An open deal as the card lists it."""

    title: str
    stage: str
    amount: str | None
    link: str | None


@dataclass(frozen=True)
class TaskRow:
    """An open task as the card lists it."""

    title: str
    due: str
    due_on: date
    overdue: bool


@dataclass(frozen=True)
class CardView:
    """The whole card in words."""

    subject: str
    name: str | None
    fields: list[FieldRow]
    agreements: list[AgreementPanel]
    deals: list[DealRow]
    tasks: list[TaskRow]
    tags: list[str]


def field_label(key: str) -> str:
    """Return a field's label in the page language (interactions as the business sees them)."""
    if key == INTERACTIONS:
        return _("Interactions")
    spec = FIELD_CATALOGUE.get(key)
    return spec.label(str(get_locale() or "en")) if spec else key


def stage_words(code: str | None, name: str | None) -> str:
    """Return a pipeline stage's name: the business's own, or the default one translated."""
    if name:
        return name
    return str(STAGE_NAMES.get(code or "", code or "?"))


def moment(at: datetime) -> str:
    """Return a moment as the page's locale writes a date and a time of day."""
    return f"{format_date(at, 'medium')}, {format_time(at, 'short')}"


def legal_basis_words(code: str) -> str:
    """Return the GDPR Art. 6(1) ground as a business reads it (the vault's words say "you")."""
    words = {
        "consent": _("The customer's consent"),
        "contract": _("A contract with the customer"),
        "legal_obligation": _("A legal obligation"),
        "legitimate_interest": _("Your legitimate interest"),
    }
    return words.get(code, code)


def money(amount: object, currency: str | None) -> str | None:
    """Return an amount with its currency, as the page's locale writes it."""
    if amount is None:
        return None
    return str(format_currency(amount, currency)) if currency else str(amount)


def _receipt_words(kind: str) -> str:
    words = {
        "granted": _("Shared every field asked for"),
        "partially_granted": _("Shared some of the fields"),
        "declined": _("Declined"),
        "amended": _("Accepted a change"),
        "revoked": _("Revoked"),
        "narrowed": _("Took fields out"),
    }
    return words.get(kind, kind)


def _panel(facts: AgreementFacts) -> AgreementPanel:
    terms = facts.terms
    return AgreementPanel(
        id=facts.id,
        purpose=purpose_words(terms.purpose.value),
        description=terms.purpose_description,
        legal_basis=legal_basis_words(terms.legal_basis.value),
        frequency=frequency_words(terms.frequency.value),
        restricted=facts.restricted,
        since=format_date(facts.valid_from, "long") if facts.valid_from else None,
        until=format_date(facts.valid_until, "long") if facts.valid_until else None,
        term=duration_words(terms.duration),
        retention=duration_words(terms.retention),
        version=facts.version,
        fields=[
            CompareRow(
                label=field_label(f.key),
                requested=mode_words(f.mode.value),
                granted=mode_words(facts.granted[f.key]) if f.key in facts.granted else None,
            )
            for f in terms.fields
        ],
        receipts=[
            ReceiptRow(r.id, _receipt_words(r.kind), moment(r.issued_at), r.version)
            for r in facts.receipts
        ],
        change_asked=moment(facts.change_asked_at) if facts.change_asked_at else None,
    )


def _field_row(key: str, agreements: list[AgreementFacts]) -> FieldRow:
    label = field_label(key)
    found = [a.values[key] for a in agreements if key in a.values]
    if found:
        newest = max(found, key=lambda value: value.updated_at)
        try:
            shown = show_value(FIELD_CATALOGUE[key], newest.value)
            lines, as_list = shown.lines, shown.as_list
        except (KeyError, TypeError, ValueError):  # a value older than today's rules
            lines, as_list = (str(newest.value),), False
        updated = moment(newest.updated_at)
        return FieldRow(key, label, "shown", lines, as_list, updated, newest.updated_at)
    granted = [a for a in agreements if a.granted.get(key) in READABLE]
    if any(a.refusal is None for a in granted):
        state = "empty"
    elif granted:
        state = "paused"
    else:
        state = "not_shared"
    return FieldRow(key, label, state, (), False, None, None)


def _fields(agreements: list[AgreementFacts]) -> list[FieldRow]:
    asked = {f.key for a in agreements for f in a.terms.fields} | {
        k for a in agreements for k in a.granted
    }
    # Catalogue order: the same fields sit in the same place on every card.
    return [_field_row(key, agreements) for key in FIELD_CATALOGUE if key in asked]


def _name(fields: list[FieldRow]) -> str | None:
    parts = {row.key: row.lines[0] for row in fields if row.state == "shown" and row.lines}
    name = " ".join(
        p for p in (parts.get("identity.given_name"), parts.get("identity.family_name")) if p
    )
    return name or None


def card_view(
    facts: CardFacts, today: date, deal_link: Callable[[uuid.UUID], str | None]
) -> CardView:
    """Return the card in the page's language (`today` decides which tasks are overdue)."""
    fields = _fields(facts.agreements)
    return CardView(
        subject=facts.subject,
        name=_name(fields),
        fields=fields,
        agreements=[_panel(a) for a in facts.agreements],
        deals=[_deal_row(d, deal_link) for d in facts.deals if d.outcome == "open"],
        tasks=[_task_row(t, today) for t in facts.tasks if t.done_at is None],
        tags=facts.tags,
    )


def _deal_row(deal: DealFacts, deal_link: Callable[[uuid.UUID], str | None]) -> DealRow:
    return DealRow(
        title=deal.title,
        stage=stage_words(deal.stage_code, deal.stage_name),
        amount=money(deal.amount, deal.currency),
        link=deal_link(deal.id),
    )


def _task_row(task: TaskFacts, today: date) -> TaskRow:
    return TaskRow(
        title=task.title,
        due=format_date(task.due_on, "medium"),
        due_on=task.due_on,
        overdue=task.due_on < today,
    )
