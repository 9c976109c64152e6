"""Export: what the download holds, and the download itself (GDPR Art. 15 and 20)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, stream_with_context
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _

from schemas.export import EXPORT_FORMAT
from vault.errors import CustomerNotFoundError
from vault.export import export_counts
from vault.export_zip import VaultZip
from vault.web_session import current_customer, current_vault, customer_required

blueprint = Blueprint("vault_export", __name__, template_folder="templates")


def file_descriptions() -> list[tuple[str, str, str | None]]:
    """Return each file of the ZIP with what it holds, and the section it counts."""
    return [
        ("vault.json", _("Everything below in one file a program can read (JSON)."), None),
        ("fields.csv", _("The current value of each field of your profile."), "fields"),
        (
            "field_history.csv",
            _("Every value each field has had, deletions included."),
            "field_history",
        ),
        (
            "interactions.csv",
            _("Your purchases, visits, calls, tickets and notes, with every business."),
            "interactions",
        ),
        (
            "agreements.csv",
            _(
                "Each agreement: the business as you were shown it, the terms, "
                "what you granted, its status and how long it lasts."
            ),
            "agreements",
        ),
        (
            "agreement_events.csv",
            _("Every change to each agreement: what happened, when, and who did it."),
            "agreement_events",
        ),
        ("receipts.csv", _("Every consent receipt Emanet signed for you."), "receipts"),
        (
            "access_log.csv",
            _("Every time a business read or changed your data, or was refused."),
            "access_log",
        ),
        (
            "receipts/*/*.jws",
            _("Each receipt on its own, signed, to check with Emanet's public keys."),
            None,
        ),
    ]


def readme_text(exported_at: str, keys_url: str) -> str:
    """Return README.txt in the reader's language."""
    lines = [
        _("Your Emanet vault, exported on %(when)s.", when=exported_at),
        _("Format: %(format)s", format=EXPORT_FORMAT),
        "",
    ]
    lines += [f"{name}: {text}" for name, text, _section in file_descriptions()]
    lines += [
        "",
        _("Receipts can be checked with the public keys at %(url)s.", url=keys_url),
        _(
            "The CSV files are UTF-8 with a header row; a cell that holds structured data "
            "holds it as JSON. A cell that would start with = + - or @ starts with ' instead, "
            "so that no spreadsheet runs it as a formula."
        ),
        _("This file holds your data in clear. Keep it somewhere safe."),
    ]
    return "\n".join(lines) + "\n"


@blueprint.get("/export")
@customer_required
def export_page() -> str:
    """Explain what the export holds, with a count per file, and offer the download."""
    customer_id = current_customer()
    assert customer_id is not None
    with current_vault().unit_of_work(write=False) as uow:
        counts = export_counts(uow, customer_id)
    return render_template("vault/export.html", files=file_descriptions(), counts=counts)


@blueprint.get("/export/vault.zip")
@customer_required
def download() -> Response:
    """Stream the ZIP as it is written; the archive owns its unit of work until the end."""
    customer_id = current_customer()
    assert customer_id is not None
    vault = current_vault()
    now = vault.clock()
    readme = readme_text(
        format_datetime(now, "long"), vault.issuer.rstrip("/") + "/.well-known/jwks.json"
    )
    try:
        archive = VaultZip(vault, customer_id, readme=readme, locale=str(get_locale()))
    except CustomerNotFoundError:
        abort(404)
    response = Response(stream_with_context(iter(archive)), mimetype="application/zip")
    # Closing the response closes the archive, even when no byte of it was ever asked for.
    response.call_on_close(archive.close)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="emanet-vault-{now.date().isoformat()}.zip"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response
