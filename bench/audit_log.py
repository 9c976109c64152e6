"""The access log's Merkle tree: sealing against raw SHA-256, and verifying a million events.

(a) Sealing 20,000 events with `seal_pending` (read the settled events, encode each leaf, hash
it, extend the tree, write the leaf indexes and hashes, keep a subtree hash every 16 leaves,
sign a checkpoint every 1,000) against plain SHA-256 of the very same leaf bytes, and against
the same hashing plus the in-memory tree append, so the ratio shows what the tree costs and
what the database costs. (b) `emanet audit verify --json` as a subprocess on 100,000 and on
1,000,000 sealed events (bulk-inserted, then sealed by `seal_pending`), with the peak memory
of the verifying process, to show it streams. (c) Profile reads through the gate
(`read_profile`, one unit of work each, each writing its audit event) with no sealer running,
against the same reads while a sealer thread seals every half second. All on SQLite files in a
temporary folder; the schema is built from the models (as the tests do) and stamped at head.
`EMANET_BENCH_AUDIT_EVENTS` sets the size of (b) for a quick try.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import delete, func, insert, select, update

from bench.runner import Report, Timing
from bench.scratch_instance import open_runtime, sqlite_url
from broker.businesses.services import business_snapshot, create_business
from broker.gate import Caller, read_profile
from emanet.bootstrap import Runtime
from emanet.database import make_engine
from emanet.migrate import alembic_config
from emanet.schema import metadata
from schemas.agreements import AccessMode, AgreementTerms
from schemas.businesses import BusinessIn, ClientIn
from vault.access_log.leaves import ENTRY_SELECT, entry_bytes
from vault.access_log.merkle import Frontier
from vault.access_log.models import AccessCheckpoint, AccessEvent, AccessTreeNode, TreeHead
from vault.access_log.sealer import seal_pending
from vault.access_log.verify import verify_log
from vault.accounts.services import create_customer
from vault.agreements.services import Context, decide_request, request_agreement

SEAL_EVENTS = 20_000
VERIFY_EVENTS = int(os.environ.get("EMANET_BENCH_AUDIT_EVENTS") or 1_000_000)
SMALL_VERIFY = max(1, VERIFY_EVENTS // 10)
INSERT_CHUNK = 20_000
REPEATS = 5
PULL_CUSTOMERS = 100
PULLS = 2_000
SEALER_INTERVAL = 0.5
SEED = 20261124
FIELD_SETS = (
    ["contact.email", "contact.phone"],
    ["identity.family_name", "identity.given_name"],
    ["contact.address", "contact.email", "contact.phone", "identity.given_name"],
    ["interactions"],
)
KINDS = ("profile.read", "profile.read", "profile.read", "interaction.read", "interaction.append")


def open_model_runtime(directory: Path) -> Runtime:
    """A scratch SQLite instance whose schema comes from the models, stamped at head."""
    engine = make_engine(sqlite_url(directory))
    metadata.create_all(engine)
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.stamp(config, "head")
    engine.dispose()
    return open_runtime(directory)  # migrating is then a no-op


def event_rows(count: int, rng: random.Random, start: datetime) -> Iterator[list[dict]]:
    """Yield realistic gate events in chunks: a few thousand customers, fifty businesses."""
    customers = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(5_000)]
    businesses = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(50)]
    chunk: list[dict] = []
    for n in range(count):
        business = rng.randrange(len(businesses))
        allowed = rng.random() > 0.05
        chunk.append(
            {
                "at": start + timedelta(milliseconds=n),
                "kind": rng.choice(KINDS),
                "outcome": "allowed" if allowed else "denied:revoked",
                "actor": f"client:emc_{business:04d}",
                "customer_id": rng.choice(customers),
                "business_id": businesses[business],
                "agreement_id": uuid.UUID(int=rng.getrandbits(128)),
                "purpose": "CustomerCare",
                "fields": rng.choice(FIELD_SETS),
                "detail": None,
            }
        )
        if len(chunk) == INSERT_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def bulk_insert(runtime: Runtime, count: int, rng: random.Random) -> float:
    """Insert `count` events with executemany; return the seconds it took."""
    started = time.perf_counter()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with runtime.database.engine.begin() as connection:
        for chunk in event_rows(count, rng, start):
            connection.execute(insert(AccessEvent.__table__), chunk)
    return time.perf_counter() - started


def wal_checkpoint(runtime: Runtime) -> None:
    with runtime.database.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def unseal(runtime: Runtime) -> None:
    """Put the log back to freshly appended: no tree, no checkpoints."""
    with runtime.database.engine.begin() as connection:
        connection.execute(update(AccessEvent).values(chain_position=None, entry_hash=None))
        for table in (AccessTreeNode, TreeHead, AccessCheckpoint):
            connection.execute(delete(table))
    wal_checkpoint(runtime)


def sealing(report: Report, runtime: Runtime) -> None:
    """(a) seal_pending against raw SHA-256 of the same leaves, taking turns."""
    bulk_insert(runtime, SEAL_EVENTS, random.Random(SEED))
    with runtime.vault.unit_of_work(write=False) as uow:
        rows = uow.session.execute(select(*ENTRY_SELECT).order_by(AccessEvent.seq)).all()
    leaves = [entry_bytes(row, index) for index, row in enumerate(rows)]
    prefixed = [b"\x00" + leaf for leaf in leaves]
    sha256 = hashlib.sha256

    def raw() -> None:
        for data in prefixed:
            sha256(data).digest()

    def in_memory() -> None:
        frontier = Frontier(keep_every=4)
        for leaf in leaves:
            frontier.append(sha256(b"\x00" + leaf).digest())
        frontier.root()

    def seal() -> None:
        sealed = seal_pending(
            runtime.vault, settle_seconds=0, checkpoint_every=1000, checkpoint_seconds=60
        )
        if sealed != SEAL_EVENTS:
            raise RuntimeError(f"sealed {sealed} of {SEAL_EVENTS} events")

    loops: dict[str, tuple[Callable[[], None], Callable[[], None] | None]] = {
        "seal": (seal, lambda: unseal(runtime)),
        "raw": (raw, None),
        "memory": (in_memory, None),
    }
    timings = turns(loops)
    checked = verify_log(runtime.vault)
    if not checked.ok or checked.checkpoints != SEAL_EVENTS // 1000:
        raise RuntimeError(f"the sealed log does not verify: {checked}")
    names = {
        "seal": "seal_pending (20,000 events, checkpoint every 1,000)",
        "raw": "SHA-256 of the same leaf bytes",
        "memory": "leaf hash + in-memory tree append, same leaves",
    }
    for key, name in names.items():
        report.rate(name, SEAL_EVENTS, timings[key])
    report.ratio(
        "sealing ÷ raw SHA-256",
        names["seal"],
        names["raw"],
        "fraction of raw SHA-256 speed left once events are read, encoded, hashed into the "
        "tree, written back with their subtree hashes and signed every 1,000",
    )
    report.ratio(
        "tree arithmetic ÷ raw SHA-256",
        names["memory"],
        names["raw"],
        "the Merkle tree alone: about one node hash per leaf on top of the leaf hash",
    )
    sizes = [len(leaf) for leaf in leaves]
    report.note(
        f"(a) {SEAL_EVENTS:,} events bulk-inserted with realistic contents (gate reads and "
        f"appends of 5,000 customers by 50 businesses); leaves of {min(sizes)}–{max(sizes)} "
        f"bytes, mean {sum(sizes) / len(sizes):.0f}. Before each timed seal the tree, its kept "
        "hashes and checkpoints are cleared and the WAL folded in (untimed). After the last "
        f"seal `verify_log` found the log intact with {checked.checkpoints} checkpoints."
    )


def turns(
    loops: dict[str, tuple[Callable[[], None], Callable[[], None] | None]],
) -> dict[str, Timing]:
    """Like runner.measure, with an untimed reset before each run of a loop that needs one."""
    seconds: dict[str, list[float]] = {name: [] for name in loops}
    for repeat in range(1 + REPEATS):
        for name, (loop, reset) in loops.items():
            if reset is not None:
                reset()
            started = time.perf_counter()
            loop()
            if repeat:  # the first round warms up
                seconds[name].append(time.perf_counter() - started)
    return {name: Timing(tuple(values)) for name, values in seconds.items()}


def verify_subprocess(runtime: Runtime, directory: Path) -> tuple[float, int, dict[str, Any]]:
    """Run `emanet audit verify --json` in a fresh process; return seconds, peak KiB, report."""
    wrapper = (
        "import resource, sys\n"
        "from emanet.cli import main\n"
        "try:\n"
        "    main(['audit', 'verify', '--json'], prog_name='emanet')\n"
        "finally:\n"
        "    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "    sys.stderr.write(f'peak_kib={peak}\\n')\n"
    )
    env = {
        **os.environ,
        "EMANET_INSTANCE_DIR": str(runtime.settings.instance_dir),
        "EMANET_DATABASE_URL": runtime.settings.database_url,
        "EMANET_MODE": "test",
    }
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", wrapper], env=env, capture_output=True, text=True, cwd=directory
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"emanet audit verify failed: {done.stdout}\n{done.stderr}")
    peak = int(done.stderr.rsplit("peak_kib=", 1)[1].split()[0])
    return seconds, peak, json.loads(done.stdout)


def verify_million(report: Report, runtime: Runtime, directory: Path) -> None:
    """(b) Seal and verify SMALL_VERIFY events, then VERIFY_EVENTS."""
    rng = random.Random(SEED + 1)
    inserted = sealed_seconds = 0.0
    peaks: dict[int, int] = {}
    took: dict[int, float] = {}
    have = 0
    for size in (SMALL_VERIFY, VERIFY_EVENTS):
        inserted += bulk_insert(runtime, size - have, rng)
        started = time.perf_counter()
        sealed = seal_pending(runtime.vault, settle_seconds=0, checkpoint_seconds=60)
        sealed_seconds = time.perf_counter() - started
        if sealed != size - have:
            raise RuntimeError(f"sealed {sealed} of {size - have}")
        if size == VERIFY_EVENTS:
            report.rate(f"seal_pending, events {have + 1:,} to {size:,}", sealed, sealed_seconds)
        have = size
        wal_checkpoint(runtime)
        seconds, peak, result = verify_subprocess(runtime, directory)
        if not result["ok"] or result["checked"] != size:
            raise RuntimeError(f"verify did not pass over {size} events: {result}")
        peaks[size], took[size] = peak, seconds
        report.rate(f"emanet audit verify, {size:,} events", size, seconds)
    report.ratio(
        "verify, per event: 1,000,000 ÷ 100,000",
        f"emanet audit verify, {VERIFY_EVENTS:,} events",
        f"emanet audit verify, {SMALL_VERIFY:,} events",
        "time per event of a verification ten times larger; each run includes the process's "
        "start-up (about 3 s here), which weighs more on the smaller one, hence below 1",
        of="time",
    )
    size_mb = (directory / "emanet.db").stat().st_size / 1e6
    small, big = peaks[SMALL_VERIFY] / 1024, peaks[VERIFY_EVENTS] / 1024
    report.note(
        f"(b) `emanet audit verify --json` run with `python -c` in a new process (start-up "
        f"included) on {SMALL_VERIFY:,} and then {VERIFY_EVENTS:,} sealed events: "
        f"{took[VERIFY_EVENTS]:.1f} s for {VERIFY_EVENTS:,}. Peak RSS of the verifying "
        f"process: {small:.0f} MiB and {big:.0f} MiB (pages of 5,000 events; in memory only "
        "the tree's right edge, one page's kept hashes and at most 4,096 cached subtree "
        "hashes). Both passes found the log intact and checked every checkpoint "
        f"({VERIFY_EVENTS // 1000:,} at the end), each with a consistency proof from the one "
        f"before. Set-up: {VERIFY_EVENTS:,} events bulk-inserted in {inserted:.0f} s; the "
        f"database file is {size_mb:,.0f} MB."
    )


def pull_population(runtime: Runtime) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A business and PULL_CUSTOMERS customers who granted it three fields."""
    vault = runtime.vault
    with vault.unit_of_work() as uow:
        business_id, _ = create_business(
            uow,
            BusinessIn(
                legal_name="Bench Audit Shop",
                country="AZ",
                privacy_email="privacy@bench.example",
                privacy_address="Bakı",
                policy_url="https://bench.example/privacy",
            ),
            ClientIn(name="bench", redirect_uris=["https://bench.example/cb"]),
        )
    fields = {"identity.given_name": "read", "contact.email": "read", "contact.phone": "read"}
    terms = AgreementTerms.model_validate(
        {
            "purpose": "CustomerCare",
            "purpose_description": "Keep your record in step",
            "fields": [{"key": k, "mode": m} for k, m in fields.items()],
            "duration": "P1Y",
            "retention": "P30D",
        }
    )
    agreements = []
    for n in range(PULL_CUSTOMERS):
        with vault.unit_of_work() as uow:
            customer = create_customer(
                uow,
                f"audit-bench-{n}@example.org",
                "a perfectly long benchmark password",
                profile={
                    "identity.given_name": f"Name {n}",
                    "contact.email": f"audit-bench-{n}@example.org",
                    "contact.phone": f"+994 50 555 {n:02d} {n:02d}"[:17],
                },
            )
        with vault.unit_of_work() as uow:
            agreement = request_agreement(
                uow,
                business=business_snapshot(uow, business_id),
                terms=terms,
                context=Context(actor=f"business:{business_id}"),
                customer_id=customer,
            )
            uow.commit()
        with vault.unit_of_work() as uow:
            granted = {key: AccessMode(mode) for key, mode in fields.items()}
            decide_request(uow, agreement.id, customer, granted, Context(actor="customer"))
        agreements.append(agreement.id)
    return business_id, agreements


def pulls_with_and_without_sealer(report: Report, runtime: Runtime) -> None:
    """(c) Profile reads through the gate, with no sealer and with a sealer thread."""
    vault = runtime.vault
    business_id, agreements = pull_population(runtime)
    caller = Caller(business_id, "client:emc_bench")

    def pulls() -> None:
        for n in range(PULLS):
            with vault.unit_of_work() as uow:
                read_profile(uow, caller, agreements[n % len(agreements)], None)

    def with_sealer() -> None:
        stop = threading.Event()

        def sealer() -> None:
            while not stop.wait(SEALER_INTERVAL):
                seal_pending(vault, settle_seconds=0, checkpoint_seconds=5)

        thread = threading.Thread(target=sealer, name="bench-sealer")
        thread.start()
        try:
            pulls()
        finally:
            stop.set()
            thread.join()

    def catch_up() -> None:
        seal_pending(vault, settle_seconds=0)  # both loops start from a fully sealed log

    timings = turns({"off": (pulls, catch_up), "on": (with_sealer, catch_up)})
    off, on = "read_profile, no sealer", "read_profile, sealer every 0.5 s"
    report.rate(off, PULLS, timings["off"])
    report.rate(on, PULLS, timings["on"])
    report.ratio(
        "pulls with sealer ÷ without",
        on,
        off,
        "profile reads per second left while the sealer runs beside them (SQLite: one writer)",
    )
    with vault.unit_of_work(write=False) as uow:
        count = uow.session.scalar(select(func.count()).select_from(AccessEvent)) or 0
    checked = verify_log(vault)
    report.note(
        f"(c) {PULLS:,} `read_profile` calls (three granted fields) rotating over "
        f"{PULL_CUSTOMERS} customers, each in its own unit of work on one thread; each writes "
        "its audit event in the read's transaction. The sealer thread runs `seal_pending` "
        f"(settle 0 s, checkpoint every 1,000 events or 5 s) every {SEALER_INTERVAL} s. "
        f"Afterwards the log held {count:,} events and verified "
        f"{'intact' if checked.ok else 'BROKEN'}."
    )


def run(report: Report) -> None:
    """Build three scratch instances and measure (a), (b) and (c)."""
    with tempfile.TemporaryDirectory(prefix="emanet-bench-audit-") as folder:
        root = Path(folder)
        for part, work in (
            ("a", lambda rt, d: sealing(report, rt)),
            ("b", lambda rt, d: verify_million(report, rt, d)),
            ("c", lambda rt, d: pulls_with_and_without_sealer(report, rt)),
        ):
            directory = root / part
            directory.mkdir()
            runtime = open_model_runtime(directory)
            try:
                work(runtime, directory)
            finally:
                runtime.close()
