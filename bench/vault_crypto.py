"""Field encryption in the vault: how much of raw AES-GCM speed survives, and what it costs a read.

(a) Storing one field (`set_field`, one unit of work each) and loading one field (`get_field`,
one read unit of work each) against the raw `cryptography` AESGCM encrypt and decrypt of the
very same plaintexts. (b) Reading ten fields of one customer (`read_fields` in a read unit of
work, DEK cached) against reading the same ten values, JSON-encoded in clear, from a plain table
in the same SQLite file through the same sessions. All on a SQLite file in a temporary folder.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Column, MetaData, String, Table, Text, Uuid, func, insert, select

from bench.runner import Report, measure
from bench.scratch_instance import open_runtime
from emanet.bootstrap import Runtime
from emanet.demo_data import demo_people, demo_profile
from schemas.field_catalogue import JsonValue, field_spec
from vault.accounts.services import create_customer
from vault.profile.models import ProfileField
from vault.profile.services import field_aad, get_field, read_fields, set_field

CUSTOMERS = 400
SEED = 20261124
PASSWORD = "a perfectly long benchmark password"
# Fields every demo profile has (the first ten make the ten-field read).
COMMON_KEYS = (
    "identity.given_name",
    "identity.family_name",
    "identity.birth_date",
    "contact.email",
    "contact.phone",
    "contact.address",
    "contact.region",
    "work.job_title",
    "work.employer",
    "preferences.interests",
    "work.occupation",
    "preferences.brands",
    "contact.preferred_channel",
    "household.marital_status",
)
TEN_KEYS = COMMON_KEYS[:10]
STORE_OPS = 250
LOAD_OPS = 1000
RAW_OPS = 20_000
TEN_FIELD_TARGET = 1.5

clear_metadata = MetaData()
# The baseline of (b): what a vault without encryption would keep, one row per field.
bench_clear_fields = Table(
    "bench_clear_fields",
    clear_metadata,
    Column("customer_id", Uuid, primary_key=True),
    Column("field_key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)


@dataclass
class Population:
    """The customers made for the run, with the raw profile values they were created with."""

    ids: list[uuid.UUID]
    profiles: dict[uuid.UUID, dict[str, object]]


def canonical(value: JsonValue) -> bytes:
    """Encode a field value exactly as the vault does before sealing it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def populate(runtime: Runtime, count: int) -> Population:
    """Create customers with realistic profiles (names, phone, address, interests, ...)."""
    rng = random.Random(SEED)
    people = demo_people()
    ids: list[uuid.UUID] = []
    profiles: dict[uuid.UUID, dict[str, object]] = {}
    for number in range(count):
        locale, given, family = people[number % len(people)]
        profile = demo_profile(rng, locale, given, family)
        with runtime.vault.unit_of_work() as uow:
            customer_id = create_customer(
                uow, f"bench-{number}@example.org", PASSWORD, locale=locale.code, profile=profile
            )
        ids.append(customer_id)
        profiles[customer_id] = profile
    return Population(ids, profiles)


def checkpoint(runtime: Runtime) -> None:
    """Fold the write-ahead log into the database so every timed read starts alike."""
    with runtime.database.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def store_and_load(report: Report, runtime: Runtime, population: Population) -> None:
    """(a) One-field store and load through the vault against raw AES-GCM on the same bytes."""
    vault = runtime.vault
    ids = population.ids
    store_ops = []
    for i in range(STORE_OPS):
        customer_id, key = ids[i % len(ids)], COMMON_KEYS[i % len(COMMON_KEYS)]
        store_ops.append((customer_id, key, population.profiles[customer_id][key]))
    load_ops = [(ids[i % len(ids)], COMMON_KEYS[i % len(COMMON_KEYS)]) for i in range(LOAD_OPS)]

    def store() -> None:
        for customer_id, key, raw in store_ops:
            with vault.unit_of_work() as uow:
                set_field(uow, customer_id, key, raw)

    def load() -> None:
        for customer_id, key in load_ops:
            with vault.unit_of_work(write=False) as uow:
                get_field(uow, customer_id, key)

    # The raw baseline seals the very plaintexts the vault stores and loads, with associated
    # data of the same length, under one key object built once and nonces drawn beforehand:
    # the AEAD operation and nothing else.
    with vault.unit_of_work(write=False) as uow:
        plaintexts = [
            (canonical(fv.value), field_aad(customer_id, key, fv.version))
            for customer_id, key in load_ops
            if (fv := get_field(uow, customer_id, key)) is not None
        ]
    if len(plaintexts) != len(load_ops):
        raise RuntimeError("a field the benchmark reads is not set")
    aead = AESGCM(AESGCM.generate_key(bit_length=256))
    raw_items = [(os.urandom(12),) + plaintexts[i % len(plaintexts)] for i in range(RAW_OPS)]
    sealed_items = [(nonce, aead.encrypt(nonce, data, aad), aad) for nonce, data, aad in raw_items]
    encrypt, decrypt = aead.encrypt, aead.decrypt

    def raw_encrypt() -> None:
        for nonce, data, aad in raw_items:
            encrypt(nonce, data, aad)

    def raw_decrypt() -> None:
        for nonce, sealed, aad in sealed_items:
            decrypt(nonce, sealed, aad)

    checkpoint(runtime)
    timings = measure(
        {"store": store, "load": load, "raw_encrypt": raw_encrypt, "raw_decrypt": raw_decrypt}
    )
    report.rate("set_field (1 field, own unit of work)", STORE_OPS, timings["store"])
    report.rate("AESGCM.encrypt, same plaintexts", RAW_OPS, timings["raw_encrypt"])
    report.rate("get_field (1 field, own read unit of work)", LOAD_OPS, timings["load"])
    report.rate("AESGCM.decrypt, same ciphertexts", RAW_OPS, timings["raw_decrypt"])
    report.ratio(
        "store ÷ raw encrypt",
        "set_field (1 field, own unit of work)",
        "AESGCM.encrypt, same plaintexts",
        "fraction of raw AES-GCM encrypt speed left once a field is validated, sealed, "
        "versioned and committed",
    )
    report.ratio(
        "load ÷ raw decrypt",
        "get_field (1 field, own read unit of work)",
        "AESGCM.decrypt, same ciphertexts",
        "fraction of raw AES-GCM decrypt speed left once a field is selected, opened and "
        "decoded in its own read unit of work",
    )
    sizes = [len(data) for data, _ in plaintexts]
    report.note(
        f"(a) plaintexts: the {len(COMMON_KEYS)} fields every demo profile has, "
        f"{min(sizes)}–{max(sizes)} bytes, mean {sum(sizes) / len(sizes):.0f}; the store "
        "writes each customer's own value again (a new version), rotating over customers "
        "and fields. The raw AES-GCM loops use one `AESGCM` object and nonces drawn "
        "beforehand, and associated data of the same length as the vault's."
    )


def fill_clear_table(runtime: Runtime, population: Population) -> tuple[dict[uuid.UUID, dict], int]:
    """Copy every customer's current values, decrypted and JSON-encoded, into the clear table."""
    clear_metadata.create_all(runtime.database.engine)
    expected: dict[uuid.UUID, dict] = {}
    rows = []
    with runtime.vault.unit_of_work(write=False) as uow:
        for customer_id in population.ids:
            values = read_fields(uow, customer_id)
            expected[customer_id] = {key: values[key].value for key in TEN_KEYS}
            rows += [
                {"customer_id": customer_id, "field_key": key, "value": canonical(v.value).decode()}
                for key, v in values.items()
            ]
    with runtime.database.session(write=True) as session:
        session.execute(insert(bench_clear_fields), rows)
        session.commit()
    return expected, len(rows)


def ten_fields(report: Report, runtime: Runtime, population: Population) -> None:
    """(b) Ten fields of one customer: vault read with the DEK cached against a clear read."""
    vault, database = runtime.vault, runtime.database
    ids = population.ids
    expected, row_count = fill_clear_table(runtime, population)

    def vault_read(customer_id: uuid.UUID) -> dict:
        with vault.unit_of_work(write=False) as uow:
            return read_fields(uow, customer_id, TEN_KEYS)

    def clear_read(customer_id: uuid.UUID) -> dict:
        # What the unit of work does around a read, without the vault: open a read session
        # from the same factory, one query, roll back and close.
        session = database.session(write=False)
        try:
            rows = session.execute(
                select(bench_clear_fields.c.field_key, bench_clear_fields.c.value).where(
                    bench_clear_fields.c.customer_id == customer_id,
                    bench_clear_fields.c.field_key.in_(TEN_KEYS),
                )
            ).all()
            return {row.field_key: json.loads(row.value) for row in rows}
        finally:
            session.rollback()
            session.close()

    # Both paths must read the same rows and hand back the same ten values, or the
    # comparison means nothing.
    with database.session(write=False) as session:
        stored = session.scalar(select(func.count()).select_from(ProfileField))
    if stored != row_count:
        raise RuntimeError(f"profile_fields holds {stored} rows, the clear table {row_count}")
    for customer_id in ids:
        from_vault = {key: fv.value for key, fv in vault_read(customer_id).items()}
        if not (from_vault == clear_read(customer_id) == expected[customer_id]):
            raise RuntimeError(f"vault and clear reads differ for customer {customer_id}")
    cached = sum(vault.data_keys.cache.get(customer_id) is not None for customer_id in ids)
    if cached != len(ids):
        raise RuntimeError(f"only {cached} of {len(ids)} data keys are cached")

    def loop(read: Callable[[uuid.UUID], dict]) -> Callable[[], None]:
        def body() -> None:
            for customer_id in ids:
                read(customer_id)

        return body

    checkpoint(runtime)
    timings = measure({"vault": loop(vault_read), "clear": loop(clear_read)}, repeats=7)
    report.rate("read_fields, 10 fields, DEK cached", len(ids), timings["vault"])
    report.rate("clear SELECT of the same 10 values", len(ids), timings["clear"])
    report.ratio(
        "10-field read: encrypted ÷ clear",
        "read_fields, 10 fields, DEK cached",
        "clear SELECT of the same 10 values",
        "time to read a customer's ten fields from the vault, as a multiple of reading the "
        "same ten values kept in clear",
        of="time",
        at_most=TEN_FIELD_TARGET,
    )
    report.note(
        f"(b) {len(ids)} customers, read in turn; both tables hold the same {row_count} "
        f"rows (every field of every customer); the ten: {', '.join(TEN_KEYS)}. Both reads "
        "open a read session from the same `Database` (same engine and pool), build and run "
        "one query keyed by customer and field keys, JSON-decode the ten values, then roll "
        "back and close; both were checked to return the same values before timing. The "
        "vault read also fetches `version` (its associated data needs it) and `updated_at`, "
        "which a `FieldValue` carries."
    )


def run(report: Report) -> None:
    """Seed a vault in a temporary folder and measure (a) and (b)."""
    for key in COMMON_KEYS:
        field_spec(key)
    with tempfile.TemporaryDirectory(prefix="emanet-bench-") as directory:
        runtime = open_runtime(Path(directory))
        try:
            population = populate(runtime, CUSTOMERS)
            checkpoint(runtime)
            store_and_load(report, runtime, population)
            ten_fields(report, runtime, population)
            size = Path(directory, "emanet.db").stat().st_size
            report.note(
                "SQLite file in a temporary folder (WAL, synchronous=NORMAL, as Emanet sets it), "
                f"{size / 1e6:.1f} MB at the end; {len(population.ids)} customers made with "
                "`create_customer` and demo profiles; every data key cached throughout."
            )
        finally:
            runtime.close()
