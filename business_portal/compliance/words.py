"""The console's words: statuses, events, flags and changes as an officer reads them.

The customer's pages speak to the customer ("you shared"); these speak about the agreement,
in the page's language. Purposes, durations and field labels are the vault's own words.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask_babel import format_datetime, get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from business_portal.compliance.services.diff import Change
from business_portal.compliance.services.flag_rules import SENSITIVE_FIELDS
from business_portal.compliance.services.flags import Flag
from schemas.agreements import INTERACTIONS
from schemas.choice_labels import pick_locale
from schemas.field_catalogue import FIELD_CATALOGUE, GROUP_LABELS, FieldGroup
from vault.agreement_words import (
    country_name,
    duration_words,
    frequency_words,
    listing,
    mode_words,
    purpose_words,
)

__all__ = [
    "ACCESS_KIND_WORDS",
    "EVENT_WORDS",
    "FLAG_TITLES",
    "JOB_WORDS",
    "RECEIPT_WORDS",
    "REPORT_WORDS",
    "REVIEW_KIND_WORDS",
    "REVIEW_WORDS",
    "SENSITIVE_FIELDS",
    "STATUS_WORDS",
    "actor_words",
    "change_words",
    "country_name",
    "duration_words",
    "field_list",
    "field_words",
    "flag_titles",
    "flag_words",
    "frequency_words",
    "group_words",
    "legal_basis_words",
    "listing",
    "mode_words",
    "outcome_words",
    "purpose_words",
    "status_words",
]

STATUS_WORDS: dict[str, Any] = {
    "requested": _l("Requested"),
    "active": _l("Active"),
    "declined": _l("Declined"),
    "revoked": _l("Revoked"),
    "expired": _l("Expired"),
    "superseded": _l("Superseded"),
}
REVIEW_WORDS: dict[str, Any] = {
    "not_reviewed": _l("Not reviewed"),
    "in_review": _l("In review"),
    "changes_requested": _l("Changes requested"),
    "signed_off": _l("Signed off"),
}
REVIEW_KIND_WORDS: dict[str, Any] = {
    "comment": _l("Comment"),
    "change_requested": _l("Change requested"),
    "signed_off": _l("Signed off"),
}
EVENT_WORDS: dict[str, Any] = {
    "requested": _l("Requested by the business"),
    "granted": _l("Granted by the customer"),
    "declined": _l("Declined by the customer"),
    "revoked": _l("Revoked by the customer"),
    "narrowed": _l("Fields withdrawn by the customer"),
    "restricted": _l("Paused by the customer"),
    "resumed": _l("Resumed by the customer"),
    "superseded": _l("Superseded by an amendment"),
    "expired": _l("Term ran out"),
    "erased": _l("Ended by the customer's account deletion"),
}
RECEIPT_WORDS: dict[str, Any] = {
    "granted": _l("Every field granted"),
    "partially_granted": _l("Some fields granted"),
    "declined": _l("Declined"),
    "amended": _l("Amendment accepted"),
    "revoked": _l("Revoked"),
    "narrowed": _l("Fields withdrawn"),
}
ACCESS_KIND_WORDS: dict[str, Any] = {
    "profile.read": _l("Read profile fields"),
    "profile.write": _l("Updated a profile field"),
    "interaction.read": _l("Read interactions"),
    "interaction.append": _l("Added an interaction"),
}
REFUSAL_WORDS: dict[str, Any] = {
    "revoked": _l("refused: the agreement was revoked"),
    "expired": _l("refused: the agreement had expired"),
    "restricted": _l("refused: the customer had paused the agreement"),
    "declined": _l("refused: the request was declined"),
    "requested": _l("refused: the request was not answered yet"),
    "superseded": _l("refused: an amendment had replaced the agreement"),
    "not_granted": _l("refused: a field was not granted"),
    "no_agreement": _l("refused: no such agreement for this business"),
}
REPORT_WORDS: dict[str, Any] = {
    "processing": _l("Records of processing"),
    "access": _l("Access report"),
}
JOB_WORDS: dict[str, Any] = {
    "queued": _l("Waiting to start"),
    "running": _l("Being made"),
    "done": _l("Ready"),
    "failed": _l("Failed"),
}
FLAG_TITLES: dict[str, Any] = {
    "vague_purpose": _l("Vague purpose"),
    "excess_fields": _l("More fields than the purpose needs"),
    "sensitive_fields": _l("Sensitive fields"),
    "unused_fields": _l("Granted but not used"),
    "read_after_end": _l("Reads after the end"),
    "unusual_volume": _l("Unusual pull volume"),
}
LEGAL_BASIS_WORDS: dict[str, Any] = {
    "consent": _l("Consent (GDPR Art. 6(1)(a))"),
    "contract": _l("A contract with the customer (GDPR Art. 6(1)(b))"),
    "legal_obligation": _l("A legal obligation (GDPR Art. 6(1)(c))"),
    "legitimate_interest": _l("Legitimate interest (GDPR Art. 6(1)(f))"),
}


def _word(words: Mapping[str, Any], code: object) -> str:
    # An unknown code (newer data than these words) shows as itself, never as an error.
    found = words.get(str(code))
    return str(found) if found is not None else str(code)


def status_words(status: str, restricted: bool = False) -> str:
    """Return an agreement's status in words (a paused active agreement says so)."""
    return _("Paused") if status == "active" and restricted else _word(STATUS_WORDS, status)


def legal_basis_words(code: object) -> str:
    """Return a legal basis with its GDPR article."""
    return _word(LEGAL_BASIS_WORDS, code)


def outcome_words(outcome: str) -> str:
    """Return an access's outcome: allowed, or why it was refused."""
    if outcome == "allowed":
        return _("allowed")
    return _word(REFUSAL_WORDS, outcome.removeprefix("denied:"))


def field_words(key: str) -> str:
    """Return a field's label in the page's language."""
    if key == INTERACTIONS:
        return _("Interactions with the business")
    spec = FIELD_CATALOGUE.get(key)
    return spec.label(str(get_locale() or "en")) if spec else key


def group_words(group: str) -> str:
    """Return a category of data (a catalogue group) in words."""
    if group == "interactions":
        return _("Interactions with the business")
    try:
        return pick_locale(GROUP_LABELS[FieldGroup(group)], str(get_locale() or "en"))
    except (KeyError, ValueError):
        return group


def actor_words(actor: str, names: Mapping[str, str] | None = None) -> str:
    """Return who acted, by role and name; never a customer's id."""
    kind, _sep, _key = actor.partition(":")
    name = (names or {}).get(actor)
    if kind == "customer":
        return _("The customer")
    if kind == "staff":
        return _("Staff member %(name)s", name=name) if name else _("A staff member")
    if kind == "client":
        return _("API client %(name)s", name=name) if name else _("An API client")
    if kind == "business":
        return _("The business")
    if kind == "auditor":
        return _("Auditor")
    if kind == "operator":
        return _("Operator")
    return _("Emanet (automatically)")


def _fields(keys: tuple[str, ...]) -> str:
    return listing(field_words(k) for k in keys)


def _flag_detail(flag: Flag, names: Mapping[str, str] | None) -> str:
    if flag.code == "vague_purpose":
        return _(
            "The description is empty or says little beyond generic phrases such as "
            "“marketing” or “improve services”."
        )
    if flag.code == "excess_fields":
        return _("Not usually needed for this purpose: %(fields)s.", fields=_fields(flag.fields))
    if flag.code == "sensitive_fields":
        return _("Asks for: %(fields)s.", fields=_fields(flag.fields))
    if flag.code == "unused_fields":
        return _("Not used in the last 90 days: %(fields)s.", fields=_fields(flag.fields))
    if flag.code == "read_after_end":
        return ngettext(
            "%(num)s read was tried after revocation or expiry.",
            "%(num)s reads were tried after revocation or expiry.",
            flag.count,
        )
    if flag.code == "unusual_volume":
        return _(
            "%(who)s read %(reads)s times on %(day)s; its usual day is %(median)s.",
            who=actor_words(flag.actor or "", names),
            reads=flag.count,
            day=flag.day,
            median=f"{flag.median:g}" if flag.median is not None else "0",
        )
    return ""


def flag_titles(codes: list[str]) -> str:
    """Return flags' titles as one list in words."""
    return listing(_word(FLAG_TITLES, code) for code in codes)


def field_list(keys: Mapping[str, object] | list[str]) -> str:
    """Return fields' labels as one list in words."""
    return listing(field_words(key) for key in keys)


def flag_words(flag: Flag, names: Mapping[str, str] | None = None) -> tuple[str, str]:
    """Return a flag's title and what it is based on."""
    return _word(FLAG_TITLES, flag.code), _flag_detail(flag, names)


def _value(code: str, value: str | None) -> str:
    if value is None:
        return "—"
    if code == "purpose":
        return purpose_words(value)
    if code in ("duration", "retention"):
        return duration_words(value)
    if code == "legal_basis":
        return legal_basis_words(value)
    if code == "frequency":
        return frequency_words(value)
    if code == "status":
        return status_words(value)
    if code in ("valid_from", "valid_until"):
        try:
            return str(format_datetime(datetime.fromisoformat(value), "medium"))
        except ValueError:
            return value
    return value


def change_words(change: Change) -> str:
    """Return one change between two versions as a sentence."""
    code, key = change.code, change.key or ""
    if code.endswith("_added"):
        if code == "third_party_added":
            return _("Recipient added: %(name)s", name=change.after)
        words = (
            _("Asks for %(field)s (%(mode)s)")
            if code == "field_added"
            else _("Granted %(field)s (%(mode)s)")
        )
        return words % {"field": field_words(key), "mode": mode_words(change.after)}
    if code.endswith("_removed"):
        if code == "third_party_removed":
            return _("Recipient removed: %(name)s", name=change.before)
        words = (
            _("No longer asks for %(field)s")
            if code == "field_removed"
            else _("Withdrawn: %(field)s")
        )
        return words % {"field": field_words(key)}
    if code.endswith("_mode"):
        return _(
            "Access to %(field)s: %(before)s → %(after)s",
            field=field_words(key),
            before=mode_words(change.before),
            after=mode_words(change.after),
        )
    if code == "restricted":
        return _("Paused") if change.after == "True" else _("Resumed")
    label = _word(CHANGE_LABELS, code)
    return _(
        "%(what)s: %(before)s → %(after)s",
        what=label,
        before=_value(code, change.before),
        after=_value(code, change.after),
    )


CHANGE_LABELS: dict[str, Any] = {
    "purpose": _l("Purpose"),
    "purpose_description": _l("Purpose description"),
    "legal_basis": _l("Legal basis"),
    "duration": _l("Term"),
    "retention": _l("Retention"),
    "frequency": _l("Frequency"),
    "status": _l("Status"),
    "valid_from": _l("Valid from"),
    "valid_until": _l("Valid until"),
}
