"""Agreement terms in words a person reads, in the page's language.

The inbox, the consent screen and the connection pages show the same terms; they all take
their words from here, so a purpose, a term or a status reads the same on every page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from babel.lists import format_list
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from schemas.agreements import INTERACTIONS, AgreementTerms
from schemas.durations import CalendarDuration
from schemas.field_catalogue import FIELD_CATALOGUE, Sensitivity

__all__ = [
    "BusinessView",
    "FieldRow",
    "TermsView",
    "actor_words",
    "business_view",
    "country_name",
    "decision_words",
    "duration_words",
    "event_words",
    "field_label",
    "field_rows",
    "frequency_words",
    "legal_basis_words",
    "listing",
    "mode_words",
    "purpose_words",
    "receipt_words",
    "status_words",
    "terms_view",
]


def _locale() -> str:
    return str(get_locale() or "en")


def _pick(words: Mapping[str, str], code: object) -> str:
    # An unknown code (a newer schema than these words) shows as itself, never as an error.
    return words.get(str(code), str(code))


# Lazy, built once: a page of the access log asks for a purpose on every row.
PURPOSE_WORDS = {
    "ServiceProvision": _l("Providing the service"),
    "CustomerCare": _l("Customer care"),
    "Marketing": _l("Marketing"),
    "Personalisation": _l("Personalisation"),
    "Delivery": _l("Delivery"),
    "LoyaltyProgram": _l("Loyalty programme"),
    "Billing": _l("Billing"),
    "ServiceOptimisation": _l("Improving the service"),
}


def purpose_words(code: object) -> str:
    """Return a purpose code (DPV) as a short phrase: CustomerCare → "Customer care"."""
    words = PURPOSE_WORDS.get(str(code))
    return str(words) if words is not None else str(code)


def legal_basis_words(code: object) -> str:
    """Return the GDPR Art. 6(1) ground the business relies on, in words."""
    return _pick(
        {
            "consent": _("Your consent"),
            "contract": _("A contract with you"),
            "legal_obligation": _("A legal obligation"),
            "legitimate_interest": _("Their legitimate interest"),
        },
        code,
    )


def frequency_words(code: object) -> str:
    """Return how often the business reads, in words."""
    return _pick(
        {"ongoing": _("Whenever needed while it lasts"), "one_off": _("Once")},
        code,
    )


def mode_words(mode: object) -> str:
    """Return an access mode in words."""
    return _pick(
        {"read": _("read"), "write": _("read and update"), "append": _("add entries")}, mode
    )


def duration_words(duration: CalendarDuration | str) -> str:
    """Return an ISO 8601 duration in words: P1Y → "1 year", P1Y6M → "1 year and 6 months"."""
    span = duration if isinstance(duration, CalendarDuration) else CalendarDuration.parse(duration)
    parts = [
        ngettext("%(num)s year", "%(num)s years", span.years) if span.years else "",
        ngettext("%(num)s month", "%(num)s months", span.months) if span.months else "",
        ngettext("%(num)s week", "%(num)s weeks", span.weeks) if span.weeks else "",
        ngettext("%(num)s day", "%(num)s days", span.days) if span.days else "",
    ]
    return listing(part for part in parts if part) or ngettext("%(num)s day", "%(num)s days", 0)


def listing(items: Iterable[str]) -> str:
    """Join words as the page language lists them: "a, b and c"."""
    words = list(items)
    return format_list(words, locale=_locale()) if words else ""


def status_words(status: str, restricted: bool = False) -> str:
    """Return an agreement's status in words (a paused active agreement says so)."""
    if status == "active" and restricted:
        return _("Paused")
    return _pick(
        {
            "requested": _("Waiting for your answer"),
            "active": _("Active"),
            "declined": _("Declined"),
            "revoked": _("Revoked"),
            "expired": _("Expired"),
            "superseded": _("Replaced by a newer agreement"),
        },
        status,
    )


def event_words(kind: str) -> str:
    """Return what an agreement event records, in words."""
    return _pick(
        {
            "requested": _("Asked for your data"),
            "granted": _("Sharing started"),
            "declined": _("Request declined"),
            "revoked": _("Revoked"),
            "narrowed": _("Fields taken out"),
            "restricted": _("Sharing paused"),
            "resumed": _("Sharing resumed"),
            "superseded": _("Replaced by a newer agreement"),
            "expired": _("Term ran out"),
            "erased": _("Ended when the account was deleted"),
        },
        kind,
    )


def receipt_words(kind: str) -> str:
    """Return which decision a receipt records, in words."""
    return _pick(
        {
            "granted": _("You shared every field asked for"),
            "partially_granted": _("You shared some of the fields"),
            "declined": _("You declined"),
            "amended": _("You accepted a change"),
            "revoked": _("You revoked"),
            "narrowed": _("You took fields out"),
        },
        kind,
    )


def decision_words(business_name: str, shared: int) -> str:
    """Say what the customer's answer to a request did (nothing shared means declined)."""
    if not shared:
        return _("You declined %(name)s's request. Nothing was shared.", name=business_name)
    return ngettext(
        "You now share %(num)s field with %(name)s.",
        "You now share %(num)s fields with %(name)s.",
        shared,
        name=business_name,
    )


def actor_words(actor: str, business_name: str) -> str:
    """Return who acted, in words; never an internal id."""
    who = actor.split(":", 1)[0]
    if who == "customer":
        return _("You")
    if who in ("business", "client", "staff"):
        return business_name
    return _("Emanet (automatically)")


def field_label(key: str) -> str:
    """Return a field's label in the page language."""
    if key == INTERACTIONS:
        return _("Your interactions with this business")
    spec = FIELD_CATALOGUE.get(key)
    return spec.label(_locale()) if spec else key


def country_name(code: str) -> str:
    """Return a country's name in the page language (the code if it has none)."""
    locale = get_locale()
    return locale.territories.get(code.upper(), code) if locale else code


@dataclass(frozen=True)
class FieldRow:
    """One field of an agreement as a page shows it."""

    key: str
    label: str
    mode: str
    mode_words: str
    sensitive: bool


def field_rows(modes: Mapping[str, object]) -> list[FieldRow]:
    """Return fields (key → mode) as rows, in the order given."""
    rows = []
    for key, mode in modes.items():
        spec = FIELD_CATALOGUE.get(key)
        rows.append(
            FieldRow(
                key=key,
                label=field_label(key),
                mode=str(mode),
                mode_words=mode_words(mode),
                sensitive=bool(spec and spec.sensitivity is Sensitivity.HIGH),
            )
        )
    return rows


@dataclass(frozen=True)
class TermsView:
    """An agreement's terms in words."""

    purpose: str
    purpose_description: str
    legal_basis: str
    duration: str
    frequency: str
    retention: str
    third_parties: list[str]
    fields: list[FieldRow]


def terms_view(terms: AgreementTerms) -> TermsView:
    """Return the terms as a page shows them."""
    return TermsView(
        purpose=purpose_words(terms.purpose.value),
        purpose_description=terms.purpose_description,
        legal_basis=legal_basis_words(terms.legal_basis.value),
        duration=duration_words(terms.duration),
        frequency=frequency_words(terms.frequency.value),
        retention=duration_words(terms.retention),
        third_parties=[
            _(
                "%(name)s (%(country)s, %(role)s)",
                name=party.name,
                country=country_name(party.country),
                role=party.role,
            )
            for party in terms.third_parties
        ],
        fields=field_rows({f.key: f.mode.value for f in terms.fields}),
    )


@dataclass(frozen=True)
class BusinessView:
    """The business as the customer was shown it (the agreement's snapshot)."""

    name: str
    country: str
    privacy_email: str
    privacy_address: str
    policy_url: str
    policy_href: str | None  # only a web address becomes a link


def business_view(snapshot: Mapping[str, Any]) -> BusinessView:
    """Return the business snapshot kept with an agreement, with its country in words."""
    policy = str(snapshot.get("policy_url", ""))
    return BusinessView(
        name=str(snapshot.get("legal_name", "")),
        country=country_name(str(snapshot.get("country", ""))),
        privacy_email=str(snapshot.get("privacy_email", "")),
        privacy_address=str(snapshot.get("privacy_address", "")),
        policy_url=policy,
        policy_href=policy if policy.lower().startswith(("https://", "http://")) else None,
    )
