"""What changed between two versions of an agreement, from the state kept with each event.

Every agreement event keeps the agreement's state after it (DESIGN invariant 9), and an
amendment is a new agreement that supersedes the old one; walking both gives every version.
Changes are codes and raw values here; the page puts them into words. The customer's id in
a snapshot is never compared or returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Terms compared as plain values, in the order a reader expects them.
TERM_KEYS = ("purpose", "purpose_description", "legal_basis", "duration", "retention", "frequency")
# What belongs to one agreement only, so does not carry over into its amendment.
AGREEMENT_OWN = ("status", "restricted", "valid_from", "valid_until")
REQUESTED = "requested"


@dataclass(frozen=True)
class Change:
    """One difference: `code` says what kind, `key` names a field when there is one."""

    code: str
    key: str | None = None
    before: str | None = None
    after: str | None = None


@dataclass(frozen=True)
class Snapshot:
    """An agreement's state right after one of its events."""

    agreement_id: str
    event_id: int
    kind: str
    actor: str
    at: Any
    state: Mapping[str, Any]


@dataclass(frozen=True)
class Version:
    """A snapshot and what changed since the one before it."""

    snapshot: Snapshot
    number: int
    new_agreement: bool  # the first snapshot of an amendment (or of the whole chain)
    changes: list[Change] = field(default_factory=list)


def _modes(fields: Any) -> dict[str, str]:
    if isinstance(fields, Mapping):
        return {str(k): str(v) for k, v in fields.items()}
    return {str(f.get("key")): str(f.get("mode", "read")) for f in fields or []}


def _field_changes(before: dict[str, str], after: dict[str, str], prefix: str) -> list[Change]:
    changes = [Change(f"{prefix}_added", k, None, m) for k, m in after.items() if k not in before]
    changes += [
        Change(f"{prefix}_removed", k, m, None) for k, m in before.items() if k not in after
    ]
    changes += [
        Change(f"{prefix}_mode", k, before[k], m)
        for k, m in after.items()
        if k in before and before[k] != m
    ]
    return changes


def _third_parties(terms: Mapping[str, Any]) -> dict[str, str]:
    return {
        str(p.get("name")): f"{p.get('country', '')} {p.get('role', '')}".strip()
        for p in terms.get("third_parties") or []
    }


def terms_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Return how the terms asked for changed: fields, purpose, words, periods, recipients."""
    changes = _field_changes(_modes(old.get("fields")), _modes(new.get("fields")), "field")
    for key in TERM_KEYS:
        if old.get(key) != new.get(key):
            changes.append(Change(key, None, _text(old.get(key)), _text(new.get(key))))
    parties_before, parties_after = _third_parties(old), _third_parties(new)
    changes += [
        Change("third_party_added", None, None, n) for n in parties_after if n not in parties_before
    ]
    changes += [
        Change("third_party_removed", None, n, None)
        for n in parties_before
        if n not in parties_after
    ]
    return changes


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def state_changes(
    old: Mapping[str, Any], new: Mapping[str, Any], granted_before: Mapping[str, str]
) -> list[Change]:
    """Return the differences between two states; granted fields are compared with the last
    decided set (`granted_before`), since a request waiting for an answer grants nothing."""
    changes = terms_changes(old.get("terms") or {}, new.get("terms") or {})
    if new.get("status") != REQUESTED:
        changes += _field_changes(
            dict(granted_before), _modes(new.get("granted_fields")), "granted"
        )
    for key in AGREEMENT_OWN:
        if old.get(key) != new.get(key):
            changes.append(Change(key, None, _text(old.get(key)), _text(new.get(key))))
    return changes


def versions(snapshots: list[Snapshot]) -> list[Version]:
    """Return each snapshot (chain order, oldest first) with what changed since the last."""
    result: list[Version] = []
    previous: Snapshot | None = None
    granted: dict[str, str] = {}
    for number, snapshot in enumerate(snapshots, start=1):
        new_agreement = previous is None or previous.agreement_id != snapshot.agreement_id
        changes = [] if previous is None else state_changes(previous.state, snapshot.state, granted)
        if new_agreement and previous is not None:
            # Across an amendment the old agreement's end is not a change of the new one.
            changes = [c for c in changes if c.code not in AGREEMENT_OWN]
        if snapshot.state.get("status") != REQUESTED:
            granted = _modes(snapshot.state.get("granted_fields"))
        result.append(Version(snapshot, number, new_agreement, changes))
        previous = snapshot
    return result
