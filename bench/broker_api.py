"""The broker API under gunicorn (2 workers on 127.0.0.1): profile pulls, bulk sync, tokens.

(1) `GET /api/v1/customers/{id}/profile` with a client-credentials token, rotating over 1,000
customers, against the metadata document `GET /.well-known/oauth-authorization-server` (which
touches no database), both driven by wrk with 2 threads and 16 connections for 10 s. (2) One
client paging through `GET /api/v1/sync/profiles?limit=500` for 20,000 customers' granted
profiles, against raw AES-GCM decrypts and `json.loads` of the very same ciphertexts. (3)
`POST /oauth/token` (client credentials, HTTP basic) under wrk, against the metadata document on
the same server; Flask-Limiter reads `RATELIMIT_ENABLED` from the Flask config only, never from
the environment, so this part runs on a second server whose app is built with
`create_app(config={"RATELIMIT_ENABLED": False})`.

The data are made through the use cases (`create_customer`, `create_business`,
`request_agreement`, `decide_request`) on PostgreSQL when `EMANET_BENCH_DATABASE_URL` is set (a
scratch database is created beside it and dropped afterwards), else on a SQLite file in a
temporary folder. `EMANET_BENCH_BROKER_CUSTOMERS` makes a smaller population for a quick try.
Needs wrk (Debian: `apt-get install wrk`).
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import func, make_url, select, text

from bench.runner import Report, Timing, measure
from broker.businesses.services import business_snapshot, create_business
from broker.pairwise import subject_for
from emanet import migrate
from emanet.bootstrap import Runtime, build_runtime
from emanet.database import make_engine
from emanet.demo_data import demo_people, demo_profile
from emanet.settings import Settings
from schemas.agreements import AccessMode, AgreementTerms
from schemas.businesses import BusinessIn, ClientIn
from vault.access_log.models import AccessEvent
from vault.accounts.passwords import Argon2Cost, Passwords
from vault.accounts.services import create_customer
from vault.agreements.services import Context, decide_request, request_agreement
from vault.keys.local_keyring import LocalKeyring
from vault.keys.rotation import register_active_kek
from vault.profile.models import ProfileField
from vault.profile.services import field_aad

CUSTOMERS = int(os.environ.get("EMANET_BENCH_BROKER_CUSTOMERS") or 20_000)
PULLED = min(1_000, CUSTOMERS)  # the customers whose profiles wrk rotates over
SYNC_LIMIT = 500
WORKERS = 2
WRK_THREADS = 2
WRK_CONNECTIONS = 16
WRK_SECONDS = 10
WRK_WARMUP_SECONDS = 2
PROFILE_TARGET = 0.5
SEED = 20261124
SETUP_BATCH = 500
# Argon2id at a cost set-up can afford 20,000 times: password hashing is not measured here.
BENCH_ARGON2 = Argon2Cost(time_cost=1, memory_cost_kib=8192, parallelism=1)
PASSWORD = "a perfectly long benchmark password"
# What the business asks for and the customers grant, all of it: five fields to read.
GRANTED = {
    "identity.given_name": "read",
    "identity.family_name": "read",
    "contact.email": "read",
    "contact.phone": "read",
    "contact.address": "read",
}
# A field every customer also keeps that the business was not granted (minimisation is
# checked). Each field stored costs set-up about a millisecond, hence no more.
NOT_GRANTED = ("identity.birth_date",)
METADATA_PATH = "/.well-known/oauth-authorization-server"
REDIRECT_URI = "https://bench.example/callback"
ROOT = Path(__file__).resolve().parents[1]

# One wrk script for every run: it rotates over the request paths in a file (one per line),
# sends the method, body and headers given after `--`, and prints its figures as JSON.
WRK_SCRIPT = r"""
local paths, headers, method, body = {}, {}, "GET", nil
local index = 0
local threads = 0

function setup(thread)
  thread:set("thread_number", threads)
  threads = threads + 1
end

function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  method = args[2]
  if args[3] ~= "" then body = args[3] end
  for i = 4, #args do
    local name, value = args[i]:match("^([^:]+):%s*(.*)$")
    headers[name] = value
  end
  -- the threads start half-way round from each other
  index = (thread_number * math.floor(#paths / 2)) % #paths
end

function request()
  index = index % #paths + 1
  return wrk.format(method, paths[index], headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %.0f, "duration_us": %.0f, "connect": %.0f, "read": %.0f, ' ..
    '"write": %.0f, "status": %.0f, "timeout": %.0f, "p50_us": %.0f, "p90_us": %.0f, ' ..
    '"p99_us": %.0f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
"""


# --------------------------------------------------------------------------------------------
# The database and the population


@dataclass
class Store:
    """Where the run keeps its data."""

    url: str
    description: str
    is_sqlite: bool


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_admin(url: str, statement: str) -> None:
    with psycopg.connect(_libpq(url), autocommit=True) as connection:
        connection.execute(statement)


@contextmanager
def scratch_database(directory: Path) -> Iterator[Store]:
    """A new PostgreSQL database beside EMANET_BENCH_DATABASE_URL, or a SQLite file."""
    base = os.environ.get("EMANET_BENCH_DATABASE_URL")
    if not base:
        yield Store(
            f"sqlite:///{directory / 'emanet.db'}",
            "SQLite file in a temporary folder (WAL, synchronous=NORMAL, as Emanet sets it)",
            is_sqlite=True,
        )
        return
    name = f"emanet_bench_{secrets.token_hex(4)}"
    _pg_admin(base, f'CREATE DATABASE "{name}"')
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        yield Store(
            url,
            f"PostgreSQL: scratch database {name} beside EMANET_BENCH_DATABASE_URL "
            "(host " + str(make_url(base).host or "local socket") + "), dropped afterwards",
            is_sqlite=False,
        )
    finally:
        _pg_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class PrehashedPasswords(Passwords):
    """Hashes set-up's passwords on a second thread, ahead of the customers that need them.

    Every customer still gets an Argon2id hash of its own at the cost in Settings; Argon2 lets
    go of the GIL while it works, so the hashing runs on the second core beside the main
    thread's database work instead of before it.
    """

    def __init__(self, cost: Argon2Cost, count: int) -> None:
        super().__init__(cost)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-argon2")
        plain = Passwords(cost)
        self._ahead = self._pool.map(plain.hash, itertools.repeat(PASSWORD, count))

    def hash(self, password: str) -> str:
        if password != PASSWORD:
            return super().hash(password)
        return next(self._ahead)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


@dataclass
class Population:
    """What set-up made: one business with its client, customers with active agreements."""

    business_id: uuid.UUID
    client_id: str
    client_secret: str
    customers: list[uuid.UUID] = field(default_factory=list)
    agreements: list[uuid.UUID] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)  # pairwise ids of the first PULLED
    seconds: dict[str, float] = field(default_factory=dict)


def open_runtime(directory: Path, store: Store) -> Runtime:
    """Migrate the database, create a keyring, and build the runtime as the app does."""
    instance = directory / "instance"
    instance.mkdir()
    engine = make_engine(store.url)
    migrate.upgrade(engine)
    engine.dispose()
    settings = Settings(
        instance_dir=instance,
        database_url=store.url,
        secret_key="bench-secret-key-" + uuid.uuid4().hex,
        argon2=BENCH_ARGON2,
        mode="test",
    )
    LocalKeyring.create(settings.keyring_path)
    runtime = build_runtime(settings)
    register_active_kek(runtime.vault)
    return runtime


def terms() -> AgreementTerms:
    return AgreementTerms.model_validate(
        {
            "purpose": "CustomerCare",
            "purpose_description": "Keep your customer record in step with your vault",
            "fields": [{"key": k, "mode": m} for k, m in GRANTED.items()],
            "duration": "P1Y",
            "retention": "P30D",
        }
    )


def populate(report: Report, runtime: Runtime) -> Population:
    """Make the business, the customers (demo profiles) and their granted agreements."""
    vault = runtime.vault
    started = time.perf_counter()
    with vault.unit_of_work() as uow:
        business_id, issued = create_business(
            uow,
            BusinessIn(
                legal_name="Bench Bazaar",
                country="AZ",
                privacy_email="privacy@bench.example",
                privacy_address="Nizami küçəsi 1, Bakı",
                policy_url="https://bench.example/privacy",
            ),
            ClientIn(name="Bench Bazaar CRM", redirect_uris=[REDIRECT_URI]),
            actor="bench",
        )
    population = Population(business_id, issued.client_id, issued.client_secret)
    rng = random.Random(SEED)
    people = demo_people()
    keep = set(GRANTED) | set(NOT_GRANTED)
    asked = terms()
    granted = {k: AccessMode(m) for k, m in GRANTED.items()}
    as_business = Context(actor=f"client:{issued.client_id}")
    as_customer = Context(actor="customer", ip="192.0.2.10", user_agent="Emanet bench")
    prehashed = PrehashedPasswords(BENCH_ARGON2, CUSTOMERS)
    usual_passwords, vault.passwords = vault.passwords, prehashed
    creating = agreeing = 0.0
    try:
        for start in range(0, CUSTOMERS, SETUP_BATCH):
            batch: list[uuid.UUID] = []
            mark = time.perf_counter()
            for number in range(start, min(CUSTOMERS, start + SETUP_BATCH)):
                locale, given, family = people[number % len(people)]
                profile = {
                    k: v for k, v in demo_profile(rng, locale, given, family).items() if k in keep
                }
                with vault.unit_of_work() as uow:
                    batch.append(
                        create_customer(
                            uow,
                            f"bench-{number}@example.org",
                            PASSWORD,
                            locale=locale.code,
                            profile=profile,
                        )
                    )
            creating += time.perf_counter() - mark
            mark = time.perf_counter()
            # request_agreement leaves the commit to its caller: one transaction per batch.
            with vault.unit_of_work() as uow:
                snapshot = business_snapshot(uow, business_id)
                requested = [
                    request_agreement(
                        uow, business=snapshot, terms=asked, context=as_business, customer_id=c
                    ).id
                    for c in batch
                ]
                uow.commit()
            for agreement_id, customer_id in zip(requested, batch, strict=True):
                with vault.unit_of_work() as uow:
                    decide_request(uow, agreement_id, customer_id, granted, as_customer)
            agreeing += time.perf_counter() - mark
            population.customers += batch
            population.agreements += requested
            done = len(population.customers)
            if done % 5_000 == 0 or done == CUSTOMERS:
                report.echo(
                    f"  set-up: {done:,}/{CUSTOMERS:,} customers "
                    f"({time.perf_counter() - started:.0f} s)"
                )
    finally:
        prehashed.close()
        vault.passwords = usual_passwords
    mark = time.perf_counter()
    with vault.unit_of_work() as uow:
        population.subjects = [
            subject_for(uow, business_id, c) for c in population.customers[:PULLED]
        ]
        uow.commit()
    population.seconds = {
        "create_customer": creating,
        "request + decide": agreeing,
        "pairwise ids": time.perf_counter() - mark,
        "total": time.perf_counter() - started,
    }
    return population


def count_profile_reads(runtime: Runtime) -> int:
    with runtime.database.session(write=False) as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(AccessEvent)
                .where(AccessEvent.kind == "profile.read")
            )
            or 0
        )


def access_log_bytes(runtime: Runtime, store: Store) -> int | None:
    """Bytes the access log's table and indexes take, where the database can tell."""
    with runtime.database.engine.connect() as connection:
        if not store.is_sqlite:
            return int(connection.scalar(text("SELECT pg_total_relation_size('access_events')")))
        try:
            return int(
                connection.scalar(
                    text(
                        "SELECT sum(pgsize) FROM dbstat WHERE name IN (SELECT name FROM "
                        "sqlite_master WHERE tbl_name = 'access_events')"
                    )
                )
                or 0
            )
        except Exception:  # SQLite built without the dbstat table
            return None


# --------------------------------------------------------------------------------------------
# The server and its clients


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(directory: Path, runtime: Runtime, *, rate_limits: bool) -> Iterator[str]:
    """Serve the run's database and keyring with gunicorn (`WORKERS` workers) on a free port."""
    settings = runtime.settings
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "EMANET_INSTANCE_DIR": str(settings.instance_dir),
        "EMANET_DATABASE_URL": settings.database_url,
        "EMANET_SECRET_KEY": settings.secret_key or "",
        "EMANET_MODE": "test",
        "EMANET_ISSUER": base,
    }
    where = ["--host", "127.0.0.1", "--port", str(port), "--workers", str(WORKERS)]
    if rate_limits:
        command = [sys.executable, "-m", "emanet.cli", "serve", *where]
    else:
        command = [sys.executable, "-m", "bench.broker_api", "serve-without-rate-limits", *where]
    log = directory / f"server-{port}.log"
    with log.open("wb") as errors:
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=errors
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    tail = log.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"the server did not start:\n{tail}") from None
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def basic_auth(population: Population) -> str:
    pair = f"{population.client_id}:{population.client_secret}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def fetch_token(base: str, population: Population) -> str:
    """Get a client-credentials access token (bulk sync scope)."""
    request = urllib.request.Request(
        f"{base}/oauth/token",
        data=b"grant_type=client_credentials",
        headers={
            "Authorization": basic_auth(population),
            "Content-Type": "application/x-www-form-urlencoded",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        body = json.loads(answer.read())
    if body.get("scope") != "bulk_sync" or not body.get("access_token"):
        raise RuntimeError(f"unexpected token response: {body}")
    return str(body["access_token"])


def get_json(url: str, token: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"GET {url}: {error.code} {error.read()[:500]!r}") from None


@dataclass(frozen=True)
class WrkRun:
    """What one wrk run reports."""

    requests: int
    seconds: float
    p50: float
    p90: float
    p99: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def describe(self) -> str:
        return (
            f"{self.per_second:,.0f} req/s, p50 {self.p50 * 1e3:.1f} ms, "
            f"p90 {self.p90 * 1e3:.1f} ms, p99 {self.p99 * 1e3:.1f} ms "
            f"({self.requests:,} requests in {self.seconds:.1f} s)"
        )


def require_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError(
            "wrk is not installed, and this benchmark drives the server with it. Install it "
            "(Debian/Ubuntu: `sudo apt-get install -y wrk`; macOS: `brew install wrk`) and run "
            "the benchmark again."
        )
    return found


def run_wrk(
    wrk: str,
    directory: Path,
    base: str,
    paths: Sequence[str],
    *,
    seconds: int,
    method: str = "GET",
    body: str = "",
    headers: Sequence[str] = (),
) -> WrkRun:
    """Drive the server with wrk over these paths; fail on any error or non-2xx answer."""
    script = directory / "rotate.lua"
    if not script.exists():
        script.write_text(WRK_SCRIPT)
    listing = directory / f"paths-{secrets.token_hex(3)}.txt"
    listing.write_text("\n".join(paths) + "\n")
    command = [
        wrk,
        f"-t{WRK_THREADS}",
        f"-c{WRK_CONNECTIONS}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(script),
        base,
        "--",
        str(listing),
        method,
        body,
        *headers,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    figures = json.loads(lines[-1].removeprefix("BENCH "))
    errors = {k: figures[k] for k in ("connect", "read", "write", "status", "timeout")}
    if any(errors.values()) or not figures["requests"]:
        raise RuntimeError(
            f"wrk {method} {paths[0]}: errors {errors} (status = answers not 2xx/3xx):\n"
            f"{done.stdout}"
        )
    return WrkRun(
        int(figures["requests"]),
        figures["duration_us"] / 1e6,
        figures["p50_us"] / 1e6,
        figures["p90_us"] / 1e6,
        figures["p99_us"] / 1e6,
    )


def record_wrk(report: Report, name: str, run: WrkRun) -> None:
    """Record a wrk run's throughput, and its median latency as a one-op 'rate'."""
    report.rate(name, run.requests, run.seconds)
    report.rate(f"{name}: p50 latency (µs/op = p50)", 1, run.p50)


# --------------------------------------------------------------------------------------------
# The three measurements


def profile_pulls(
    report: Report, wrk: str, directory: Path, base: str, runtime: Runtime, pop: Population
) -> None:
    """(1) Profile pulls against the metadata document, wrk against wrk."""
    token = fetch_token(base, pop)
    auth = [f"Authorization: Bearer {token}"]
    profile_paths = [f"/api/v1/customers/{s}/profile" for s in pop.subjects]
    sample = get_json(base + profile_paths[0], token)
    if set(sample["fields"]) != set(GRANTED):
        raise RuntimeError(f"a profile pull returned {sorted(sample['fields'])}")
    if get_json(base + METADATA_PATH).get("issuer") != base:
        raise RuntimeError("the metadata document does not name this server")
    before = count_profile_reads(runtime)
    pulled = 1
    # Warm-up: each worker imports lazily, fills its DEK cache and its statement caches.
    run_wrk(wrk, directory, base, [METADATA_PATH], seconds=WRK_WARMUP_SECONDS, headers=auth)
    warm = run_wrk(wrk, directory, base, profile_paths, seconds=WRK_WARMUP_SECONDS, headers=auth)
    pulled += warm.requests
    metadata = run_wrk(wrk, directory, base, [METADATA_PATH], seconds=WRK_SECONDS, headers=auth)
    profile = run_wrk(wrk, directory, base, profile_paths, seconds=WRK_SECONDS, headers=auth)
    pulled += profile.requests
    logged = count_profile_reads(runtime) - before
    record_wrk(report, "GET metadata document (wrk)", metadata)
    record_wrk(report, "GET customer profile (wrk, 1,000 customers)", profile)
    report.ratio(
        "profile pull ÷ metadata document",
        "GET customer profile (wrk, 1,000 customers)",
        "GET metadata document (wrk)",
        "requests/s of authenticated, gated, logged profile reads (token lookup, agreement "
        f"check, {len(GRANTED)} fields decrypted, access event appended, commit) as a "
        "fraction of a database-free JSON answer from the same server",
        at_least=PROFILE_TARGET,
    )
    report.ratio(
        "profile pull p50 ÷ metadata p50",
        "GET customer profile (wrk, 1,000 customers): p50 latency (µs/op = p50)",
        "GET metadata document (wrk): p50 latency (µs/op = p50)",
        "median latency of a profile read as a multiple of the metadata document's, at 16 "
        "connections (so it includes the time queued for one of the 2 workers)",
        of="time",
    )
    report.note(
        f"(1) wrk {WRK_THREADS} threads, {WRK_CONNECTIONS} connections, {WRK_SECONDS} s, "
        f"`--latency`, one measured run each after a {WRK_WARMUP_SECONDS} s warm-up of each, "
        "metadata first, then profiles; a Lua script rotates over the 1,000 profile URLs (the "
        "two threads half-way apart) and sends `Authorization: Bearer` (also to the metadata "
        "document, which ignores it). No errors and no non-2xx answers were allowed. "
        f"Metadata: {metadata.describe()}. Profile: {profile.describe()}."
    )
    report.note(
        f"Access log: every profile read appends one `profile.read` event. The pulls of (1) "
        f"({pulled:,} answered: warm-up, measured run and one check) added {logged:,} events"
        + (
            ""
            if logged == pulled
            else f" ({logged - pulled:+,}: reads in flight when wrk stopped counting)"
        )
        + f": the log grows by {profile.per_second:,.0f} events a second at the measured rate, "
        f"{profile.per_second * 86_400 / 1e6:,.1f} million a day if it were kept up."
    )


@dataclass
class SyncResult:
    seconds: float
    pages: int
    profiles: dict[str, dict]  # agreement id → granted fields (values)


def bulk_sync(base: str, pop: Population) -> SyncResult:
    """Page through every granted profile with one client; time the whole pass."""
    token = fetch_token(base, pop)
    profiles: dict[str, dict] = {}
    pages = 0
    url = f"{base}/api/v1/sync/profiles?limit={SYNC_LIMIT}"
    started = time.perf_counter()
    cursor: str | None = None
    while True:
        page = get_json(url + (f"&cursor={cursor}" if cursor else ""), token)
        pages += 1
        for item in page["items"]:
            profiles[item["agreement_id"]] = {k: f["value"] for k, f in item["fields"].items()}
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return SyncResult(time.perf_counter() - started, pages, profiles)


def raw_decrypts(runtime: Runtime, pop: Population) -> tuple[Timing, dict[uuid.UUID, dict]]:
    """Decrypt the granted fields' ciphertexts of every customer with bare AESGCM objects."""
    current = ProfileField.__table__.c
    vault = runtime.vault
    vault.data_keys.cache.clear()  # unwrap each data key afresh, through the vault's DataKeys
    with runtime.database.session(write=False) as session:
        rows = session.execute(
            select(
                current.customer_id, current.field_key, current.version, current.ciphertext
            ).where(current.field_key.in_(list(GRANTED)))
        ).all()
        ciphers = {c: AESGCM(vault.data_keys.get(session, c)) for c in pop.customers}
    items = [
        (
            ciphers[row.customer_id].decrypt,
            row.ciphertext[:12],
            row.ciphertext[12:],
            field_aad(row.customer_id, row.field_key, row.version),
        )
        for row in rows
    ]
    loads = json.loads

    def decrypt_all() -> None:
        for decrypt, nonce, sealed, aad in items:
            loads(decrypt(nonce, sealed, aad))

    timing = measure({"raw": decrypt_all}, repeats=5)["raw"]
    values: dict[uuid.UUID, dict] = {c: {} for c in pop.customers}
    for (decrypt, nonce, sealed, aad), row in zip(items, rows, strict=True):
        values[row.customer_id][row.field_key] = loads(decrypt(nonce, sealed, aad))
    if len(rows) != len(pop.customers) * len(GRANTED):
        raise RuntimeError(f"{len(rows)} granted rows for {len(pop.customers)} customers")
    return timing, values


def tokens(report: Report, wrk: str, directory: Path, base: str, pop: Population) -> None:
    """(3) Client-credentials tokens against the metadata document, on the limiter-off server."""
    fetch_token(base, pop)
    auth = [f"Authorization: {basic_auth(pop)}"]
    token_args = {
        "method": "POST",
        "body": "grant_type=client_credentials",
        "headers": [*auth, "Content-Type: application/x-www-form-urlencoded"],
    }
    run_wrk(wrk, directory, base, [METADATA_PATH], seconds=WRK_WARMUP_SECONDS)
    run_wrk(wrk, directory, base, ["/oauth/token"], seconds=WRK_WARMUP_SECONDS, **token_args)
    metadata = run_wrk(wrk, directory, base, [METADATA_PATH], seconds=WRK_SECONDS)
    issued = run_wrk(wrk, directory, base, ["/oauth/token"], seconds=WRK_SECONDS, **token_args)
    record_wrk(report, "GET metadata document (wrk, limiter-off server)", metadata)
    record_wrk(report, "POST /oauth/token client credentials (wrk)", issued)
    report.ratio(
        "client-credentials tokens ÷ metadata document",
        "POST /oauth/token client credentials (wrk)",
        "GET metadata document (wrk, limiter-off server)",
        "tokens/s (client authenticated by keyed hash, token stored as a keyed hash, commit) "
        "as a fraction of a database-free JSON answer from the same server",
    )
    report.note(
        "(3) The token endpoint is limited to 120 requests a minute per address and worker "
        "(emanet/rate_limits.py). Flask-Limiter 4 takes `RATELIMIT_ENABLED` from the Flask "
        "config only (`Limiter.init_app` reads `app.config`; Emanet does not copy environment "
        "variables into it), so setting it in the server's environment would change nothing. "
        "This part therefore runs on a second gunicorn server (same options, same "
        "database), started as `python -m bench.broker_api serve-without-rate-limits`, whose "
        "app is `create_app(config={'RATELIMIT_ENABLED': False})`; the metadata document is "
        "measured again on that server as the denominator. wrk as in (1), POSTing "
        "`grant_type=client_credentials` with HTTP basic client authentication; no 429 or "
        f"other non-2xx answer was allowed. Metadata: {metadata.describe()}. Tokens: "
        f"{issued.describe()}."
    )


def run(report: Report) -> None:
    """Set up the data, serve it, and measure (1), (2) and (3)."""
    wrk = require_wrk()
    with tempfile.TemporaryDirectory(prefix="emanet-bench-broker-") as folder:
        directory = Path(folder)
        with scratch_database(directory) as store:
            runtime = open_runtime(directory, store)
            try:
                measure_all(report, wrk, directory, store, runtime)
            finally:
                runtime.close()


def measure_all(report: Report, wrk: str, directory: Path, store: Store, runtime: Runtime) -> None:
    pop = populate(report, runtime)
    took = pop.seconds
    report.note(
        f"Database: {store.description}. Set-up took {took['total']:.0f} s: "
        f"{CUSTOMERS:,} × `create_customer` with a demo profile of {len(GRANTED)} + "
        f"{len(NOT_GRANTED)} fields ({took['create_customer']:.0f} s, "
        f"{took['create_customer'] / CUSTOMERS * 1e3:.1f} ms each; Argon2id at t=1, 8 MiB, "
        "p=1, hashed ahead on a second thread), "
        f"{CUSTOMERS:,} × `request_agreement` (one transaction per {SETUP_BATCH}) + "
        f"`decide_request` granting all {len(GRANTED)} fields "
        f"({took['request + decide']:.0f} s), and "
        f"pairwise ids of {PULLED:,} customers ({took['pairwise ids']:.1f} s); one business "
        "with one OAuth client."
    )
    events_before = count_profile_reads(runtime)
    log_bytes_before = access_log_bytes(runtime, store)
    with serving(directory, runtime, rate_limits=True) as base:
        profile_pulls(report, wrk, directory, base, runtime, pop)
        synced = bulk_sync(base, pop)
    events_after = count_profile_reads(runtime)
    log_bytes_after = access_log_bytes(runtime, store)

    raw, values = raw_decrypts(runtime, pop)
    by_agreement = dict(zip(map(str, pop.agreements), pop.customers, strict=True))
    if len(synced.profiles) != CUSTOMERS:
        raise RuntimeError(f"bulk sync returned {len(synced.profiles)} of {CUSTOMERS} profiles")
    for agreement_id, fields in synced.profiles.items():
        if fields != values[by_agreement[agreement_id]]:
            raise RuntimeError(f"bulk sync and raw decrypt differ for agreement {agreement_id}")
    report.rate("bulk sync, limit=500, one client (profiles)", CUSTOMERS, synced.seconds)
    report.rate("AESGCM.decrypt + json.loads, same rows (profiles)", CUSTOMERS, raw)
    report.ratio(
        "bulk sync ÷ raw decrypt",
        "bulk sync, limit=500, one client (profiles)",
        "AESGCM.decrypt + json.loads, same rows (profiles)",
        "profiles/s a business gets through /api/v1/sync/profiles as a fraction of decrypting "
        f"and decoding the same {len(GRANTED)} ciphertexts per customer directly",
    )
    report.note(
        f"(2) One client (urllib) follows `next_cursor` through {synced.pages} pages of "
        f"`/api/v1/sync/profiles?limit={SYNC_LIMIT}` with a client-credentials token: "
        f"{CUSTOMERS:,} profiles in {synced.seconds:.1f} s, one pass (timed from the first "
        "request to the last answer; the token is fetched before). Every profile was checked "
        f"against the raw decrypt: exactly the {len(GRANTED)} granted fields, same values "
        f"({', '.join(NOT_GRANTED)}, kept by every customer but not granted, never appears). "
        "The raw baseline reads those "
        f"{CUSTOMERS * len(GRANTED):,} rows from `profile_fields`, unwraps each customer's "
        "data key through the vault's `DataKeys` (cache emptied first) and builds one "
        "`AESGCM` per customer, all untimed; it times only `decrypt` + `json.loads` over "
        "every row (best of 5 after a warm-up). The server keeps the default DEK cache "
        "(EMANET_DEK_CACHE_SIZE=10,000 per worker), smaller than the 20,000 customers synced."
    )
    growth = events_after - events_before
    size = ""
    if log_bytes_before is not None and log_bytes_after is not None:
        added = log_bytes_after - log_bytes_before
        size = (
            f"; the access log's table and indexes grew by {added / 1e6:.1f} MB "
            f"({added / max(growth, 1):.0f} bytes per event)"
        )
    report.note(
        f"Access log growth while serving (1) and (2): {growth:,} `profile.read` events "
        f"({growth - CUSTOMERS:,} from (1), {CUSTOMERS:,} from the one sync pass){size}. "
        "A bulk sync of N customers appends N events, one per profile, each in its own "
        "transaction."
    )
    with serving(directory, runtime, rate_limits=False) as base:
        tokens(report, wrk, directory, base, pop)
    report.note(
        f"Servers: `python -m emanet.cli serve --workers {WORKERS}` (gunicorn sync workers, "
        "access log to stdout, sent to /dev/null) with EMANET_MODE=test on 127.0.0.1; wrk "
        f"runs on the same {os.cpu_count()} CPUs as the server, so both share them. Rates "
        "from wrk are of one run each (`ops × repeats` = requests × 1); the `p50 latency` "
        "rows hold one latency each, read in the µs/op column."
    )


def serve_without_rate_limits(argv: Sequence[str]) -> None:
    """`emanet serve`, with the app built with Flask-Limiter off (for the token benchmark)."""
    import argparse

    from emanet import cli_serve
    from emanet.app import create_app

    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=WORKERS)
    args = parser.parse_args(argv)

    class UnlimitedServer(cli_serve.EmanetServer):
        def load(self) -> object:
            return create_app(config={"RATELIMIT_ENABLED": False})

    # run_server builds `EmanetServer` with the options `emanet serve` uses: keep them.
    cli_serve.EmanetServer = UnlimitedServer  # type: ignore[misc]
    cli_serve.run_server(args.host, args.port, args.workers)


if __name__ == "__main__":
    if sys.argv[1:2] != ["serve-without-rate-limits"]:
        raise SystemExit("usage: python -m bench.broker_api serve-without-rate-limits --port P")
    serve_without_rate_limits(sys.argv[2:])
