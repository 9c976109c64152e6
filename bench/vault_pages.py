"""Vault pages under gunicorn (2 workers on 127.0.0.1), and the ZIP export of a large vault.

(1) The signed-in customer's "my data" page (`GET /data`, every catalogue field filled) and the
first page of their access log (`GET /access-log`, 10,000 entries), each against the landing
page (`GET /?lang=en` for an anonymous visitor) served by the same server in the same run, all
driven by wrk with 2 threads and 8 connections for 8 s. (2) `emanet customer export <id> --zip`
run under `/usr/bin/time -v` for vaults of 1,000 and 10,000 interactions (and an empty one, the
process's own footprint): wall time, peak resident memory, and the size of the ZIP.

The data are made through the use cases (`create_customer` with a profile, the factories'
`make_active_agreement`, `append_event`, `record_interaction`) on a SQLite file in a temporary
folder. Needs wrk (Debian: `apt-get install wrk`) and GNU time (`apt-get install time`).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import requests
from sqlalchemy import event, func, select

from bench.runner import Report, Timing
from emanet import migrate
from emanet.app import create_app
from emanet.bootstrap import Runtime, build_runtime
from emanet.database import make_engine
from emanet.settings import Settings
from schemas.field_catalogue import FIELD_CATALOGUE
from schemas.interactions import InteractionEntry, InteractionKind
from tests.factories import make_active_agreement, make_business
from tests.field_examples import GOOD_VALUES
from vault.access_log.models import AccessEvent
from vault.access_log.services import LogEntry, append_event
from vault.accounts.passwords import Argon2Cost
from vault.accounts.services import create_customer
from vault.interactions.services import CUSTOMER_AUTHOR, record_interaction
from vault.keys.local_keyring import LocalKeyring
from vault.keys.rotation import register_active_kek

LOG_ENTRIES = 10_000
LOG_BATCH = 500  # access events appended per unit of work
SMALL_VAULT = 1_000
LARGE_VAULT = 10_000
INTERACTION_BATCH = 500  # interactions recorded per unit of work
EXPORT_REPEATS = 3  # each export runs this many times, taking turns; the best time is kept
WORKERS = 2
WRK_THREADS = 2
WRK_CONNECTIONS = 8
WRK_SECONDS = 8
WRK_WARMUP_SECONDS = 2
# Argon2id cheap enough for set-up; the one sign-in checks the hash at the cost it was made with.
BENCH_ARGON2 = Argon2Cost(time_cost=1, memory_cost_kib=8192, parallelism=1)
PASSWORD = "a perfectly long benchmark password"
PAGE_EMAIL = "pages@bench.example"
# What the business reads of the page customer, and what each of the 10,000 log entries names.
GRANTED = {
    "identity.given_name": "read",
    "identity.family_name": "read",
    "contact.email": "read",
    "contact.phone": "read",
    "contact.address": "read",
}
VERBATIM = ("identity.given_name", "identity.family_name", "work.employer", "work.job_title")
LANDING = "/?lang=en"
DATA = "/data"
ACCESS_LOG = "/access-log"
LOG_PAGE_ROWS = 50  # PAGE_SIZE of vault.access_log_views
IN_PROCESS_REQUESTS = 50
ROOT = Path(__file__).resolve().parents[1]
EMANET = ROOT / ".venv" / "bin" / "emanet"
# At 10x the interactions, the export's peak RSS may grow by this factor at most.
RSS_GROWTH_TARGET = 1.5

# One path, the headers given with -H; counts every answer that is not a 200 (a lost session
# would answer 303 to the sign-in page, which wrk itself does not count as an error).
WRK_SCRIPT = r"""
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  not_ok = 0
end

function response(status, headers, body)
  if status ~= 200 then not_ok = not_ok + 1 end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("not_ok") end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %.0f, "duration_us": %.0f, "bytes": %.0f, "connect": %.0f, ' ..
    '"read": %.0f, "write": %.0f, "status": %.0f, "timeout": %.0f, "not_200": %.0f, ' ..
    '"p50_us": %.0f, "p90_us": %.0f, "p99_us": %.0f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, bad, latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
"""


# --------------------------------------------------------------------------------------------
# The database and the data


def open_runtime(directory: Path) -> Runtime:
    """Migrate a SQLite file, create a keyring, and build the runtime as the app does."""
    instance = directory / "instance"
    instance.mkdir()
    url = f"sqlite:///{directory / 'emanet.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    settings = Settings(
        instance_dir=instance,
        database_url=url,
        secret_key="bench-secret-key-" + uuid.uuid4().hex,
        argon2=BENCH_ARGON2,
        mode="test",
    )
    LocalKeyring.create(settings.keyring_path)
    runtime = build_runtime(settings)
    register_active_kek(runtime.vault)
    return runtime


def full_profile() -> dict[str, object]:
    """Every catalogue field, with the raw values a form would send (tests/field_examples)."""
    missing = set(FIELD_CATALOGUE) - set(GOOD_VALUES)
    if missing:
        raise RuntimeError(f"tests/field_examples.py has no example of {sorted(missing)}")
    return {key: GOOD_VALUES[key][0] for key in FIELD_CATALOGUE}


@dataclass
class Population:
    """What set-up made."""

    business_id: uuid.UUID
    page_customer: uuid.UUID
    export_customers: dict[int, uuid.UUID]  # interactions → customer
    seconds: dict[str, float]


def new_customer(runtime: Runtime, email: str) -> uuid.UUID:
    with runtime.vault.unit_of_work() as uow:
        return create_customer(uow, email, PASSWORD, profile=full_profile())


def fill_access_log(
    runtime: Runtime, customer_id: uuid.UUID, business_id: uuid.UUID, agreement_id: uuid.UUID
) -> None:
    """Append LOG_ENTRIES profile reads under the agreement, committing every LOG_BATCH."""
    entry = LogEntry(
        kind="profile.read",
        actor=f"business:{business_id}",
        customer_id=customer_id,
        business_id=business_id,
        agreement_id=agreement_id,
        purpose="CustomerCare",
        fields=list(GRANTED),
    )
    for start in range(0, LOG_ENTRIES, LOG_BATCH):
        with runtime.vault.unit_of_work() as uow:
            for _ in range(min(LOG_BATCH, LOG_ENTRIES - start)):
                append_event(uow, entry)
            uow.commit()


def interaction(number: int, now: datetime) -> InteractionEntry:
    """A varied interaction: purchases with amounts, visits, calls, tickets, notes."""
    kinds = list(InteractionKind)
    kind = kinds[number % len(kinds)]
    purchase = kind is InteractionKind.PURCHASE
    return InteractionEntry(
        kind=kind,
        occurred_at=now - timedelta(minutes=37 * (number + 1)),
        summary=f"{kind.value.replace('_', ' ').capitalize()} no. {number}: Nizami küç. 10",
        details=(
            "Çay dəsti, iki fincan; qablaşdırma hədiyyə üçün.\nSatıcı: Leyla. "
            "Qəbz nömrəsi " + str(100_000 + number)
        ),
        amount=Decimal(f"{(number % 900) + 10}.{number % 100:02d}") if purchase else None,
        currency="AZN" if purchase else None,
    )


def fill_interactions(
    runtime: Runtime, customer_id: uuid.UUID, business_id: uuid.UUID, count: int
) -> None:
    """Record `count` interactions (half by the business, half by the customer) in batches."""
    now = datetime.now(UTC)
    business = f"business:{business_id}"
    for start in range(0, count, INTERACTION_BATCH):
        with runtime.vault.unit_of_work() as uow:
            for number in range(start, min(count, start + INTERACTION_BATCH)):
                author = business if number % 2 else CUSTOMER_AUTHOR
                record_interaction(uow, customer_id, interaction(number, now), logged_by=author)
            uow.commit()


def populate(runtime: Runtime) -> Population:
    vault = runtime.vault
    seconds: dict[str, float] = {}
    mark = time.perf_counter()
    business_id, _client = make_business(vault, name="Bench Çayxana")
    page_customer = new_customer(runtime, PAGE_EMAIL)
    agreement_id = make_active_agreement(vault, business_id, page_customer, GRANTED)
    seconds["customers"] = time.perf_counter() - mark
    mark = time.perf_counter()
    fill_access_log(runtime, page_customer, business_id, agreement_id)
    seconds["access log"] = time.perf_counter() - mark
    mark = time.perf_counter()
    export_customers: dict[int, uuid.UUID] = {}
    for count in (0, SMALL_VAULT, LARGE_VAULT):
        customer_id = new_customer(runtime, f"export-{count}@bench.example")
        make_active_agreement(vault, business_id, customer_id, GRANTED)
        fill_interactions(runtime, customer_id, business_id, count)
        export_customers[count] = customer_id
    seconds["interactions"] = time.perf_counter() - mark
    return Population(business_id, page_customer, export_customers, seconds)


def count_log(runtime: Runtime, customer_id: uuid.UUID) -> int:
    with runtime.database.session(write=False) as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(AccessEvent)
                .where(AccessEvent.customer_id == customer_id)
            )
            or 0
        )


# --------------------------------------------------------------------------------------------
# How much each page asks of the database (in-process, Flask's test client)


def in_process(runtime: Runtime) -> tuple[dict[str, int], dict[str, float]]:
    """Count the SQL statements each measured page runs, anonymous and signed in, and time
    each page through Flask's test client (no server, no wrk: one request at a time)."""
    app = create_app(
        config={"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False},
        settings=runtime.settings,
    )
    engine = app.extensions["emanet"].database.engine
    counted = [0]

    def count(*_args: object) -> None:
        counted[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        client = app.test_client()
        base = "https://localhost"  # the session cookie is Secure
        counts: dict[str, int] = {}

        def get(path: str) -> int:
            counted[0] = 0
            answer = client.get(base + path)
            if answer.status_code != 200:
                raise RuntimeError(f"in-process GET {path}: {answer.status_code}")
            return counted[0]

        counts["landing (anonymous)"] = get(LANDING)
        signed = client.post(
            base + "/login", data={"email": PAGE_EMAIL, "password": PASSWORD, "next": ""}
        )
        if signed.status_code != 303:
            raise RuntimeError(f"in-process sign-in answered {signed.status_code}")
        counts["my data"] = get(DATA)
        counts["access log"] = get(ACCESS_LOG)
        counts["landing (signed in)"] = get(LANDING)
        anonymous = app.test_client()
        clients = {LANDING: anonymous, DATA: client, ACCESS_LOG: client}
        millis: dict[str, float] = {}
        for path, who in clients.items():
            for _ in range(IN_PROCESS_REQUESTS // 5):  # warm-up
                who.get(base + path)
            started = time.perf_counter()
            for _ in range(IN_PROCESS_REQUESTS):
                if who.get(base + path).status_code != 200:
                    raise RuntimeError(f"in-process GET {path} failed")
            millis[path] = (time.perf_counter() - started) / IN_PROCESS_REQUESTS * 1e3
        return counts, millis
    finally:
        event.remove(engine, "before_cursor_execute", count)
        app.extensions["emanet"].close()


# --------------------------------------------------------------------------------------------
# The server, the sign-in and wrk


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(directory: Path, runtime: Runtime) -> Iterator[str]:
    """Serve the run's database and keyring with `emanet serve --workers 2` on a free port."""
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
    command = [
        sys.executable,
        "-m",
        "emanet.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(WORKERS),
    ]
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


def session_cookie(answer: requests.Response) -> str:
    """The `session` cookie an answer sets (read from the header: it is Secure, and this is
    plain http, so a cookie jar would never send it back)."""
    for header in answer.raw.headers.getlist("Set-Cookie"):
        found = re.match(r"\s*session=([^;]*)", header)
        if found and found.group(1):
            return found.group(1)
    raise RuntimeError(f"{answer.request.method} {answer.url} set no session cookie")


def sign_in(base: str) -> str:
    """Sign the page customer in once, as a browser would; return the session cookie."""
    form = requests.get(f"{base}/login", timeout=30)
    form.raise_for_status()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.text)
    if token is None:
        raise RuntimeError("the sign-in page has no csrf_token field")
    answer = requests.post(
        f"{base}/login",
        data={"email": PAGE_EMAIL, "password": PASSWORD, "csrf_token": token.group(1)},
        headers={"Cookie": f"session={session_cookie(form)}"},
        allow_redirects=False,
        timeout=30,
    )
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in answered {answer.status_code}:\n{answer.text[:2000]}")
    cookie = session_cookie(answer)
    landing = requests.get(
        base + answer.headers["Location"], headers={"Cookie": f"session={cookie}"}, timeout=30
    )
    if landing.status_code != 200:
        raise RuntimeError(
            f"after sign-in, {answer.headers['Location']} gave {landing.status_code}"
        )
    return cookie


def page(base: str, path: str, cookie: str | None) -> requests.Response:
    headers = {"Cookie": f"session={cookie}"} if cookie else {}
    answer = requests.get(base + path, headers=headers, allow_redirects=False, timeout=60)
    if answer.status_code != 200:
        raise RuntimeError(f"GET {path} answered {answer.status_code}")
    return answer


def check_pages(base: str, cookie: str) -> dict[str, int]:
    """Check each page shows what it should; return its size in bytes."""
    landing = page(base, LANDING, None)
    data = page(base, DATA, cookie)
    # Text values show as they are kept (dates, numbers and choices are shown in words).
    shown = [GOOD_VALUES[key][1] for key in VERBATIM]
    shown.append(f"{len(FIELD_CATALOGUE)} of {len(FIELD_CATALOGUE)} fields filled in")
    absent = [value for value in shown if value not in data.text]
    if absent:
        raise RuntimeError(f"/data does not show {absent}")
    log = page(base, ACCESS_LOG, cookie)
    rows = log.text.count('id="log-')
    if rows != LOG_PAGE_ROWS or "before=" not in log.text:
        raise RuntimeError(
            f"/access-log shows {rows} rows (expected {LOG_PAGE_ROWS} and a link on)"
        )
    return {LANDING: len(landing.content), DATA: len(data.content), ACCESS_LOG: len(log.content)}


def sets_session(base: str) -> bool:
    """Whether the landing page gives an anonymous visitor a session cookie."""
    answer = page(base, LANDING, None)
    return any(h.startswith("session=") for h in answer.raw.headers.getlist("Set-Cookie"))


@dataclass(frozen=True)
class WrkRun:
    requests: int
    seconds: float
    bytes: int
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
            f"({self.requests:,} requests in {self.seconds:.1f} s, "
            f"{self.bytes / max(self.requests, 1) / 1024:.1f} KiB each)"
        )


def require(tool: str, install: str) -> str:
    found = shutil.which(tool) if "/" not in tool else (tool if os.access(tool, os.X_OK) else None)
    if found is None:
        raise RuntimeError(
            f"{tool} is not installed, and this benchmark needs it. Install it ({install}) "
            "and run the benchmark again."
        )
    return found


def run_wrk(
    wrk: str, directory: Path, url: str, *, seconds: int, headers: Sequence[str] = ()
) -> WrkRun:
    """Drive one page with wrk; fail on any error or any answer but 200."""
    script = directory / "pages.lua"
    if not script.exists():
        script.write_text(WRK_SCRIPT)
    command = [
        wrk,
        f"-t{WRK_THREADS}",
        f"-c{WRK_CONNECTIONS}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(script),
    ]
    for header in headers:
        command += ["-H", header]
    done = subprocess.run([*command, url], capture_output=True, text=True, timeout=seconds + 120)
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    figures = json.loads(lines[-1].removeprefix("BENCH "))
    errors = {k: figures[k] for k in ("connect", "read", "write", "status", "timeout", "not_200")}
    if any(errors.values()) or not figures["requests"]:
        raise RuntimeError(f"wrk GET {url}: errors {errors}:\n{done.stdout}")
    return WrkRun(
        int(figures["requests"]),
        figures["duration_us"] / 1e6,
        int(figures["bytes"]),
        figures["p50_us"] / 1e6,
        figures["p90_us"] / 1e6,
        figures["p99_us"] / 1e6,
    )


def record_wrk(report: Report, name: str, run: WrkRun) -> None:
    """Record a wrk run's throughput, and its p50 and p99 latencies as one-op 'rates'."""
    report.rate(name, run.requests, run.seconds)
    report.rate(f"{name}: p50 latency (µs/op = p50)", 1, run.p50)
    report.rate(f"{name}: p99 latency (µs/op = p99)", 1, run.p99)


def measure_pages(report: Report, wrk: str, directory: Path, runtime: Runtime) -> None:
    """(1) My data and the access log against the landing page, wrk against wrk."""
    with serving(directory, runtime) as base:
        cookie = sign_in(base)
        sizes = check_pages(base, cookie)
        landing_session = sets_session(base)
        auth = [f"Cookie: session={cookie}"]
        targets = {
            "GET /?lang=en landing, anonymous (wrk)": (LANDING, ()),
            "GET /data my data, all fields filled (wrk)": (DATA, auth),
            "GET /access-log first page, 10,000 entries (wrk)": (ACCESS_LOG, auth),
        }
        # Warm-up: each worker imports lazily, fills its DEK cache and its statement caches.
        for path, headers in targets.values():
            run_wrk(wrk, directory, base + path, seconds=WRK_WARMUP_SECONDS, headers=headers)
        runs = {
            name: run_wrk(wrk, directory, base + path, seconds=WRK_SECONDS, headers=headers)
            for name, (path, headers) in targets.items()
        }
        check_pages(base, cookie)  # the session outlived the runs
    landing, data, log = runs
    for name, run in runs.items():
        record_wrk(report, name, run)
    for what, name in (("my data", data), ("access log", log)):
        report.ratio(
            f"{what} ÷ landing page",
            name,
            landing,
            f"requests/s of the signed-in {what} page as a fraction of the anonymous landing "
            "page (a template and nothing else) from the same server",
        )
    for what, name in (("my data", data), ("access log", log)):
        report.ratio(
            f"{what} p50 ÷ landing p50",
            f"{name}: p50 latency (µs/op = p50)",
            f"{landing}: p50 latency (µs/op = p50)",
            f"median latency of the {what} page as a multiple of the landing page's, at "
            f"{WRK_CONNECTIONS} connections (so it includes the time queued for one of the "
            f"{WORKERS} workers)",
            of="time",
        )
    report.note(
        f"(1) wrk {WRK_THREADS} threads, {WRK_CONNECTIONS} connections, {WRK_SECONDS} s, "
        f"`--latency`, one measured run each after a {WRK_WARMUP_SECONDS} s warm-up of each, "
        "in the order landing, my data, access log. The customer signed in once (GET /login, "
        "POST /login with the CSRF token, 303 followed) and wrk sent that `session` cookie "
        "with `-H`; a Lua `response()` counted every answer that was not a 200 (a lost "
        "session answers 303), and none was allowed. Before and after the runs each page was "
        "checked: my data shows every example value, the access log shows "
        f"{LOG_PAGE_ROWS} rows and a link to older ones; the landing page "
        + ("sets a session cookie" if landing_session else "sets no session cookie")
        + ". "
        + " ".join(f"`{name}`: {run.describe()}." for name, run in runs.items())
        + " Page sizes: "
        + ", ".join(f"`{path}` {size / 1024:.1f} KiB" for path, size in sizes.items())
        + "."
    )


# --------------------------------------------------------------------------------------------
# The export


@dataclass(frozen=True)
class ExportRun:
    seconds: float  # wall clock, as /usr/bin/time measured it
    peak_kib: int  # maximum resident set size
    zip_bytes: int
    unzipped_bytes: int  # what the archive's members hold, uncompressed


def _clock(text: str) -> float:
    # "h:mm:ss" or "m:ss.ss"
    seconds = 0.0
    for part in text.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def run_export(
    gnu_time: str, directory: Path, runtime: Runtime, customer_id: uuid.UUID, interactions: int
) -> ExportRun:
    """Run the CLI export under /usr/bin/time -v; check the ZIP holds every interaction."""
    output = directory / f"export-{interactions}-{secrets.token_hex(3)}.zip"
    env = {
        **os.environ,
        "EMANET_INSTANCE_DIR": str(runtime.settings.instance_dir),
        "EMANET_DATABASE_URL": runtime.settings.database_url,
    }
    done = subprocess.run(
        [
            gnu_time,
            "-v",
            str(EMANET),
            "customer",
            "export",
            str(customer_id),
            "--zip",
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=directory,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"export failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    wall = re.search(r"Elapsed \(wall clock\) time \([^)]*\): ([\d:.]+)", done.stderr)
    if peak is None or wall is None:
        raise RuntimeError(f"cannot read /usr/bin/time -v output:\n{done.stderr}")
    with zipfile.ZipFile(output) as archive:
        names = archive.namelist()
        unzipped = sum(info.file_size for info in archive.infolist())
        table = next((n for n in names if n.endswith("interactions.csv")), None)
        if table is None or "vault.json" not in names:
            raise RuntimeError(f"the export of {interactions} interactions holds {names}")
        with archive.open(table) as raw:
            rows = sum(1 for _ in csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig"))) - 1
        with archive.open("vault.json") as raw:
            document = json.load(raw)
    if rows != interactions or len(document.get("interactions", [])) != interactions:
        raise RuntimeError(f"the export holds {rows} interaction rows, not {interactions}")
    size = output.stat().st_size
    output.unlink()
    return ExportRun(_clock(wall.group(1)), int(peak.group(1)), size, unzipped)


def measure_exports(
    report: Report, gnu_time: str, directory: Path, runtime: Runtime, pop: Population
) -> None:
    """(2) The CLI export of 0, 1,000 and 10,000 interactions, taking turns."""
    runs: dict[int, list[ExportRun]] = {count: [] for count in pop.export_customers}
    for _ in range(EXPORT_REPEATS):
        for count, customer_id in pop.export_customers.items():
            runs[count].append(run_export(gnu_time, directory, runtime, customer_id, count))
    small, large, empty = runs[SMALL_VAULT], runs[LARGE_VAULT], runs[0]
    names = {count: f"export --zip, {count:,} interactions (interactions)" for count in runs}
    rss = {count: f"export --zip, {count:,} interactions: peak RSS (ops/s = KiB)" for count in runs}
    for count in (SMALL_VAULT, LARGE_VAULT):
        report.rate(names[count], count, Timing(tuple(r.seconds for r in runs[count])))
    marginal = f"export --zip, the {LARGE_VAULT - SMALL_VAULT:,} interactions more (interactions)"
    report.rate(
        marginal,
        LARGE_VAULT - SMALL_VAULT,
        Timing(tuple(b.seconds - a.seconds for a, b in zip(small, large, strict=True))),
    )
    for count in (0, SMALL_VAULT, LARGE_VAULT):
        report.rate(rss[count], max(r.peak_kib for r in runs[count]), 1.0)
    report.ratio(
        "export time per interaction, 10,000 ÷ 1,000",
        names[LARGE_VAULT],
        names[SMALL_VAULT],
        "time per interaction of the large export as a multiple of the small one's (1 = "
        "linear; the process's start-up, about the empty vault's time, weighs more on the "
        "small one; the marginal rate row, the 10,000 run minus the 1,000 run of the same "
        "round, is the export's own pace)",
        of="time",
    )
    report.ratio(
        "export peak RSS, 10,000 ÷ 1,000 interactions",
        rss[LARGE_VAULT],
        rss[SMALL_VAULT],
        "peak resident memory of the whole `emanet` process at 10x the interactions; an "
        "export that held everything would grow with the data, a streaming one stays flat",
        at_most=RSS_GROWTH_TARGET,
    )
    base = max(r.peak_kib for r in empty)
    report.note(
        f"(2) `/usr/bin/time -v {EMANET.relative_to(ROOT)} customer export <id> --zip --output "
        "FILE` with EMANET_INSTANCE_DIR and EMANET_DATABASE_URL of the run, "
        f"{EXPORT_REPEATS} runs of each vault taking turns (empty, 1,000, 10,000); the rates "
        "hold the best wall time, the RSS rows the highest peak of the runs. Each ZIP was "
        "opened and checked: interactions.csv and vault.json hold every interaction. Each "
        "vault also holds all 17 profile fields and one agreement; interactions alternate "
        "kinds (a purchase with an amount every sixth), half logged by the business. "
        + " ".join(
            f"{count:,} interactions: "
            + ", ".join(f"{r.seconds:.2f} s / {r.peak_kib / 1024:.1f} MiB" for r in rs)
            + f", ZIP {rs[0].zip_bytes / 1024:,.0f} KiB"
            + f" ({rs[0].unzipped_bytes / 1024:,.0f} KiB unzipped)"
            + (
                f" (peak {(max(r.peak_kib for r in rs) - base) / 1024:+.1f} MiB over the "
                "empty vault's)"
                if count
                else " (the process's own footprint: Python, imports, one batch)"
            )
            + "."
            for count, rs in ((0, empty), (SMALL_VAULT, small), (LARGE_VAULT, large))
        )
    )


# --------------------------------------------------------------------------------------------


def run(report: Report) -> None:
    """Set up the data, serve it, measure (1), then run the exports of (2)."""
    wrk = require("wrk", "Debian/Ubuntu: `apt-get install -y wrk`")
    gnu_time = require("/usr/bin/time", "Debian/Ubuntu: `apt-get install -y time`")
    if not os.access(EMANET, os.X_OK):
        raise RuntimeError(f"{EMANET} is missing: install the project into .venv first")
    with tempfile.TemporaryDirectory(prefix="emanet-bench-vault-pages-") as folder:
        directory = Path(folder)
        runtime = open_runtime(directory)
        try:
            measure_all(report, wrk, gnu_time, directory, runtime)
        finally:
            runtime.close()


def measure_all(report: Report, wrk: str, gnu_time: str, directory: Path, runtime: Runtime) -> None:
    pop = populate(runtime)
    logged = count_log(runtime, pop.page_customer)
    if logged < LOG_ENTRIES:
        raise RuntimeError(f"the page customer's log holds {logged} events")
    took = pop.seconds
    report.note(
        "Load average (1, 5, 15 min) at the start of the measurements: "
        + ", ".join(f"{load:.2f}" for load in os.getloadavg())
        + f" on {os.cpu_count()} CPUs (anything else running shares them with the server)."
    )
    report.note(
        "Database: SQLite file in a temporary folder (WAL, synchronous=NORMAL, as Emanet sets "
        f"it). Set-up: {took['customers']:.2f} s for one business and the page customer "
        f"(`create_customer` with all {len(FIELD_CATALOGUE)} catalogue fields from "
        "tests/field_examples.py, and an active agreement granting "
        f"{len(GRANTED)} of them, so the page lists a viewer beside those); "
        f"{took['access log']:.1f} s to append {LOG_ENTRIES:,} `profile.read` events under "
        f"that agreement (`append_event`, one unit of work per {LOG_BATCH}; the log then "
        f"holds {logged:,} events of that customer); {took['interactions']:.1f} s for three "
        f"export customers with 0, {SMALL_VAULT:,} and {LARGE_VAULT:,} interactions "
        f"(`record_interaction`, one unit of work per {INTERACTION_BATCH})."
    )
    statements, millis = in_process(runtime)
    report.note(
        "SQL statements per request, counted in-process (Flask test client, "
        "`before_cursor_execute` on the app's engine): "
        + ", ".join(f"{page_name} {n}" for page_name, n in statements.items())
        + (
            ". The anonymous landing page touches no database at all (no session stamp check, "
            "no navigation badge)"
            if statements["landing (anonymous)"] == 0
            else ". NOTE: the anonymous landing page does touch the database"
        )
        + "; a signed-in page pays the session check (`session_facts`) and the navigation's "
        "count of waiting requests on top of its own queries. The same pages one at a time "
        f"in-process (mean of {IN_PROCESS_REQUESTS} after a warm-up, test client included): "
        + ", ".join(f"`{path}` {ms:.1f} ms" for path, ms in millis.items())
        + "."
    )
    measure_pages(report, wrk, directory, runtime)
    measure_exports(report, gnu_time, directory, runtime, pop)
    report.note(
        "Load average at the end: " + ", ".join(f"{load:.2f}" for load in os.getloadavg()) + "."
    )
    report.note(
        f"Server: `python -m emanet.cli serve --workers {WORKERS}` (gunicorn sync workers) "
        f"with EMANET_MODE=test on 127.0.0.1; wrk and the exports run on the same "
        f"{os.cpu_count()} CPUs as the server. Rates from wrk are of one run each "
        "(`ops × repeats` = requests × 1); the latency rows hold one latency each, read in "
        "the µs/op column; the peak RSS rows hold KiB in the ops/s column."
    )
