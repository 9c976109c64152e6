"""Request templates and invites in words staff read, in the page's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from business_portal.requests.field_picker import INTERACTIONS_LABEL, mode_words
from business_portal.requests.forms import LEGAL_BASIS_WORDS
from business_portal.requests.services import InviteRow, TemplateRow
from schemas.agreements import INTERACTIONS, AgreementTerms
from vault.agreement_words import duration_words, field_label, frequency_words, purpose_words

INVITE_STATUS_WORDS: dict[str, LazyString] = {
    "active": _l("Active"),
    "expired": _l("Expired"),
    "disabled": _l("Switched off"),
}


@dataclass(frozen=True)
class FieldWords:
    """One asked-for field and what the business may do with it."""

    label: str
    mode: str


@dataclass(frozen=True)
class TermsWords:
    """A template's or an invite's terms, as staff read them."""

    purpose: str
    purpose_description: str
    legal_basis: str
    fields: list[FieldWords]
    duration: str
    retention: str
    frequency: str


def terms_words(terms: AgreementTerms) -> TermsWords:
    """Return terms in words."""
    fields = [
        FieldWords(
            str(INTERACTIONS_LABEL) if f.key == INTERACTIONS else field_label(f.key),
            str(mode_words(f.key).get(f.mode.value, f.mode.value)),
        )
        for f in terms.fields
    ]
    return TermsWords(
        purpose=purpose_words(terms.purpose.value),
        purpose_description=terms.purpose_description,
        legal_basis=str(LEGAL_BASIS_WORDS.get(terms.legal_basis.value, terms.legal_basis.value)),
        fields=fields,
        duration=duration_words(terms.duration),
        retention=duration_words(terms.retention),
        frequency=frequency_words(terms.frequency.value),
    )


@dataclass(frozen=True)
class TemplateWords:
    """A template as a page shows it."""

    id: str
    name: str
    archived: bool
    archived_at: datetime | None
    terms: TermsWords


def template_words(row: TemplateRow) -> TemplateWords:
    """Return a template in words."""
    return TemplateWords(
        str(row.id), row.name, row.archived_at is not None, row.archived_at, terms_words(row.terms)
    )


@dataclass(frozen=True)
class InviteWords:
    """An invite as a page shows it."""

    code: str
    label: str
    status: str
    status_words: str
    opened: int
    created_at: datetime
    expires_at: datetime | None
    expires: str
    url: str
    terms: TermsWords


def invite_words(row: InviteRow, url: str) -> InviteWords:
    """Return an invite in words; `url` is the link customers open."""
    return InviteWords(
        code=row.code,
        label=row.label,
        status=row.status,
        status_words=str(INVITE_STATUS_WORDS[row.status]),
        opened=row.opened,
        created_at=row.created_at,
        expires_at=row.expires_at,
        expires=format_datetime(row.expires_at, "medium") if row.expires_at else _("No end"),
        url=url,
        terms=terms_words(row.terms),
    )
