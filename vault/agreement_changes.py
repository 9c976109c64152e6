"""What an amendment changes, in words: compared with the agreement it would replace."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask_babel import gettext as _

from schemas.agreements import AgreementTerms
from schemas.durations import CalendarDuration
from vault.agreement_words import (
    duration_words,
    field_label,
    frequency_words,
    legal_basis_words,
    listing,
    mode_words,
    purpose_words,
)

__all__ = ["amendment_changes"]


def _labels(keys: Iterable[str]) -> str:
    return listing(field_label(key) for key in keys)


def _longer(after: CalendarDuration, before: CalendarDuration) -> int:
    return after.approximate_days() - before.approximate_days()


def amendment_changes(
    new: AgreementTerms, old: AgreementTerms, old_granted: Mapping[str, str]
) -> list[str]:
    """Say what an amendment changes compared with the agreement it would replace."""
    asked = {f.key: f.mode.value for f in new.fields}
    changes = []
    added = [key for key in asked if key not in old_granted]
    if added:
        changes.append(_("Also asks for: %(fields)s", fields=_labels(added)))
    moved = [key for key in asked if key in old_granted and old_granted[key] != asked[key]]
    for key in moved:
        changes.append(
            _(
                "Different access to %(field)s: %(before)s → %(after)s",
                field=field_label(key),
                before=mode_words(old_granted[key]),
                after=mode_words(asked[key]),
            )
        )
    dropped = [key for key in old_granted if key not in asked]
    if dropped:
        changes.append(_("No longer asks for: %(fields)s", fields=_labels(dropped)))
    changes.extend(_term_changes(new, old))
    if not changes:
        changes.append(_("The same fields and terms as your current agreement, renewed."))
    return changes


def _term_changes(new: AgreementTerms, old: AgreementTerms) -> list[str]:
    changes = []
    if new.purpose != old.purpose:
        changes.append(
            _(
                "A different purpose: %(before)s → %(after)s",
                before=purpose_words(old.purpose.value),
                after=purpose_words(new.purpose.value),
            )
        )
    span = {"before": duration_words(old.duration), "after": duration_words(new.duration)}
    if _longer(new.duration, old.duration) > 0:
        changes.append(_("A longer term: %(before)s → %(after)s", **span))
    elif _longer(new.duration, old.duration) < 0:
        changes.append(_("A shorter term: %(before)s → %(after)s", **span))
    kept = {"before": duration_words(old.retention), "after": duration_words(new.retention)}
    if _longer(new.retention, old.retention) > 0:
        changes.append(_("Keeps what it pulled for longer: %(before)s → %(after)s", **kept))
    elif _longer(new.retention, old.retention) < 0:
        changes.append(_("Keeps what it pulled for less time: %(before)s → %(after)s", **kept))
    if new.legal_basis != old.legal_basis:
        changes.append(
            _(
                "A different legal basis: %(before)s → %(after)s",
                before=legal_basis_words(old.legal_basis.value),
                after=legal_basis_words(new.legal_basis.value),
            )
        )
    if new.frequency != old.frequency:
        changes.append(
            _(
                "A different reading frequency: %(before)s → %(after)s",
                before=frequency_words(old.frequency.value),
                after=frequency_words(new.frequency.value),
            )
        )
    before = {party.name for party in old.third_parties}
    after = {party.name for party in new.third_parties}
    if after - before:
        changes.append(
            _("Also passes your data to: %(names)s", names=listing(sorted(after - before)))
        )
    if before - after:
        changes.append(
            _("No longer passes your data to: %(names)s", names=listing(sorted(before - after)))
        )
    return changes
