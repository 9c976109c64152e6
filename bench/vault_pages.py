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

import os
import re
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import requests
from sqlalchemy import event, func, select

from bench.export_footprint import EMANET, LARGE_VAULT, SMALL_VAULT, measure_exports
from bench.http_load import Wrk, record_wrk, require, require_wrk, serving
from bench.runner import Report
from bench.scratch_instance import open_runtime
from emanet.app import create_app
from emanet.bootstrap import Runtime
from schemas.field_catalogue import FIELD_CATALOGUE
from schemas.interactions import InteractionEntry, InteractionKind
from tests.factories import make_active_agreement, make_business
from tests.field_examples import GOOD_VALUES
from vault.access_log.models import AccessEvent
from vault.access_log.services import LogEntry, append_event
from vault.accounts.services import create_customer
from vault.interactions.services import CUSTOMER_AUTHOR, record_interaction

LOG_ENTRIES = 10_000
LOG_BATCH = 500  # access events appended per unit of work
INTERACTION_BATCH = 500  # interactions recorded per unit of work
WORKERS = 2
WRK_THREADS = 2
WRK_CONNECTIONS = 8
WRK_SECONDS = 8
WRK_WARMUP_SECONDS = 2
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


# --------------------------------------------------------------------------------------------
# The database and the data


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
# The sign-in and the pages under wrk


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


def measure_pages(report: Report, wrk: Wrk, directory: Path, runtime: Runtime) -> None:
    """(1) My data and the access log against the landing page, wrk against wrk."""
    with serving(directory, runtime.settings, workers=WORKERS) as base:
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
            wrk.page(base + path, seconds=WRK_WARMUP_SECONDS, headers=headers)
        runs = {
            name: wrk.page(base + path, seconds=WRK_SECONDS, headers=headers)
            for name, (path, headers) in targets.items()
        }
        check_pages(base, cookie)  # the session outlived the runs
    landing, data, log = runs
    for name, run in runs.items():
        record_wrk(report, name, run, latencies=("p50", "p99"))
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
        + " ".join(f"`{name}`: {run.describe(sizes=True)}." for name, run in runs.items())
        + " Page sizes: "
        + ", ".join(f"`{path}` {size / 1024:.1f} KiB" for path, size in sizes.items())
        + "."
    )


# --------------------------------------------------------------------------------------------


def run(report: Report) -> None:
    """Set up the data, serve it, measure (1), then run the exports of (2)."""
    executable = require_wrk()
    gnu_time = require("/usr/bin/time", "Debian/Ubuntu: `apt-get install -y time`")
    if not os.access(EMANET, os.X_OK):
        raise RuntimeError(f"{EMANET} is missing: install the project into .venv first")
    with tempfile.TemporaryDirectory(prefix="emanet-bench-vault-pages-") as folder:
        directory = Path(folder)
        wrk = Wrk(executable, directory, WRK_THREADS, WRK_CONNECTIONS)
        runtime = open_runtime(directory)
        try:
            measure_all(report, wrk, gnu_time, directory, runtime)
        finally:
            runtime.close()


def measure_all(report: Report, wrk: Wrk, gnu_time: str, directory: Path, runtime: Runtime) -> None:
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
    measure_exports(report, gnu_time, directory, runtime, pop.export_customers)
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
