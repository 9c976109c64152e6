"""CSV cells that a spreadsheet shows as text: no cell may run as a formula (CSV injection)."""

from __future__ import annotations

import json
from typing import Any

# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(text: str) -> str:
    """Return text a spreadsheet shows as it is (a leading apostrophe before a formula start)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_cell(value: Any) -> str:
    """Return one CSV cell: nothing for None, structured values as JSON, never a formula."""
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    else:
        text = str(value)
    return csv_safe(text)
