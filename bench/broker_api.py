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
import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select

from bench.broker_population import (
    CUSTOMERS,
    GRANTED,
    NOT_GRANTED,
    PULLED,
    SETUP_BATCH,
    Population,
    access_log_bytes,
    count_profile_reads,
    populate,
)
from bench.http_load import Wrk, record_wrk, require_wrk, serving
from bench.runner import Report, Timing, measure
from bench.scratch_instance import Store, open_runtime, scratch_database
from emanet.bootstrap import Runtime
from vault.profile.models import ProfileField
from vault.profile.services import field_aad

SYNC_LIMIT = 500
WORKERS = 2
WRK_THREADS = 2
WRK_CONNECTIONS = 16
WRK_SECONDS = 10
WRK_WARMUP_SECONDS = 2
PROFILE_TARGET = 0.5
METADATA_PATH = "/.well-known/oauth-authorization-server"
# `python -m` this to serve the app built with Flask-Limiter off (see `tokens`).
UNLIMITED_SERVER = ("bench.broker_api", "serve-without-rate-limits")


# --------------------------------------------------------------------------------------------
# A client of the API


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


# --------------------------------------------------------------------------------------------
# The three measurements


def profile_pulls(report: Report, wrk: Wrk, base: str, runtime: Runtime, pop: Population) -> None:
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
    wrk.rotate(base, [METADATA_PATH], seconds=WRK_WARMUP_SECONDS, headers=auth)
    warm = wrk.rotate(base, profile_paths, seconds=WRK_WARMUP_SECONDS, headers=auth)
    pulled += warm.requests
    metadata = wrk.rotate(base, [METADATA_PATH], seconds=WRK_SECONDS, headers=auth)
    profile = wrk.rotate(base, profile_paths, seconds=WRK_SECONDS, headers=auth)
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


def tokens(report: Report, wrk: Wrk, base: str, pop: Population) -> None:
    """(3) Client-credentials tokens against the metadata document, on the limiter-off server."""
    fetch_token(base, pop)
    auth = [f"Authorization: {basic_auth(pop)}"]
    token_args = {
        "method": "POST",
        "body": "grant_type=client_credentials",
        "headers": [*auth, "Content-Type: application/x-www-form-urlencoded"],
    }
    wrk.rotate(base, [METADATA_PATH], seconds=WRK_WARMUP_SECONDS)
    wrk.rotate(base, ["/oauth/token"], seconds=WRK_WARMUP_SECONDS, **token_args)
    metadata = wrk.rotate(base, [METADATA_PATH], seconds=WRK_SECONDS)
    issued = wrk.rotate(base, ["/oauth/token"], seconds=WRK_SECONDS, **token_args)
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
    executable = require_wrk()
    with tempfile.TemporaryDirectory(prefix="emanet-bench-broker-") as folder:
        directory = Path(folder)
        wrk = Wrk(executable, directory, WRK_THREADS, WRK_CONNECTIONS)
        with scratch_database(directory) as store:
            runtime = open_runtime(directory, store.url)
            try:
                measure_all(report, wrk, directory, store, runtime)
            finally:
                runtime.close()


def measure_all(report: Report, wrk: Wrk, directory: Path, store: Store, runtime: Runtime) -> None:
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
    with serving(directory, runtime.settings, workers=WORKERS) as base:
        profile_pulls(report, wrk, base, runtime, pop)
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
    with serving(directory, runtime.settings, workers=WORKERS, module=UNLIMITED_SERVER) as base:
        tokens(report, wrk, base, pop)
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

    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=WORKERS)
    args = parser.parse_args(argv)

    # The same server `emanet serve` runs, with the token endpoint's rate limit off.
    cli_serve.run_server(args.host, args.port, args.workers, {"RATELIMIT_ENABLED": False})


if __name__ == "__main__":
    if sys.argv[1:2] != ["serve-without-rate-limits"]:
        raise SystemExit("usage: python -m bench.broker_api serve-without-rate-limits --port P")
    serve_without_rate_limits(sys.argv[2:])
