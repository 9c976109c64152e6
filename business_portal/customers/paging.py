"""Pages of the customer list: where a page starts (a keyset mark), and pages cut in Python
from the few rows a search found."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["Mark", "mark_of", "page_of_found"]


@dataclass(frozen=True)
class Mark:
    """Where a page starts or ends: the row's sort key and pairwise id."""

    key: datetime | None
    subject: str

    def encode(self) -> str:
        """Return the mark as a URL parameter."""
        return f"{self.key.isoformat() if self.key else ''}~{self.subject}"

    @classmethod
    def decode(cls, text: str | None, sort: str) -> Mark | None:
        """Read a mark from a URL; anything malformed is no mark at all."""
        if not text or "~" not in text or len(text) > 120:
            return None
        key_text, subject = text.split("~", 1)
        if not subject or len(subject) > 40:
            return None
        if sort == "id":
            return cls(None, subject)
        try:
            key = datetime.fromisoformat(key_text)
        except ValueError:
            return None
        return cls(key, subject) if key.tzinfo is not None else None

    def as_key(self) -> tuple[Any, ...]:
        """Return the mark as the sort key of a row."""
        return (self.subject,) if self.key is None else (self.key, self.subject)


def mark_of(row: Any, sort: str) -> Mark:
    """Return the mark of a list row (subject, connected_since, ends_at)."""
    if sort == "id":
        return Mark(None, row.subject)
    return Mark(row.ends_at if sort == "ending" else row.connected_since, row.subject)


def page_of_found(
    rows: Sequence[Any], sort: str, mark: Mark | None, backwards: bool, limit: int
) -> list[Any]:
    """Return up to `limit` rows after (or, backwards, before) the mark, as SQL would."""
    descending = sort == "newest"
    ascending = descending == backwards

    def key(row: Any) -> tuple[Any, ...]:
        return mark_of(row, sort).as_key()

    ordered = sorted(rows, key=key, reverse=not ascending)
    if mark is not None:
        edge = mark.as_key()
        ordered = [r for r in ordered if (key(r) > edge if ascending else key(r) < edge)]
    return ordered[:limit]
