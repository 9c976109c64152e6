"""The export page and the ZIP download: signed in only, streamed, never cached."""

from __future__ import annotations

import csv
import io
import re
import uuid
import zipfile
from collections.abc import Callable

import pytest
from flask import session
from flask.testing import FlaskClient

from emanet.bootstrap import Runtime
from schemas.export import VaultExport
from tests.conftest import make_customer
from tests.factories import make_active_agreement, make_business
from vault.export_views import download
from vault.export_zip import VaultZip
from vault.receipts.services import verify_receipt

PROFILE = {
    "identity.given_name": "Aysel",
    "identity.family_name": "Quliyeva",
    "contact.phone": "+994 50 123 45 67",
    "work.job_title": "=1+1",
}
SignIn = Callable[..., uuid.UUID]


def pool_in_use(client: FlaskClient) -> int:
    """Count the database connections the app's own engine has lent out."""
    return int(client.application.extensions["emanet"].database.engine.pool.checkedout())


@pytest.mark.parametrize("path", ["/export", "/export/vault.zip"])
def test_a_visitor_is_sent_to_sign_in(client: FlaskClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith("/login?next=")
    assert path in answer.headers["Location"]


def test_the_page_says_what_the_zip_holds_with_counts(
    client: FlaskClient, signed_in: SignIn, runtime: Runtime
) -> None:
    customer = signed_in(profile=PROFILE)
    shop, _client = make_business(runtime.vault)
    make_active_agreement(runtime.vault, shop, customer, {"contact.phone": "read"})
    page = client.get("/export")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'href="/export/vault.zip"' in html
    for name in ("vault.json", "fields.csv", "agreements.csv", "receipts.csv", "access_log.csv"):
        assert f"<code>{name}</code>" in html
    counts = dict(
        re.findall(r"<code>([a-z_]+\.csv)</code>.*?data-label=\"Entries\">(\d+)", html, re.S)
    )
    assert counts["fields.csv"] == "4"
    assert counts["agreements.csv"] == "1"
    assert counts["receipts.csv"] == "1"
    assert counts["interactions.csv"] == "0"


def test_the_download_streams_the_signed_in_customers_vault(
    client: FlaskClient, signed_in: SignIn, runtime: Runtime
) -> None:
    vault = runtime.vault
    stranger_shop, _ = make_business(vault, "Başqa Mağaza")
    other = make_customer(vault, email="other@example.az", profile={"identity.given_name": "Nigar"})
    make_active_agreement(vault, stranger_shop, other, {"identity.given_name": "read"})
    customer = signed_in(profile=PROFILE)
    shop, _ = make_business(vault)
    make_active_agreement(vault, shop, customer, {"contact.phone": "read"})

    answer = client.get("/export/vault.zip")
    assert answer.status_code == 200
    assert answer.is_streamed
    assert answer.mimetype == "application/zip"
    assert re.fullmatch(
        r'attachment; filename="emanet-vault-\d{4}-\d{2}-\d{2}\.zip"',
        answer.headers["Content-Disposition"],
    )
    assert answer.headers["Cache-Control"] == "no-store"
    assert "Content-Length" not in answer.headers
    archive = zipfile.ZipFile(io.BytesIO(answer.get_data()))
    document = VaultExport.model_validate_json(archive.read("vault.json"))
    assert document.account.id == str(customer)
    assert {f.key: f.value for f in document.fields} == {
        "identity.given_name": "Aysel",
        "identity.family_name": "Quliyeva",
        "contact.phone": "+994501234567",
        "work.job_title": "=1+1",
    }
    (receipt,) = document.receipts
    jws = archive.read(f"receipts/{receipt.agreement_id}/{receipt.id}.jws").decode()
    assert verify_receipt(jws, vault.provider.public_jwks())["iss"]
    job = next(
        row
        for row in csv.DictReader(io.StringIO(archive.read("fields.csv").decode("utf-8-sig")))
        if row["key"] == "work.job_title"
    )
    assert job["value"] == "'=1+1"
    readme = archive.read("README.txt").decode()
    assert "vault.json" in readme and "/.well-known/jwks.json" in readme
    everything = b"".join(archive.read(n) for n in archive.namelist()).decode()
    assert "Nigar" not in everything and str(other) not in everything
    assert "Başqa Mağaza" not in everything
    answer.close()
    assert pool_in_use(client) == 0


def test_a_dropped_download_gives_its_connection_back(
    client: FlaskClient, signed_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Counted, so that the test cannot pass by the garbage collector tidying up instead.
    closed: list[VaultZip] = []
    close = VaultZip.close
    monkeypatch.setattr(VaultZip, "close", lambda self: (closed.append(self), close(self))[1])
    customer = signed_in(profile=PROFILE)
    answer = client.get("/export/vault.zip")
    assert answer.is_streamed
    assert pool_in_use(client) == 1  # held by the open download
    next(iter(answer.response))
    answer.close()
    assert closed and pool_in_use(client) == 0
    closed.clear()
    with client.application.test_request_context("/export/vault.zip"):
        session["customer_id"] = str(customer)
        unread = download()  # a server may close a response it never iterated
        assert pool_in_use(client) == 1
        unread.close()
    assert closed and pool_in_use(client) == 0
