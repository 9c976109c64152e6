"""The template's field picker: one checkbox and one access mode per field it may ask for.

The fields of the catalogue come grouped as the customer's vault groups them, and the
relationship record (interactions) last; what staff ticked and chose is kept on a bad submit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from schemas.agreements import INTERACTIONS, AccessMode
from schemas.field_catalogue import FIELD_CATALOGUE, GROUP_LABELS

# What the business may do with a field, as staff read it (the customer's words differ).
FIELD_MODE_WORDS: dict[str, LazyString] = {
    AccessMode.READ.value: _l("Read"),
    AccessMode.WRITE.value: _l("Read and update"),
}
INTERACTION_MODE_WORDS: dict[str, LazyString] = {
    AccessMode.READ.value: _l("Read"),
    AccessMode.APPEND.value: _l("Read and add entries"),
}
INTERACTIONS_LABEL = _l("Interactions: purchases, visits, calls, tickets")


def mode_words(key: str) -> Mapping[str, LazyString]:
    """Return the modes a field may be asked in, with their words."""
    return INTERACTION_MODE_WORDS if key == INTERACTIONS else FIELD_MODE_WORDS


@dataclass
class FieldChoice:
    """One field the template may ask for: ticked or not, in which mode, and its problems."""

    key: str
    label: str
    hint: str
    modes: list[tuple[str, str]]
    mode: str
    ticked: bool
    errors: list[str] = field(default_factory=list)


@dataclass
class FieldGroupChoice:
    """The fields of one catalogue group, as the picker shows them."""

    label: str
    choices: list[FieldChoice]


class FieldPicker:
    """The template's fields: one checkbox and one mode per catalogue field and interactions."""

    def __init__(self, modes: Mapping[str, str]) -> None:
        locale = str(get_locale() or "en")
        self.modes = dict(modes)
        self.errors: list[str] = []
        groups: dict[str, FieldGroupChoice] = {}
        for spec in FIELD_CATALOGUE.values():
            group = groups.setdefault(
                spec.group.value, FieldGroupChoice(GROUP_LABELS[spec.group][locale], [])
            )
            group.choices.append(self._choice(spec.key, spec.label(locale), spec.hint(locale)))
        record = FieldGroupChoice(_("The relationship record"), [])
        record.choices.append(
            self._choice(
                INTERACTIONS,
                str(INTERACTIONS_LABEL),
                _("What you and the customer log: purchases, visits, calls and tickets."),
            )
        )
        self.groups = [*groups.values(), record]

    def _choice(self, key: str, label: str, hint: str) -> FieldChoice:
        words = mode_words(key)
        default = AccessMode.APPEND.value if key == INTERACTIONS else AccessMode.READ.value
        mode = self.modes.get(key, default)
        return FieldChoice(
            key,
            label,
            hint,
            [(code, str(text)) for code, text in words.items()],
            mode,
            key in self.modes,
        )

    @classmethod
    def from_post(cls, form: Mapping[str, Any], ticked: Iterable[str]) -> FieldPicker:
        """Read the ticked fields and their modes from a submitted form."""
        modes = {key: str(form.get(f"mode-{key}", AccessMode.READ.value)) for key in ticked}
        return cls(modes)

    def requested(self) -> list[dict[str, str]]:
        """Return the ticked fields in catalogue order, anything unknown after them."""
        order = [*FIELD_CATALOGUE, INTERACTIONS]
        keys = sorted(self.modes, key=lambda k: (order.index(k) if k in order else len(order), k))
        return [{"key": key, "mode": self.modes[key]} for key in keys]

    def place(self, index: object, message: str) -> None:
        """Put a problem beside the field at this place of `requested()`, else above them all."""
        requested = self.requested()
        if isinstance(index, int) and 0 <= index < len(requested):
            key = requested[index]["key"]
            for group in self.groups:
                for choice in group.choices:
                    if choice.key == key:
                        choice.errors.append(message)
                        return
        self.errors.append(message)
