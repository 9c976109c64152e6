"""The customer list as CSV: the current view, every page, granted fields only.

Rows are written as each batch comes back from the gate, so a long list streams and no page
of values is held longer than it takes to write it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from flask_babel import get_locale
from flask_babel import gettext as _

from broker.gate import Caller
from business_portal.customers.list_query import CustomerQuery
from business_portal.customers.services import customer_batches
from business_portal.customers.table_cells import column_label, csv_cell
from schemas.spreadsheet_cells import csv_safe
from vault.unit_of_work import Vault

# Spreadsheets take a file with a byte order mark for UTF-8 (Ə, ş, ğ stay letters).
BOM = "\ufeff"


def csv_lines(vault: Vault, caller: Caller, query: CustomerQuery) -> Iterator[str]:
    """Yield the CSV text of the view: a header, then the customers a batch at a time."""
    locale = str(get_locale())
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    columns: list[str] | None = None
    for page in customer_batches(vault, caller, query):
        if columns is None:
            columns = page.columns
            header = [_("Pairwise ID"), *(column_label(key, locale) for key in columns)]
            writer.writerow([csv_safe(text) for text in header])
        for entry in page.entries:
            writer.writerow([entry.subject, *(csv_cell(entry, key) for key in columns)])
        yield _flush(buffer)


def _flush(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
