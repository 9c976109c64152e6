"""Automatic review flags of one agreement, computed from its terms and the access log.

The rules themselves are in `flag_rules`; this module gathers the figures they need with a
few grouped queries, all keyed by the agreement or by its business and client.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Text, cast, func, select

from business_portal.compliance.services import flag_rules as rules
from schemas.agreements import AgreementStatus, AgreementTerms
from vault.access_log.models import AccessEvent
from vault.agreements.models import Agreement
from vault.agreements.status import current_status
from vault.unit_of_work import UnitOfWork

ENDED_REFUSALS = ("denied:revoked", "denied:expired")


@dataclass(frozen=True)
class Flag:
    """One raised flag: `code` names the rule; the rest are the figures behind it."""

    code: str
    fields: tuple[str, ...] = ()
    count: int = 0
    actor: str | None = None
    day: str | None = None
    median: float | None = None
    last_at: datetime | None = None


def utc_day(column: Any, dialect: str) -> Any:
    """Return an SQL expression of a timestamp's UTC calendar day as 'YYYY-MM-DD'."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.substr(column, 1, 10)  # SQLite keeps UTC text, 'YYYY-MM-DD HH:MM:SS...'


def fields_used(uow: UnitOfWork, agreement: Agreement, since: datetime) -> dict[str, set[str]]:
    """Return, by kind of access, the fields the business touched under the agreement."""
    rows = uow.session.execute(
        select(AccessEvent.kind, cast(AccessEvent.fields, Text))
        .where(
            AccessEvent.agreement_id == agreement.id,
            AccessEvent.business_id == agreement.business_id,
            AccessEvent.outcome == "allowed",
            AccessEvent.at >= since,
        )
        .distinct()
    )
    used: dict[str, set[str]] = defaultdict(set)
    for kind, fields in rows:
        used[kind].update(json.loads(fields) if fields else [])
    return used


def daily_reads(
    uow: UnitOfWork, agreement: Agreement, actor: str, since: datetime
) -> dict[str, int]:
    """Return how many reads a client made per UTC day across its business."""
    day = utc_day(AccessEvent.at, uow.session.get_bind().dialect.name)
    rows = uow.session.execute(
        select(day, func.count())
        .where(
            AccessEvent.business_id == agreement.business_id,
            AccessEvent.actor == actor,
            AccessEvent.kind == "profile.read",
            AccessEvent.outcome == "allowed",
            AccessEvent.at >= since,
        )
        .group_by(day)
    )
    return {str(d): int(n) for d, n in rows}


def _readers(uow: UnitOfWork, agreement: Agreement, since: datetime) -> list[str]:
    return list(
        uow.session.scalars(
            select(AccessEvent.actor)
            .where(
                AccessEvent.agreement_id == agreement.id,
                AccessEvent.business_id == agreement.business_id,
                AccessEvent.kind == "profile.read",
                AccessEvent.outcome == "allowed",
                AccessEvent.at >= since,
            )
            .distinct()
            .order_by(AccessEvent.actor)
        )
    )


def _reads_after_end(uow: UnitOfWork, agreement: Agreement) -> Flag | None:
    count, last = uow.session.execute(
        select(func.count(), func.max(AccessEvent.at)).where(
            AccessEvent.agreement_id == agreement.id,
            AccessEvent.business_id == agreement.business_id,
            AccessEvent.outcome.in_(ENDED_REFUSALS),
        )
    ).one()
    return Flag("read_after_end", count=int(count), last_at=last) if count else None


def _unused(uow: UnitOfWork, agreement: Agreement, now: datetime) -> Flag | None:
    since = now - timedelta(days=rules.UNUSED_DAYS)
    active = current_status(agreement, now) is AgreementStatus.ACTIVE
    if not active or agreement.valid_from is None or agreement.valid_from > since:
        return None  # too young to judge, or no longer in use at all
    unused = rules.unused_fields(agreement.granted_fields, fields_used(uow, agreement, since))
    return Flag("unused_fields", tuple(unused)) if unused else None


def _volume(uow: UnitOfWork, agreement: Agreement, now: datetime) -> list[Flag]:
    since = now - timedelta(days=rules.VOLUME_DAYS)
    flags = []
    for actor in _readers(uow, agreement, since):
        spike = rules.volume_spike(daily_reads(uow, agreement, actor, since))
        if spike is not None:
            flags.append(
                Flag(
                    "unusual_volume",
                    count=spike.reads,
                    actor=actor,
                    day=spike.day,
                    median=spike.median,
                )
            )
    return flags


def agreement_flags(uow: UnitOfWork, agreement: Agreement) -> list[Flag]:
    """Return every flag the agreement raises now, in the order the rules are listed."""
    now = uow.now()
    terms = AgreementTerms.model_validate(agreement.terms)
    requested = list(terms.field_modes())
    flags: list[Flag] = []
    if rules.is_vague(terms.purpose_description):
        flags.append(Flag("vague_purpose"))
    excess = rules.excess_fields(terms.purpose.value, requested)
    if excess:
        flags.append(Flag("excess_fields", tuple(excess)))
    sensitive = rules.sensitive_fields(requested)
    if sensitive:
        flags.append(Flag("sensitive_fields", tuple(sensitive)))
    for found in (_unused(uow, agreement, now), _reads_after_end(uow, agreement)):
        if found is not None:
            flags.append(found)
    flags.extend(_volume(uow, agreement, now))
    return flags
