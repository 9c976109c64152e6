"""The business portal's customer list under gunicorn (2 workers on 127.0.0.1), with 100 and with
10,000 connected customers in one run.

Two scratch instances, one business each, whose customers (demo profiles) granted five fields;
in both, 10 customers carry the same rare family name, so a search for it finds 10 at either
size. With the search index complete, both are served and wrk (2 threads, 8 connections, 8 s
after a 2 s warm-up, 3 rounds, the sizes taking turns) loads three pages as the business's
owner: the first page
`GET /portal/customers`, the rare-name search `?q=xudaverd` and a common-name search `?q=aysel`
(a share of all customers, so it grows with them: information only). The headline is the cost
ratio 10,000 / 100 of each page (time per request at 10,000 ÷ at 100; target ≤ 2 for the first
page and the rare-name search). The SQL statements of each page are counted in-process (Flask's
test client) at both sizes.

The data are made through the use cases (`bench.broker_population.populate`, `add_staff`, and
the portal's own `refresh_search_index`) on SQLite files in a temporary folder, or on two
scratch PostgreSQL databases when `EMANET_BENCH_DATABASE_URL` is set.
`EMANET_BENCH_PORTAL_CUSTOMERS` makes the large instance smaller for a quick try. Needs wrk
(Debian: `apt-get install wrk`).
"""

from __future__ import annotations

import os
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import requests
from sqlalchemy import event, func, select

from bench.broker_population import GRANTED, Population, populate
from bench.http_load import Wrk, WrkRun, require_wrk, serving
from bench.runner import Report, Timing
from bench.scratch_instance import Store, open_runtime, scratch_database
from bench.vault_pages import session_cookie
from broker.businesses.services import add_staff
from business_portal.customers.list_query import matching_subjects
from business_portal.customers.models import (
    ListedCustomer,
    SearchSeenEvent,
    SearchTerm,
)
from business_portal.customers.search_index import (
    LATE_CHECK_EVERY,
    LATE_COMMIT_WINDOW,
    refresh_search_index,
)
from business_portal.customers.search_words import query_words
from business_portal.customers.services import PAGE_SIZE, search_hashes
from emanet.app import create_app
from emanet.bootstrap import Runtime
from emanet.demo_data import demo_people
from schemas.businesses import StaffIn, StaffRole
from vault.access_log.models import AccessEvent

SMALL = 100
LARGE = int(os.environ.get("EMANET_BENCH_PORTAL_CUSTOMERS") or 10_000)
PLANTED = 10  # customers of each instance with the rare family name
RARE_FAMILY = "Xudavərdiyeva"
RARE_QUERY = "xudaverd"  # a prefix, typed without the schwa: the index folds ə to e
COMMON_GIVEN = "Aysel"  # one demo person in 36 has this given name
COMMON_QUERY = "aysel"
INDEX_BATCH = 1_000  # agreements per refresh_search_index call while setting up
WORKERS = 2
WRK_THREADS = 2
WRK_CONNECTIONS = 8
WRK_SECONDS = 8
WRK_WARMUP_SECONDS = 2
# A loaded 2-CPU machine can keep a queued request past wrk's own 2 s; p99 shows the tail.
WRK_TIMEOUT_SECONDS = 10
ROUNDS = 3  # measured runs of each page at each size, the sizes taking turns
COST_TARGET = 2.0
# Past the late-commit window, and past one more late check after it.
SETTLE = LATE_COMMIT_WINDOW + LATE_CHECK_EVERY + timedelta(seconds=5)
SETTLE_TRIES = 3
IN_PROCESS_REQUESTS = 20
OWNER_EMAIL = "owner@bench.example"
OWNER_PASSWORD = "a perfectly long benchmark password"
PAGES = {  # name in the report → path
    "first page": "/portal/customers",
    "rare-name search": f"/portal/customers?q={RARE_QUERY}",
    "common-name search": f"/portal/customers?q={COMMON_QUERY}",
}
TARGETED = ("first page", "rare-name search")


@dataclass
class Instance:
    """One scratch instance: its size, where it lives, and what set-up made."""

    size: int
    directory: Path
    store: Store
    runtime: Runtime
    population: Population
    setup_seconds: float
    index_seconds: float
    index_rounds: int
    matches: dict[str, int]  # page name → customers its search matches
    terms: int  # rows of the search index (keyed hashes)
    indexed_at: float  # time.monotonic() when the index was complete


# --------------------------------------------------------------------------------------------
# Set-up


def planted_numbers(size: int) -> list[int]:
    """The customers (by number) who carry the rare family name, spread over the population."""
    return [i * size // PLANTED for i in range(PLANTED)]


def common_count(size: int) -> int:
    """How many of `size` demo customers have the common given name."""
    people = demo_people()
    return sum(1 for n in range(size) if people[n % len(people)][1] == COMMON_GIVEN)


def build_index(runtime: Runtime, business_id: uuid.UUID) -> int:
    """Run the portal's index refresh until it has nothing left to do; return the rounds."""
    rounds = 0
    while True:
        with runtime.vault.unit_of_work() as uow:
            touched = refresh_search_index(uow, business_id, limit=INDEX_BATCH)
        rounds += 1
        if touched == 0:
            return rounds


def count_matches(runtime: Runtime, business_id: uuid.UUID, text: str) -> int:
    """How many customers the index finds for a typed search (the page shows 25 of them)."""
    with runtime.vault.unit_of_work(write=False) as uow:
        hashes = search_hashes(uow, business_id, query_words(text))
        # One row per field holding the word (the name and the e-mail both do): count people.
        found = matching_subjects(business_id, hashes, uow.now()).subquery()
        distinct = select(func.count(found.c.subject.distinct()))
        return int(uow.session.scalar(distinct) or 0)


def scalar_count(runtime: Runtime, model: type, business_id: uuid.UUID) -> int:
    with runtime.database.session(write=False) as session:
        statement = select(func.count()).select_from(model)
        return int(session.scalar(statement.where(model.business_id == business_id)) or 0)


def set_up(report: Report, stack: ExitStack, folder: Path, size: int) -> Instance:
    """Make an instance with `size` connected customers, an owner, and a complete index."""
    directory = folder / f"customers-{size}"
    directory.mkdir()
    store = stack.enter_context(scratch_database(directory))
    runtime = open_runtime(directory, store.url)
    stack.callback(runtime.close)
    report.echo(f"  set-up: instance of {size:,} customers")
    started = time.perf_counter()
    planted = dict.fromkeys(planted_numbers(size), RARE_FAMILY)
    population = populate(report, runtime, customers=size, family_names=planted)
    with runtime.vault.unit_of_work() as uow:
        owner = StaffIn(email=OWNER_EMAIL, display_name="Bench owner", role=StaffRole.OWNER)
        add_staff(uow, population.business_id, owner, OWNER_PASSWORD, actor="bench")
    setup_seconds = time.perf_counter() - started
    mark = time.perf_counter()
    rounds = build_index(runtime, population.business_id)
    index_seconds = time.perf_counter() - mark
    business_id = population.business_id
    listed = scalar_count(runtime, ListedCustomer, business_id)
    if listed != size:
        raise RuntimeError(f"the index lists {listed} of {size} customers")
    matches = {
        "first page": size,
        "rare-name search": count_matches(runtime, business_id, RARE_QUERY),
        "common-name search": count_matches(runtime, business_id, COMMON_QUERY),
    }
    expected = {"rare-name search": PLANTED, "common-name search": common_count(size)}
    for name, count in expected.items():
        if matches[name] != count:
            raise RuntimeError(f"{name} at {size:,}: the index finds {matches[name]}, not {count}")
    terms = scalar_count(runtime, SearchTerm, business_id)
    return Instance(
        size,
        directory,
        store,
        runtime,
        population,
        setup_seconds,
        index_seconds,
        rounds,
        matches,
        terms,
        time.monotonic(),
    )


def settle(instances: list[Instance]) -> str:
    """Wait until set-up's outbox events are past the late-commit window; refresh once more.

    Until then every late check (one page in ten seconds) looks again at every event of the
    bulk set-up, and the first after the window deletes their records: a cost of the minutes
    after a bulk import, not of a list in use. Returns what was done, for the report.
    """
    waited = max(
        0.0, max(i.indexed_at for i in instances) + SETTLE.total_seconds() - time.monotonic()
    )
    time.sleep(waited)
    left = []
    for instance in instances:
        business_id = instance.population.business_id
        for _ in range(SETTLE_TRIES):
            build_index(instance.runtime, business_id)
            seen = scalar_count(instance.runtime, SearchSeenEvent, business_id)
            if seen == 0:
                break
            # A page view in-process made the late check a moment ago: wait for the next.
            time.sleep(LATE_CHECK_EVERY.total_seconds())
        left.append(f"{seen:,} at {instance.size:,}")
    return (
        f"Before serving, the run waited {waited:.0f} s so that set-up's outbox events were "
        f"older than the index's late-commit window ({LATE_COMMIT_WINDOW.total_seconds():.0f} "
        "s), then refreshed each index until its floor had passed them: handled events still "
        "remembered (looked at again by every late check) "
        + ", ".join(left)
        + " (so the lists are measured as in use, not in the minutes after a bulk import)."
    )


def expected_rows(instance: Instance, name: str) -> int:
    return min(PAGE_SIZE, instance.matches[name])


def check_page(instance: Instance, name: str, html: str) -> None:
    """Fail unless the page shows as many customers as it should (and the rare name, if sought)."""
    rows = html.count('<th scope="row">')
    if rows != expected_rows(instance, name):
        raise RuntimeError(
            f"{name} at {instance.size:,}: {rows} rows, not {expected_rows(instance, name)}"
        )
    if name == "rare-name search" and html.count(RARE_FAMILY) < PLANTED:
        raise RuntimeError(f"{name} at {instance.size:,} does not show {RARE_FAMILY}")


# --------------------------------------------------------------------------------------------
# How much each page asks of the database (in-process, Flask's test client)


@dataclass(frozen=True)
class InProcess:
    """SQL statements of each page (one count per request) and its mean time in milliseconds."""

    statements: dict[str, list[int]]
    millis: dict[str, float]


@contextmanager
def counting(engine: object) -> Iterator[list[int]]:
    counted = [0]

    def count(*_args: object) -> None:
        counted[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", count)


def in_process(instance: Instance) -> InProcess:
    """Count each page's SQL statements over several requests, and time them one at a time."""
    app = create_app(
        config={"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False},
        settings=instance.runtime.settings,
    )
    try:
        client = app.test_client()
        base = "https://localhost"  # the session cookie is Secure
        signed = client.post(
            base + "/portal/login", data={"email": OWNER_EMAIL, "password": OWNER_PASSWORD}
        )
        if signed.status_code != 303:
            raise RuntimeError(f"in-process sign-in answered {signed.status_code}")
        statements: dict[str, list[int]] = {name: [] for name in PAGES}
        millis: dict[str, float] = {}
        with counting(app.extensions["emanet"].database.engine) as counted:
            for name, path in PAGES.items():
                for _ in range(IN_PROCESS_REQUESTS // 4):  # warm-up, not counted
                    client.get(base + path)
                started = time.perf_counter()
                for _ in range(IN_PROCESS_REQUESTS):
                    counted[0] = 0
                    answer = client.get(base + path)
                    if answer.status_code != 200:
                        raise RuntimeError(f"in-process GET {path}: {answer.status_code}")
                    statements[name].append(counted[0])
                millis[name] = (time.perf_counter() - started) / IN_PROCESS_REQUESTS * 1e3
                check_page(instance, name, answer.text)
        return InProcess(statements, millis)
    finally:
        app.extensions["emanet"].close()


def describe_counts(counts: list[int]) -> str:
    """ "47" when every request ran as many statements, else "47 (46–60)" (mode, range)."""
    usual = statistics.mode(counts)
    if min(counts) == max(counts):
        return str(usual)
    return f"{usual} ({min(counts)}–{max(counts)})"


# --------------------------------------------------------------------------------------------
# Under gunicorn and wrk


def sign_in(base: str) -> str:
    """Sign the owner in once, as a browser would; return the session cookie."""
    form = requests.get(f"{base}/portal/login", timeout=30)
    form.raise_for_status()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.text)
    if token is None:
        raise RuntimeError("the portal's sign-in page has no csrf_token field")
    answer = requests.post(
        f"{base}/portal/login",
        data={"email": OWNER_EMAIL, "password": OWNER_PASSWORD, "csrf_token": token.group(1)},
        headers={"Cookie": f"session={session_cookie(form)}"},
        allow_redirects=False,
        timeout=30,
    )
    if answer.status_code != 303:
        raise RuntimeError(f"portal sign-in answered {answer.status_code}:\n{answer.text[:2000]}")
    return session_cookie(answer)


def check_served(instance: Instance, base: str, cookie: str) -> dict[str, int]:
    """Check each page as served; return its size in bytes."""
    sizes = {}
    for name, path in PAGES.items():
        answer = requests.get(
            base + path, headers={"Cookie": f"session={cookie}"}, allow_redirects=False, timeout=60
        )
        if answer.status_code != 200:
            raise RuntimeError(f"GET {path} at {instance.size:,} answered {answer.status_code}")
        check_page(instance, name, answer.text)
        sizes[name] = len(answer.content)
    return sizes


def rate_name(name: str, size: int) -> str:
    return f"GET {name}, {size:,} customers (wrk)"


def p50_name(name: str, size: int) -> str:
    return f"{rate_name(name, size)}: p50 latency (µs/op = p50)"


@dataclass
class Served:
    """An instance being served: its base URL, the owner's cookie, its access log before."""

    instance: Instance
    base: str
    cookie: str
    events_before: int
    sizes: dict[str, int]

    @property
    def headers(self) -> list[str]:
        return [f"Cookie: session={self.cookie}"]


def serve(stack: ExitStack, instance: Instance) -> Served:
    """Start the instance's server, sign the owner in and check every page."""
    runtime = instance.runtime
    base = stack.enter_context(serving(instance.directory, runtime.settings, workers=WORKERS))
    events = scalar_count(runtime, AccessEvent, instance.population.business_id)
    cookie = sign_in(base)
    return Served(instance, base, cookie, events, check_served(instance, base, cookie))


def load(report: Report, wrk: Wrk, small: Instance, large: Instance) -> None:
    """Serve both instances and drive each page with wrk, the two sizes taking turns."""
    runs: dict[tuple[str, int], list[WrkRun]] = {}
    with ExitStack() as stack:
        served = [serve(stack, small), serve(stack, large)]
        for one in served:  # each worker imports, caches its statements and DEKs
            for path in PAGES.values():
                wrk.page(one.base + path, seconds=WRK_WARMUP_SECONDS, headers=one.headers)
        for number in range(ROUNDS):
            turn = served if number % 2 == 0 else served[::-1]
            for name, path in PAGES.items():
                for one in turn:
                    run = wrk.page(one.base + path, seconds=WRK_SECONDS, headers=one.headers)
                    runs.setdefault((name, one.instance.size), []).append(run)
        for one in served:
            check_served(one.instance, one.base, one.cookie)  # the session outlived the runs
    for one in served:
        instance = one.instance
        business_id = instance.population.business_id
        events = scalar_count(instance.runtime, AccessEvent, business_id) - one.events_before
        mine = {name: runs[(name, instance.size)] for name in PAGES}
        for name, rounds in mine.items():
            # One op per request: µs/op is the time per request, best (and median) of rounds.
            per_request = Timing(tuple(run.seconds / run.requests for run in rounds))
            report.rate(rate_name(name, instance.size), 1, per_request)
            report.rate(p50_name(name, instance.size), 1, Timing(tuple(r.p50 for r in rounds)))
        answered = sum(run.requests for rounds in mine.values() for run in rounds)
        report.note(
            f"{instance.size:,} customers under wrk, each round: "
            + " ".join(
                f"{name} ({one.sizes[name] / 1024:.1f} KiB): "
                + "; ".join(run.describe() for run in rounds)
                + "."
                for name, rounds in mine.items()
            )
            + f" The business's access log grew by {events:,} events while serving "
            f"(about {events / max(answered, 1):.1f} per page view, warm-up and checks "
            "included)."
        )


# --------------------------------------------------------------------------------------------


def run(report: Report) -> None:
    """Set up both instances, count statements in-process, then serve and load each."""
    executable = require_wrk()
    with tempfile.TemporaryDirectory(prefix="emanet-bench-portal-list-") as folder:
        directory = Path(folder)
        wrk = Wrk(executable, directory, WRK_THREADS, WRK_CONNECTIONS, WRK_TIMEOUT_SECONDS)
        with ExitStack() as stack:
            # The large one first: its outbox events then age while the small one is made.
            large = set_up(report, stack, directory, LARGE)
            small = set_up(report, stack, directory, SMALL)
            measure_all(report, wrk, small, large)


def measure_all(report: Report, wrk: Wrk, small: Instance, large: Instance) -> None:
    report.note(
        "Load average (1, 5, 15 min) at the start of the measurements: "
        + ", ".join(f"{load:.2f}" for load in os.getloadavg())
        + f" on {os.cpu_count()} CPUs."
    )
    for instance in (small, large):
        report.note(
            f"Instance of {instance.size:,}: {instance.store.description}. Set-up "
            f"{instance.setup_seconds:.0f} s (`populate`: one business, {instance.size:,} "
            f"customers with demo profiles granting {len(GRANTED)} fields, {PLANTED} of them "
            f"renamed {RARE_FAMILY}, evenly spread; one owner by `add_staff`); search index "
            f"built in {instance.index_seconds:.1f} s by {instance.index_rounds} calls of "
            f"`refresh_search_index(limit={INDEX_BATCH:,})` until it returned 0: "
            f"{instance.terms:,} keyed terms. The index finds "
            f"{instance.matches['rare-name search']} customers for `{RARE_QUERY}` and "
            f"{instance.matches['common-name search']:,} for `{COMMON_QUERY}`."
        )
    counted = {instance.size: in_process(instance) for instance in (small, large)}
    report.note(
        "SQL statements per page view, counted in-process (Flask test client signed in as the "
        "owner, `before_cursor_execute` on the app's engine, "
        f"{IN_PROCESS_REQUESTS} requests each after a warm-up; usual count, and the range "
        "when it varied): "
        + "; ".join(
            f"{name}: {describe_counts(counted[SMALL].statements[name])} at {SMALL:,}, "
            f"{describe_counts(counted[LARGE].statements[name])} at {LARGE:,}"
            for name in PAGES
        )
        + ". The count follows the customers shown (the gate reads and logs each one), not "
        "the customers connected; a range comes from the index's late check, which one page "
        "view in ten seconds runs. Mean time one request at a time in-process (test client "
        "included): "
        + "; ".join(
            f"{name} {counted[SMALL].millis[name]:.1f} ms at {SMALL:,}, "
            f"{counted[LARGE].millis[name]:.1f} ms at {LARGE:,}"
            for name in PAGES
        )
        + "."
    )
    report.note(settle([small, large]))
    load(report, wrk, small, large)
    for name in PAGES:
        targeted = name in TARGETED
        grows = "" if targeted else " (it matches a share of all customers, so it grows)"
        report.ratio(
            f"{name}: {LARGE:,} ÷ {SMALL:,} customers",
            rate_name(name, LARGE),
            rate_name(name, SMALL),
            f"time per request of the {name}{grows} with {LARGE:,} connected customers as a "
            f"multiple of the same with {SMALL:,} (the inverse of the requests/s ratio)",
            of="time",
            at_most=COST_TARGET if targeted else None,
        )
    for name in PAGES:
        report.ratio(
            f"{name} p50: {LARGE:,} ÷ {SMALL:,} customers",
            p50_name(name, LARGE),
            p50_name(name, SMALL),
            f"median latency at {WRK_CONNECTIONS} connections, {LARGE:,} over {SMALL:,}",
            of="time",
        )
    common, first = rate_name("common-name search", LARGE), rate_name("first page", LARGE)
    report.ratio(
        f"common-name search ÷ first page, {LARGE:,} customers",
        common,
        first,
        "time per request of the common-name search as a multiple of the first page, both "
        f"showing {PAGE_SIZE} customers at {LARGE:,}: what finding "
        f"{large.matches['common-name search']:,} matches adds to a page of the same size",
        of="time",
    )
    shown = {i.size: expected_rows(i, "common-name search") for i in (small, large)}
    report.note(
        f"What the common-name search shows: `{COMMON_QUERY}` matches "
        f"{small.matches['common-name search']} of {SMALL:,} customers and "
        f"{large.matches['common-name search']:,} of {LARGE:,}. At {SMALL:,} its page shows "
        f"{shown[SMALL]} customers, at {LARGE:,} a full page of {shown[LARGE]}, each read "
        "through the gate (decrypted, logged), after finding every match (each match's terms "
        "looked up by index, its agreement and list row checked). Its "
        f"{LARGE:,} ÷ {SMALL:,} ratio therefore mixes a page "
        f"{shown[LARGE] / max(shown[SMALL], 1):.0f} times fuller with the matching; the ratio "
        "against the first page at the same size isolates the matching, which grows with "
        "the matches (a share of all customers), not with the page."
    )
    report.note(
        f"Servers: `python -m emanet.cli serve --workers {WORKERS}` (gunicorn sync workers) "
        f"with EMANET_MODE=test on 127.0.0.1, one per instance, both up at once (an idle one "
        f"costs nothing). wrk: {WRK_THREADS} threads, {WRK_CONNECTIONS} connections, "
        f"{WRK_SECONDS} s, `--latency`, `--timeout={WRK_TIMEOUT_SECONDS}s`, after a "
        f"{WRK_WARMUP_SECONDS} s warm-up of every page on both servers; then {ROUNDS} rounds, "
        "each driving every page at both sizes one after the other, the sizes taking turns "
        "(small first in odd rounds, large first in even ones) so that a slow spell of the "
        "shared machine hits both alike. The owner's "
        "`session` cookie (signed in once through GET and POST /portal/login) went with `-H`; "
        "any answer but 200 failed the run. Before and after the runs each page was checked: "
        f"{PAGE_SIZE} rows on the first page, the {PLANTED} planted customers for "
        f"`{RARE_QUERY}`, min({PAGE_SIZE}, matches) rows for `{COMMON_QUERY}`. Every page "
        "view refreshes the index (a read that finds nothing to do, and every 10 s a late "
        "check) and reads its customers' granted values through the gate, which appends one "
        "`profile.read` event per customer shown; wrk runs on the same CPUs as the servers. "
        "The page rates count one op per request, so µs/op is the time per request, the "
        f"best (and the median) of the {ROUNDS} rounds; the p50 rows hold each round's median "
        "latency, read in the µs/op column. Ratios compare the best rounds. "
        "Load average at the end: " + ", ".join(f"{load:.2f}" for load in os.getloadavg()) + "."
    )
