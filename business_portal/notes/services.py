"""Notes and tags: what staff write about a customer and the labels they filter by.

Plain functions over a unit of work. A note's body is the business's own text, sealed under
its key (records.keys); a tag is the business's short vocabulary and stays clear so the
customer list can filter on it. A customer is named only by the pairwise id (`subject`),
and only a customer connected now can be written about.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from broker.businesses.models import StaffUser
from business_portal.records.connections import visible_subjects
from business_portal.records.keys import business_cipher
from business_portal.records.models import CustomerTag, Note
from schemas.text_types import MultilineText, Tag
from vault.unit_of_work import UnitOfWork

TABLE = "notes"
NOTE_LIMIT = 5000
TAG_LIMIT = 40
__all__ = [
    "NotConnectedError",
    "NoteInputError",
    "NoteRecord",
    "add_note",
    "add_tag",
    "customer_notes",
    "customer_tags",
    "remove_tag",
]

_NOTE_BODY: TypeAdapter[str] = TypeAdapter(MultilineText)
_TAG: TypeAdapter[str] = TypeAdapter(Tag)


class NotConnectedError(LookupError):
    """No customer with this pairwise id is connected to the business now."""


class NoteInputError(ValueError):
    """A note body or a tag is not accepted; `code` says why (a schemas.text_types code)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class NoteRecord:
    """A note, opened, with who wrote it."""

    id: uuid.UUID
    body: str
    author: str | None
    created_at: datetime


def _connected(uow: UnitOfWork, business_id: uuid.UUID, subject: str) -> None:
    if not visible_subjects(uow, business_id, {subject}):
        raise NotConnectedError(subject)


def _checked(adapter: TypeAdapter[str], raw: str) -> str:
    try:
        return adapter.validate_python(raw)
    except ValidationError as error:
        raise NoteInputError(error.errors()[0]["type"]) from None


def add_note(
    uow: UnitOfWork,
    business_id: uuid.UUID,
    subject: str,
    body: str,
    *,
    author_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Write a note about a connected customer, sealed under the business key; commit."""
    text = _checked(_NOTE_BODY, body)
    _connected(uow, business_id, subject)
    note_id = uuid.uuid4()
    cipher = business_cipher(uow, business_id)
    uow.session.add(
        Note(
            id=note_id,
            business_id=business_id,
            subject=subject,
            sealed=cipher.seal(TABLE, note_id, {"body": text}),
            author_id=author_id,
            created_at=uow.now(),
        )
    )
    uow.commit()
    return note_id


def customer_notes(uow: UnitOfWork, business_id: uuid.UUID, subject: str) -> list[NoteRecord]:
    """Return the business's notes about a customer, newest first, opened."""
    rows = uow.session.execute(
        select(Note, StaffUser.display_name)
        .outerjoin(StaffUser, StaffUser.id == Note.author_id)
        .where(Note.business_id == business_id, Note.subject == subject)
        .order_by(Note.created_at.desc(), Note.id)
    ).all()
    if not rows:
        return []
    cipher = business_cipher(uow, business_id)
    return [
        NoteRecord(
            note.id, str(cipher.open(TABLE, note.id, note.sealed)["body"]), name, note.created_at
        )
        for note, name in rows
    ]


def customer_tags(uow: UnitOfWork, business_id: uuid.UUID, subject: str) -> list[str]:
    """Return the customer's tags in alphabetical order (ignoring case)."""
    tags = uow.session.scalars(
        select(CustomerTag.tag).where(
            CustomerTag.business_id == business_id, CustomerTag.subject == subject
        )
    )
    return sorted(tags, key=lambda tag: (tag.casefold(), tag))


def add_tag(uow: UnitOfWork, business_id: uuid.UUID, subject: str, raw: str) -> str:
    """Tag a connected customer and commit; return the tag as stored.

    Tags are one vocabulary whatever the case: a tag the customer already has in another
    case is kept as it was, and nothing is written.
    """
    tag = _checked(_TAG, raw)
    _connected(uow, business_id, subject)
    for existing in customer_tags(uow, business_id, subject):
        if existing.casefold() == tag.casefold():
            uow.rollback()
            return existing
    try:
        uow.session.add(
            CustomerTag(business_id=business_id, subject=subject, tag=tag, created_at=uow.now())
        )
        uow.commit()
    except IntegrityError:  # the same tag, added by another request a moment ago
        uow.rollback()
    return tag


def remove_tag(uow: UnitOfWork, business_id: uuid.UUID, subject: str, tag: str) -> bool:
    """Take a tag off a connected customer; return whether it was there; commit."""
    _connected(uow, business_id, subject)
    removed = uow.session.execute(
        delete(CustomerTag).where(
            CustomerTag.business_id == business_id,
            CustomerTag.subject == subject,
            CustomerTag.tag == tag,
        )
    ).rowcount
    uow.commit()
    return bool(removed)
