"""The export ZIP (GDPR Art. 15 and 20): everything the vault holds, streamed, nobody else's."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from joserfc import jws
from joserfc.jwk import KeySet
from sqlalchemy import select

from broker.gate import Caller, append_interaction, read_profile
from emanet.bootstrap import Runtime
from schemas.export import EXPORT_FORMAT, EXPORT_SECTIONS, VaultExport
from schemas.interactions import InteractionEntry, InteractionKind
from tests.conftest import make_customer
from tests.factories import make_active_agreement, make_business, make_request
from tests.field_examples import GOOD_VALUES
from vault.agreements.models import Agreement
from vault.agreements.services import Context, decide_request, revoke_agreement
from vault.errors import CustomerNotFoundError
from vault.export import export_vault
from vault.export_zip import FLUSH_AT, VaultZip, csv_cell
from vault.interactions.services import log_interaction, record_interaction
from vault.profile.services import set_field
from vault.receipts.models import ConsentReceipt
from vault.receipts.services import verify_receipt
from vault.unit_of_work import Vault

NOW = datetime.now(UTC)
FORMULA_NAME = '=HYPERLINK("http://evil.example","click")'
FORMULA_SUMMARY = "-2+3"
FORMULA_DETAILS = "@SUM(1+1)*cmd|' /C calc'!A0"
OTHER_SECRET = "Yalnız Başqasının Sirri"
CSV_FILES = {f"{name}.csv" for name in EXPORT_SECTIONS}


@dataclass
class Scene:
    customer: uuid.UUID
    other: uuid.UUID
    shop: uuid.UUID
    shop_name: str
    shop_client: str
    other_agreement: uuid.UUID


def build_scene(vault: Vault) -> Scene:
    """A customer with every field, three agreements and a business that read and wrote."""
    customer = make_customer(vault, profile={k: raw for k, (raw, _) in GOOD_VALUES.items()})
    with vault.unit_of_work() as uow:
        set_field(uow, customer, "identity.given_name", FORMULA_NAME)
    shop_name = "Köhnə Şəhər Antikvarları"
    shop, client = make_business(vault, shop_name)
    active = make_active_agreement(
        vault,
        shop,
        customer,
        {"identity.given_name": "read", "contact.phone": "read", "interactions": "append"},
    )
    caller = Caller(shop, f"client:{client.client_id}")
    with vault.unit_of_work() as uow:
        read_profile(uow, caller, active, ["contact.phone"])
    with vault.unit_of_work() as uow:
        append_interaction(
            uow,
            caller,
            active,
            InteractionEntry(kind=InteractionKind.VISIT, occurred_at=NOW, summary="Showroom"),
        )
    with vault.unit_of_work() as uow:
        revoke_agreement(uow, active, customer, Context(actor="customer", ip="203.0.113.7"))
    cafe, _client = make_business(vault, "Qala Çayxanası")
    declined = make_request(vault, cafe, {"contact.email": "read"}, customer)
    with vault.unit_of_work() as uow:
        decide_request(uow, declined, customer, None, Context(actor="customer"))
    with vault.unit_of_work() as uow:
        log_interaction(
            uow,
            customer,
            InteractionEntry(
                kind=InteractionKind.NOTE,
                occurred_at=NOW - timedelta(hours=1),
                summary=FORMULA_SUMMARY,
                details=FORMULA_DETAILS,
            ),
        )
    other = make_customer(vault, profile={"identity.given_name": OTHER_SECRET})
    other_agreement = make_active_agreement(vault, shop, other, {"identity.given_name": "read"})
    with vault.unit_of_work() as uow:
        read_profile(uow, caller, other_agreement)
    with vault.unit_of_work() as uow:
        log_interaction(
            uow,
            other,
            InteractionEntry(kind=InteractionKind.NOTE, occurred_at=NOW, details=OTHER_SECRET),
        )
    return Scene(customer, other, shop, shop_name, client.client_id, other_agreement)


@pytest.fixture
def scene(vault: Vault) -> Scene:
    return build_scene(vault)


def export_zip(vault: Vault, customer: uuid.UUID, **options: object) -> zipfile.ZipFile:
    data = b"".join(VaultZip(vault, customer, readme="Read me.", **options))  # type: ignore[arg-type]
    return zipfile.ZipFile(io.BytesIO(data))


def read_csv(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8-sig"))))


def test_zip_holds_the_whole_vault_in_json_csv_and_receipt_files(
    vault: Vault, scene: Scene
) -> None:
    archive = export_zip(vault, scene.customer)
    assert archive.testzip() is None
    document = VaultExport.model_validate_json(archive.read("vault.json"))
    assert document.format == EXPORT_FORMAT
    assert document.account.id == str(scene.customer)
    receipt_files = {f"receipts/{r.agreement_id}/{r.id}.jws" for r in document.receipts}
    assert set(archive.namelist()) == {"README.txt", "vault.json", *CSV_FILES, *receipt_files}
    assert archive.read("README.txt") == b"Read me."
    expected = {k: canonical for k, (_, canonical) in GOOD_VALUES.items()}
    expected["identity.given_name"] = FORMULA_NAME
    assert {f.key: f.value for f in document.fields} == expected
    assert {f.key for f in document.field_history} == set(GOOD_VALUES)
    assert [i.summary for i in document.interactions] == [FORMULA_SUMMARY, "Showroom"]
    assert sorted(a.status for a in document.agreements) == ["declined", "revoked"]
    kinds = [e.kind for e in document.agreement_events]
    assert sorted(kinds) == ["declined", "granted", "requested", "requested", "revoked"]
    assert [(e.kind, e.outcome) for e in document.access_log] == [
        ("customer.created", "allowed"),
        ("profile.read", "allowed"),
        ("interaction.append", "allowed"),
    ]
    assert document.access_log[1].fields == ["contact.phone"]


def test_every_receipt_is_in_the_zip_as_issued_and_verifies(
    vault: Vault, runtime: Runtime, scene: Scene
) -> None:
    archive = export_zip(vault, scene.customer)
    document = VaultExport.model_validate_json(archive.read("vault.json"))
    with vault.unit_of_work(write=False) as uow:
        stored = dict(
            uow.session.execute(
                select(ConsentReceipt.id, ConsentReceipt.jws)
                .join(Agreement)
                .where(Agreement.customer_id == scene.customer)
            ).all()
        )
    assert {uuid.UUID(r.id): r.jws for r in document.receipts} == stored
    assert len(stored) == 3  # granted, revoked, declined
    keys = KeySet.import_key_set(vault.provider.public_jwks())
    for receipt in document.receipts:
        token = archive.read(f"receipts/{receipt.agreement_id}/{receipt.id}.jws").decode()
        assert token == receipt.jws
        assert jws.deserialize_compact(token, keys, algorithms=["EdDSA"]).payload
        claims = verify_receipt(token, vault.provider.public_jwks())
        assert json.dumps(claims)  # a JSON object, signed by the published key


def test_each_csv_has_a_header_and_one_row_per_entry(vault: Vault, scene: Scene) -> None:
    archive = export_zip(vault, scene.customer)
    document = json.loads(archive.read("vault.json"))
    for name, model in EXPORT_SECTIONS.items():
        raw = archive.read(f"{name}.csv").decode("utf-8-sig")
        header = next(csv.reader(io.StringIO(raw)))
        assert header == list(model.model_fields), name
        assert len(read_csv(archive, f"{name}.csv")) == len(document[name]), name
        assert document[name], f"{name} should not be empty in this scene"
    agreements = {row["id"]: row for row in read_csv(archive, "agreements.csv")}
    for agreement in document["agreements"]:
        row = agreements[agreement["id"]]
        assert json.loads(row["terms"]) == agreement["terms"]
        assert json.loads(row["business"]) == agreement["business"]
        assert json.loads(row["granted_fields"]) == agreement["granted_fields"]
    address = next(r for r in read_csv(archive, "fields.csv") if r["key"] == "contact.address")
    assert json.loads(address["value"]) == GOOD_VALUES["contact.address"][1]


def test_a_cell_that_would_run_as_a_formula_is_prefixed(vault: Vault, scene: Scene) -> None:
    archive = export_zip(vault, scene.customer)
    name = next(r for r in read_csv(archive, "fields.csv") if r["key"] == "identity.given_name")
    assert name["value"] == "'" + FORMULA_NAME
    note = next(r for r in read_csv(archive, "interactions.csv") if r["kind"] == "note")
    assert (note["summary"], note["details"]) == ("'" + FORMULA_SUMMARY, "'" + FORMULA_DETAILS)
    document = VaultExport.model_validate_json(archive.read("vault.json"))
    assert document.interactions[0].details == FORMULA_DETAILS  # JSON keeps the value as is


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cell_defuses_every_formula_start(start: str) -> None:
    assert csv_cell(f"{start}1+1") == f"'{start}1+1"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (None, ""),
        (True, "true"),
        (12, "12"),
        ("Bakı", "Bakı"),
        (["caz", "=1"], '["caz", "=1"]'),
        ({"b": 1, "a": "x"}, '{"a": "x", "b": 1}'),
    ],
)
def test_csv_cell_writes_plain_values_plainly_and_structures_as_json(
    value: object, cell: str
) -> None:
    assert csv_cell(value) == cell


def test_another_customers_data_never_appears(vault: Vault, scene: Scene) -> None:
    archive = export_zip(vault, scene.customer)
    everything = b"".join(archive.read(name) for name in archive.namelist()).decode()
    for secret in (OTHER_SECRET, str(scene.other), str(scene.other_agreement)):
        assert secret not in everything
    assert scene.shop_client not in everything  # the business's app is named, not its id
    document = VaultExport.model_validate_json(archive.read("vault.json"))
    mine = {a.id for a in document.agreements}
    assert {e.agreement_id for e in document.access_log if e.agreement_id} <= mine
    # and the other customer's own export holds their secret, so the search above can fail
    theirs = export_zip(vault, scene.other)
    assert OTHER_SECRET in theirs.read("vault.json").decode()


def test_who_acted_is_told_in_words_without_anyone_elses_identifiers(
    vault: Vault, scene: Scene
) -> None:
    document = VaultExport.model_validate_json(export_zip(vault, scene.customer).read("vault.json"))
    events = {e.kind: e for e in document.agreement_events}
    assert (events["revoked"].actor, events["revoked"].actor_in_words) == ("customer", "You")
    assert events["revoked"].ip == "203.0.113.7"
    requested = next(e for e in document.agreement_events if e.kind == "requested")
    assert requested.actor == "business"
    assert requested.actor_in_words in {scene.shop_name, "Qala Çayxanası"}
    assert requested.ip is None and requested.user_agent is None
    read = document.access_log[1]
    assert (read.actor, read.actor_in_words) == ("client", f"{scene.shop_name}, through its app")
    assert read.business_name == scene.shop_name
    visit = next(i for i in document.interactions if i.kind == "visit")
    assert (visit.logged_by, visit.business_id) == ("business", str(scene.shop))
    assert visit.logged_by_in_words == scene.shop_name


def test_labels_and_words_follow_the_language_asked_for(vault: Vault, scene: Scene) -> None:
    with vault.unit_of_work(write=False) as uow:
        document = export_vault(uow, scene.customer, locale="tr")
    assert document.language == "tr"
    events = {e.kind: e for e in document.agreement_events}
    assert events["revoked"].actor_in_words == "Siz"
    given = next(f for f in document.fields if f.key == "identity.given_name")
    assert given.label != next(
        f.label for f in export_vault_in(vault, scene.customer, "en").fields if f.key == given.key
    )


def export_vault_in(vault: Vault, customer: uuid.UUID, locale: str) -> VaultExport:
    with vault.unit_of_work(write=False) as uow:
        return export_vault(uow, customer, locale=locale)


def test_vault_json_is_the_same_document_as_export_vault(vault: Vault, scene: Scene) -> None:
    streamed = VaultExport.model_validate_json(
        export_zip(vault, scene.customer, batch_size=2).read("vault.json")
    )
    gathered = export_vault_in(vault, scene.customer, "en")
    assert streamed == gathered.model_copy(update={"exported_at": streamed.exported_at})


def test_a_missing_customer_fails_before_the_first_byte_and_holds_no_connection(
    vault: Vault, runtime: Runtime
) -> None:
    with pytest.raises(CustomerNotFoundError):
        VaultZip(vault, uuid.uuid4(), readme="")
    assert runtime.database.engine.pool.checkedout() == 0


def test_the_unit_of_work_ends_with_the_download_or_when_it_is_dropped(
    vault: Vault, runtime: Runtime, scene: Scene
) -> None:
    pool = runtime.database.engine.pool
    finished = VaultZip(vault, scene.customer, readme="")
    assert pool.checkedout() == 1
    assert b"".join(finished)
    assert pool.checkedout() == 0
    dropped = VaultZip(vault, scene.customer, readme="", batch_size=1)
    pieces = iter(dropped)
    next(pieces)
    dropped.close()
    assert pool.checkedout() == 0
    never_read = VaultZip(vault, scene.customer, readme="")
    never_read.close()
    never_read.close()
    assert pool.checkedout() == 0


def test_every_file_describes_the_moment_the_download_began(vault: Vault, scene: Scene) -> None:
    pieces = iter(VaultZip(vault, scene.customer, readme=""))
    data = next(pieces)  # the download has begun
    with vault.unit_of_work() as uow:
        log_interaction(
            uow,
            scene.customer,
            InteractionEntry(kind=InteractionKind.NOTE, occurred_at=NOW, summary="Written later"),
        )
    archive = zipfile.ZipFile(io.BytesIO(data + b"".join(pieces)))
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert b"Written later" not in everything
    assert len(read_csv(archive, "interactions.csv")) == 2
    assert len(export_vault_in(vault, scene.customer, "en").interactions) == 3


def add_interactions(vault: Vault, customer: uuid.UUID, count: int) -> None:
    with vault.unit_of_work() as uow:
        for n in range(count):
            entry = InteractionEntry(
                kind=InteractionKind.NOTE,
                occurred_at=NOW - timedelta(minutes=n),
                summary=f"Visit number {n}",
                details="Looked at the Qarabağ rugs and asked about delivery. " * 4,
            )
            record_interaction(uow, customer, entry, logged_by="customer")
        uow.commit()


def peak_memory(pieces: Iterator[bytes]) -> tuple[int, int, int]:
    """Consume an export the way a server does; return peak memory, bytes and largest piece."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        size = largest = 0
        for piece in pieces:
            size += len(piece)
            largest = max(largest, len(piece))
            del piece
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return peak, size, largest


def test_memory_stays_flat_as_the_vault_grows(vault: Vault) -> None:
    small, large = make_customer(vault), make_customer(vault)
    add_interactions(vault, small, 300)
    add_interactions(vault, large, 3000)
    b"".join(VaultZip(vault, small, readme=""))  # warm caches: compiled SQL, keys, models
    small_peak, small_size, _ = peak_memory(iter(VaultZip(vault, small, readme="")))
    large_peak, large_size, largest = peak_memory(iter(VaultZip(vault, large, readme="")))
    assert large_size > 5 * small_size  # ten times the rows really were written out
    assert large_peak < 2 * small_peak, (small_peak, large_peak)
    assert largest < 4 * FLUSH_AT  # handed on in pieces, not as one archive
    with vault.unit_of_work(write=False) as uow:
        assert len(export_vault(uow, large).interactions) == 3000
