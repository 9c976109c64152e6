"""One timeline of a customer, newest first: interactions, deals, tasks, notes, agreement events.

Built from services.CardFacts in the page's language. Interactions are those the gate gave
back (what this business logged, and only under an agreement that lets it read them); the
rest are the business's own records and the history of its agreements with the customer.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from babel.lists import format_list
from flask_babel import format_date, get_locale
from flask_babel import gettext as _

from business_portal.card.records import DealFacts, TaskFacts
from business_portal.card.screens import field_label, moment, money
from business_portal.card.services import CardFacts, EventFacts
from business_portal.notes.services import NoteRecord
from schemas.agreements import INTERACTIONS
from schemas.field_catalogue import FIELD_CATALOGUE
from schemas.interactions import InteractionKind
from vault.agreement_words import event_words, purpose_words
from vault.interactions.services import InteractionRecord
from vault.timeline_forms import KIND_WORDS

__all__ = ["TIMELINE_LIMIT", "TimelineItem", "timeline_items"]

# The newest entries a card shows; older ones stay in their own lists and in the vault.
TIMELINE_LIMIT = 150


@dataclass(frozen=True)
class TimelineItem:
    """One entry of the timeline: when, what kind, what happened, where to see more."""

    at: datetime
    when: str
    kind: str  # interaction, deal, task, note or agreement (a CSS class and a sort key)
    kind_words: str
    text: str
    detail: str | None = None
    amount: str | None = None
    link: str | None = None


def _when(at: datetime) -> str:
    return moment(at)


def _interactions(records: Iterable[InteractionRecord]) -> Iterator[TimelineItem]:
    for record in records:
        words = str(KIND_WORDS.get(record.kind, record.kind.value))
        yield TimelineItem(
            at=record.occurred_at,
            when=_when(record.occurred_at),
            kind="interaction",
            kind_words=words,
            text=record.summary or words,
            detail=record.details,
            amount=money(record.amount, record.currency),
        )


def _deals(
    deals: Iterable[DealFacts], link: Callable[[uuid.UUID], str | None]
) -> Iterator[TimelineItem]:
    kind = _("Deal")
    for deal in deals:
        amount = money(deal.amount, deal.currency)
        yield TimelineItem(
            deal.created_at,
            _when(deal.created_at),
            "deal",
            kind,
            _("Deal opened: %(title)s", title=deal.title),
            amount=amount,
            link=link(deal.id),
        )
        if deal.closed_at is not None and deal.outcome in ("won", "lost"):
            text = (
                _("Deal won: %(title)s", title=deal.title)
                if deal.outcome == "won"
                else _("Deal lost: %(title)s", title=deal.title)
            )
            yield TimelineItem(
                deal.closed_at, _when(deal.closed_at), "deal", kind, text, link=link(deal.id)
            )


def _tasks(tasks: Iterable[TaskFacts], link: str | None) -> Iterator[TimelineItem]:
    kind = _("Task")
    for task in tasks:
        due = _("Due %(date)s", date=format_date(task.due_on, "medium"))
        added = _("Task added: %(title)s", title=task.title)
        yield TimelineItem(
            task.created_at, _when(task.created_at), "task", kind, added, due, link=link
        )
        if task.done_at is not None:
            done = _("Task done: %(title)s", title=task.title)
            yield TimelineItem(task.done_at, _when(task.done_at), "task", kind, done, link=link)


def _notes(notes: Iterable[NoteRecord]) -> Iterator[TimelineItem]:
    kind = str(KIND_WORDS[InteractionKind.NOTE])
    for note in notes:
        by = _("By %(name)s", name=note.author) if note.author else None
        yield TimelineItem(note.created_at, _when(note.created_at), "note", kind, note.body, by)


def _event_text(event: EventFacts) -> str:
    if event.kind == "requested":
        return _("Change requested") if event.amendment else _("Request sent")
    if event.kind == "granted" and event.amendment:
        return _("Change accepted")
    return event_words(event.kind)


def _events(events: Iterable[EventFacts]) -> Iterator[TimelineItem]:
    kind = _("Agreement")
    locale = str(get_locale() or "en")
    for event in events:
        detail = purpose_words(event.purpose)
        if event.kind in ("granted", "narrowed") and event.granted:
            keys = [k for k in [*FIELD_CATALOGUE, INTERACTIONS] if k in event.granted]
            shared = format_list([field_label(k) for k in keys], locale=locale)
            detail = _("%(purpose)s. Shares: %(fields)s", purpose=detail, fields=shared)
        yield TimelineItem(event.at, _when(event.at), "agreement", kind, _event_text(event), detail)


def timeline_items(
    facts: CardFacts,
    deal_link: Callable[[uuid.UUID], str | None],
    task_link: str | None,
    limit: int = TIMELINE_LIMIT,
) -> tuple[list[TimelineItem], bool]:
    """Return the newest entries first (at most `limit`) and whether older ones were left out."""
    items = [
        *_interactions(facts.interactions or []),
        *_deals(facts.deals, deal_link),
        *_tasks(facts.tasks, task_link),
        *_notes(facts.notes),
        *_events(facts.events),
    ]
    # Agreement events are listed in the order they happened; reversed before the stable
    # sort, the later of two events at the same moment comes first.
    items.reverse()
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit], len(items) > limit
