"""What the deal pages share: loading a screen's rows, the forms' choices, reading them back."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar
from urllib.parse import quote

from babel.numbers import get_currency_name
from flask import abort, current_app, request, url_for
from flask_babel import format_currency, format_date, get_locale, ngettext, to_user_timezone
from flask_babel import gettext as _
from pydantic import BaseModel, ValidationError
from wtforms import SelectChoice

from business_portal.deals.forms import (
    OUTCOME_WORDS,
    DealFilterForm,
    DealForm,
    NewDealForm,
    problem_message,
)
from business_portal.deals.inputs import DealFields, DealIn
from business_portal.deals.services import (
    DealNotFound,
    DealProblem,
    DealView,
    StageTotal,
    Totals,
    connected_subject_list,
    deal_detail,
    ensure_pipeline,
    read_stages,
    staff_choices,
    stage_totals,
    visible_deals,
)
from business_portal.records.models import PipelineStage
from business_portal.records.stages import stage_label
from schemas.text_types import CURRENCY_CODES
from vault.timeline_forms import parse_amount
from vault.web_session import current_vault

M = TypeVar("M", bound=BaseModel)
CARD_ENDPOINT = "portal_card.card"
# Offered first in the currency list: the currencies of the businesses Emanet serves first.
COMMON_CURRENCIES = ("AZN", "TRY", "EUR", "USD", "GBP")
# The form field each input or service problem belongs beside.
FORM_FIELD = {"owner_id": "owner", "stage_id": "stage"}


def money(amount: Decimal | None, currency: str | None) -> str:
    """Return an amount in the page's language, or a dash when there is none."""
    if amount is None or not currency:
        return "—"
    return str(format_currency(amount, currency))


def total_text(total: StageTotal | Totals) -> str:
    """Return "3 deals · 1,250.00 AZN · 90.00 EUR" in the page's language."""
    parts = [ngettext("%(num)d deal", "%(num)d deals", total.count)]
    parts += [str(format_currency(amount, code)) for code, amount in total.sums.items()]
    return " · ".join(parts)


def customer_url(subject: str) -> str:
    """Return the address of a customer's card (named by pairwise id only)."""
    if CARD_ENDPOINT in current_app.view_functions:
        return url_for(CARD_ENDPOINT, subject=subject)
    return f"/portal/customers/{quote(subject, safe='')}"


def page_helpers() -> dict[str, object]:
    """Give the deal templates their formatting helpers."""
    return {
        "money": money,
        "total_text": total_text,
        "customer_url": customer_url,
        "stage_name": stage_label,
        "outcome_words": OUTCOME_WORDS,
        "format_date": format_date,
        "today": to_user_timezone(current_vault().clock()).date(),
    }


def load_stages(business_id: uuid.UUID) -> list[PipelineStage]:
    """Return the business's stages, making the default ones on its first visit."""
    vault = current_vault()
    with vault.unit_of_work(write=False) as uow:
        stages = read_stages(uow, business_id)
    if stages:
        return stages
    with vault.unit_of_work() as uow:
        return ensure_pipeline(uow, business_id)


def load_board(
    business_id: uuid.UUID, *, stage_id: uuid.UUID | None = None, owner_id: uuid.UUID | None = None
) -> tuple[list[PipelineStage], list[DealView]]:
    """Return the stages and the visible deals (of one stage or owner), read together."""
    with current_vault().unit_of_work(write=False) as uow:
        stages = read_stages(uow, business_id)
        if stages:
            return stages, visible_deals(uow, business_id, stage_id=stage_id, owner_id=owner_id)
    return load_stages(business_id), []  # no stage yet means no deal yet


def load_deal(business_id: uuid.UUID, deal_id: uuid.UUID) -> tuple[DealView, list[PipelineStage]]:
    """Return a visible deal of this business and the stages, or answer 404."""
    with current_vault().unit_of_work(write=False) as uow:
        try:
            return deal_detail(uow, business_id, deal_id), read_stages(uow, business_id)
        except DealNotFound:
            abort(404)


def currency_choices() -> list[SelectChoice]:
    """Return the currencies to choose from, the common ones first, after "no amount"."""
    locale = str(get_locale())
    rest = sorted(CURRENCY_CODES.difference(COMMON_CURRENCIES))
    return [SelectChoice("", _("No amount"))] + [
        SelectChoice(code, f"{code} · {get_currency_name(code, locale=locale)}")
        for code in (*COMMON_CURRENCIES, *rest)
    ]


def fill_deal_choices(
    form: DealForm,
    stages: list[PipelineStage],
    business_id: uuid.UUID,
    current_owner: DealView | None = None,
) -> set[str]:
    """Offer the stages, staff, currencies (and customers on a new deal); return the customers."""
    new = isinstance(form, NewDealForm)
    with current_vault().unit_of_work(write=False) as uow:
        staff = staff_choices(uow, business_id)
        subjects = connected_subject_list(uow, business_id) if new else []
    owners = [SelectChoice(str(staff_id), name) for staff_id, name in staff]
    if current_owner is not None and current_owner.owner_id not in {s for s, _n in staff}:
        # The owner left the business: keep them choosable so saving does not fail.
        name = current_owner.owner_name or _("Former staff member")
        owners.append(SelectChoice(str(current_owner.owner_id or ""), name))
    form.owner.choices = owners
    form.stage.choices = _stage_choices(stages)
    form.currency.choices = currency_choices()
    if not form.is_submitted() and not form.stage.data:
        form.stage.data = str(next(s.id for s in stages if s.outcome == "open"))
    if isinstance(form, NewDealForm):
        form.subject.choices = [
            SelectChoice("", _("Choose a customer")),
            *(SelectChoice(subject, subject) for subject in subjects),
        ]
    return set(subjects)


def fill_filter_choices(
    form: DealFilterForm, stages: list[PipelineStage], business_id: uuid.UUID
) -> None:
    """Offer every stage and every staff member as filters of the deal list."""
    with current_vault().unit_of_work(write=False) as uow:
        staff = staff_choices(uow, business_id)
    form.stage.choices = [SelectChoice("", _("Every stage")), *_stage_choices(stages)]
    form.owner.choices = [SelectChoice("", _("Everyone"))] + [
        SelectChoice(str(staff_id), name) for staff_id, name in staff
    ]


def _stage_choices(stages: list[PipelineStage]) -> list[SelectChoice]:
    return [SelectChoice(str(stage.id), stage_label(stage)) for stage in stages]


def list_filters(form: DealFilterForm) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """Return the stage and owner the list is filtered by; an unknown one filters nothing."""
    form.validate()
    stage = form.stage.data if not form.stage.errors else None
    owner = form.owner.data if not form.owner.errors else None
    return (uuid.UUID(stage) if stage else None, uuid.UUID(owner) if owner else None)


def form_data(view: DealView) -> dict[str, Any]:
    """Return the edit form's starting values from a deal."""
    return {
        "title": view.title,
        "details": view.details or "",
        "amount": f"{view.amount:.2f}" if view.amount is not None else "",
        "currency": view.currency or "",
        "expected_close": view.expected_close,
        "owner": str(view.owner_id) if view.owner_id else "",
        "stage": str(view.stage_id),
    }


def deal_fields(form: DealForm) -> DealFields | None:
    """Build the deal's changes from the form, or put each problem beside its field."""
    return _validated(form, DealFields)


def new_deal_in(form: NewDealForm) -> DealIn | None:
    """Build the new deal from the form, or put each problem beside its field."""
    return _validated(form, DealIn)


def _validated(form: DealForm, model: type[M]) -> M | None:
    try:
        amount = parse_amount(form.amount.data or "") if (form.amount.data or "").strip() else None
    except InvalidOperation:  # the form's own check already said so
        return None
    values: dict[str, Any] = {
        "title": form.title.data or "",
        "details": form.details.data if (form.details.data or "").strip() else None,
        "amount": amount,
        "currency": form.currency.data or None,
        "expected_close": form.expected_close.data,
        "owner_id": uuid.UUID(form.owner.data) if form.owner.data else None,
        "stage_id": uuid.UUID(form.stage.data) if form.stage.data else None,
    }
    if isinstance(form, NewDealForm):
        values["subject"] = form.subject.data or ""
    try:
        return model.model_validate(values)
    except ValidationError as error:
        for problem in error.errors(include_url=False, include_input=False):
            name = str(problem["loc"][0]) if problem["loc"] else _whole_deal_field(form, problem)
            place_problem(form, DealProblem(name, problem["type"]))
        return None


def _whole_deal_field(form: DealForm, problem: Any) -> str:
    # A rule over the whole deal: put the message where the fix is.
    if problem["type"] == "close_date_out_of_range":
        return "expected_close"
    return "currency" if form.amount.data and not form.currency.data else "amount"


def place_problem(form: DealForm, problem: DealProblem) -> None:
    """Show a problem beside the field it is about."""
    target = getattr(form, FORM_FIELD.get(problem.field, problem.field), None) or form.title
    target.errors = [*target.errors, problem_message(problem.code, problem.field)]


def json_wanted() -> bool:
    """Whether the caller (the board's script) asked for JSON rather than a page."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def move_answer(business_id: uuid.UUID, deal_id: uuid.UUID) -> dict[str, Any]:
    """Return what the board's script needs after a move: where the deal is, the new totals."""
    with current_vault().unit_of_work(write=False) as uow:
        view = deal_detail(uow, business_id, deal_id)
        totals = stage_totals(uow, business_id)
    stage = next(t.stage for t in totals if t.stage.id == view.stage_id)
    return {
        "ok": True,
        "deal_id": str(view.id),
        "stage_id": str(view.stage_id),
        "closed": view.closed_at is not None,
        "message": _(
            "“%(title)s” is now in %(stage)s.", title=view.title, stage=stage_label(stage)
        ),
        "totals": {str(t.stage.id): total_text(t) for t in totals},
    }
