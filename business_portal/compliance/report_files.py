"""The two reports as files an officer hands over: CSV (formula-safe) and the rows a PDF shows.

Both formats take their rows from `processing_rows` and `access_sections`, so the CSV and the
PDF always state the same figures in the same words.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import format_date, format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from business_portal.compliance.services.reports import (
    AccessReport,
    ControllerRecord,
    ProcessingReport,
    PurposeRecord,
    field_order,
)
from business_portal.compliance.words import (
    ACCESS_KIND_WORDS,
    actor_words,
    country_name,
    duration_words,
    field_words,
    group_words,
    legal_basis_words,
    outcome_words,
    purpose_words,
)
from schemas.spreadsheet_cells import csv_cell
from vault.agreement_words import listing

# What protects every record Emanet keeps for a business (services.reports.SAFEGUARDS).
SAFEGUARD_WORDS: dict[str, Any] = {
    "encryption_at_rest": _l(
        "Every field value is encrypted at rest (AES-256-GCM) under its customer's own key."
    ),
    "envelope_keys": _l(
        "Customer keys are stored only wrapped by a key-encryption key kept outside the "
        "database; rotating it needs no re-encryption."
    ),
    "pseudonymous_ids": _l(
        "The business knows each customer only by a pairwise pseudonymous identifier."
    ),
    "one_gate": _l(
        "Every read or write passes one policy check of the agreement (active, in term, "
        "field granted)."
    ),
    "access_log": _l("Every access, allowed or refused, is written to a tamper-evident log."),
    "signed_receipts": _l("Every decision of the customer gets a signed consent receipt."),
    "revocation": _l("Revocation takes effect at once: no read under the agreement succeeds."),
    "erasure": _l("Erasure destroys the customer's key, so nothing of theirs decrypts again."),
}


@dataclass(frozen=True)
class Section:
    """A titled table of a report: a header row and rows of cells."""

    title: str
    header: list[str]
    rows: list[list[str]]


def _join(items: Iterable[str]) -> str:
    return "; ".join(items)


def purpose_rows(controller: ControllerRecord, record: PurposeRecord) -> list[list[str]]:
    """Return what Art. 30(1) asks of one purpose, as label and value rows."""
    parties = sorted(record.third_parties)
    recipients = [controller.name] + [
        _("%(name)s (%(country)s, %(role)s)", name=n, country=country_name(c), role=r)
        for n, c, r in parties
    ]
    transfers = [
        f"{n} ({country_name(c)})"
        for n, c, _r in parties
        if c.upper() != controller.country.upper()
    ]
    return [
        [_("Purpose"), purpose_words(record.purpose)],
        [_("Purpose as the business describes it"), _join(sorted(record.descriptions))],
        [_("Legal basis"), _join(legal_basis_words(b) for b in sorted(record.legal_bases))],
        [_("Categories of data subjects"), _("Customers who connected through Emanet")],
        [_("Categories of data"), _join(group_words(g) for g in sorted(record.data_groups))],
        [_("Fields"), _join(field_words(k) for k in field_order(record.fields))],
        [_("Recipients"), _join(recipients)],
        [_("Transfers to other countries"), _join(transfers) or _("None")],
        [
            _("Retention after the agreement ends"),
            _join(duration_words(r) for r in sorted(record.retention)),
        ],
        [_("Agreements (active)"), f"{record.agreements} ({record.active})"],
    ]


def processing_sections(report: ProcessingReport) -> list[Section]:
    """Return the records of processing as sections: one per controller, then safeguards."""
    sections = []
    for controller in report.controllers:
        rows = [
            [_("Controller"), controller.name],
            [_("Country"), country_name(controller.country)],
            [_("Privacy contact"), f"{controller.privacy_email}, {controller.privacy_address}"],
            [_("Privacy policy"), controller.policy_url],
        ]
        for code in sorted(controller.purposes):
            rows.append(["", ""])
            rows.extend(purpose_rows(controller, controller.purposes[code]))
        if not controller.purposes:
            rows.append([_("Purposes"), _("No agreement under which data is held.")])
        sections.append(Section(controller.name, [_("Item"), _("Record")], rows))
    safeguards = [[str(SAFEGUARD_WORDS[code])] for code in report.safeguards]
    sections.append(Section(_("Safeguards (GDPR Art. 32)"), [_("Measure")], safeguards))
    return sections


def access_sections(report: AccessReport) -> list[Section]:
    """Return the access report's tables: totals, per purpose, field and client, refusals."""
    totals = [[_("Reads"), str(report.reads)]] + [
        [str(ACCESS_KIND_WORDS.get(kind, kind)), str(n)]
        for kind, n in sorted(report.by_kind.items())
    ]
    purposes = [
        [purpose_words(code) if code else _("Unknown"), str(n)]
        for code, n in report.by_purpose.most_common()
    ]
    fields = [[field_words(key), str(n)] for key, n in _by_count(report.by_field)]
    clients = [
        [actor_words(actor, report.client_names), report.businesses.get(business_id, ""), str(n)]
        for (business_id, actor), n in report.by_client.most_common()
    ]
    refused = [[outcome_words(f"denied:{r}"), str(n)] for r, n in report.refused.most_common()]
    count = _("Reads")
    return [
        Section(_("Totals"), [_("Accesses"), _("Number")], totals),
        Section(_("Reads per purpose"), [_("Purpose"), count], purposes),
        Section(_("Reads per field"), [_("Field"), count], fields),
        Section(_("Reads per client"), [_("Read by"), _("Business"), count], clients),
        Section(_("Refused accesses"), [_("Reason"), _("Number")], refused),
    ]


def _by_count(counter: dict[str, int]) -> list[tuple[str, int]]:
    order = {key: n for n, key in enumerate(field_order(list(counter)))}
    return sorted(counter.items(), key=lambda item: (-item[1], order[item[0]]))


def processing_title(report: ProcessingReport) -> tuple[str, str]:
    """Return the records' title and the line under it."""
    when = format_datetime(report.generated_at, "medium")
    return _("Records of processing activities (GDPR Art. 30)"), _(
        "Generated %(when)s from the agreements in Emanet.", when=when
    )


def access_title(report: AccessReport) -> tuple[str, str]:
    """Return the access report's title and the line under it."""
    return _("Access report"), _(
        "From %(start)s to %(end)s (UTC days, both included); generated %(when)s.",
        start=format_date(report.period_from, "medium"),
        end=format_date(report.period_to, "medium"),
        when=format_datetime(report.generated_at, "medium"),
    )


def scope_line(names: Iterable[str]) -> str:
    """Return which businesses a report covers."""
    return _("Businesses: %(names)s", names=listing(names))


def sections_csv(title: str, subtitle: str, sections: list[Section]) -> bytes:
    """Return the sections as one CSV file: a title block, then each table under its title."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([csv_cell(title)])
    writer.writerow([csv_cell(subtitle)])
    for section in sections:
        writer.writerow([])
        writer.writerow([csv_cell(section.title)])
        writer.writerow([csv_cell(cell) for cell in section.header])
        for row in section.rows:
            writer.writerow([csv_cell(cell) for cell in row])
    # A byte-order mark, so spreadsheets read ə, ş and ğ as UTF-8.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
