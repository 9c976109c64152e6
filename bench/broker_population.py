"""The broker benchmark's data: one business with its OAuth client, and customers (demo
profiles) who granted it an agreement, all made through the use cases.

Exports: `CUSTOMERS`, `GRANTED`, `NOT_GRANTED`, `PULLED`, `SETUP_BATCH`, `Population`,
`populate`, and two reads of what the access log holds, `count_profile_reads` and
`access_log_bytes`.
"""

from __future__ import annotations

import itertools
import os
import random
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import func, select, text

from bench.runner import Report
from bench.scratch_instance import BENCH_ARGON2, Store
from broker.businesses.services import business_snapshot, create_business
from broker.pairwise import subject_for
from emanet.bootstrap import Runtime
from emanet.demo_data import demo_people, demo_profile
from schemas.agreements import AccessMode, AgreementTerms
from schemas.businesses import BusinessIn, ClientIn
from vault.access_log.models import AccessEvent
from vault.accounts.passwords import Argon2Cost, Passwords
from vault.accounts.services import create_customer
from vault.agreements.services import Context, decide_request, request_agreement

__all__ = [
    "CUSTOMERS",
    "GRANTED",
    "NOT_GRANTED",
    "PULLED",
    "SETUP_BATCH",
    "Population",
    "access_log_bytes",
    "count_profile_reads",
    "populate",
]

CUSTOMERS = int(os.environ.get("EMANET_BENCH_BROKER_CUSTOMERS") or 20_000)
PULLED = min(1_000, CUSTOMERS)  # the customers whose profiles wrk rotates over
SEED = 20261124
SETUP_BATCH = 500
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
REDIRECT_URI = "https://bench.example/callback"


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


def populate(
    report: Report,
    runtime: Runtime,
    *,
    customers: int = CUSTOMERS,
    family_names: Mapping[int, str] | None = None,
) -> Population:
    """Make the business, `customers` customers (demo profiles) and their granted agreements.

    `family_names` gives some customers (by number, from 0) another family name than their
    demo person's; their e-mail address follows it, as a demo profile's does.
    """
    vault = runtime.vault
    renamed = family_names or {}
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
    prehashed = PrehashedPasswords(BENCH_ARGON2, customers)
    usual_passwords, vault.passwords = vault.passwords, prehashed
    creating = agreeing = 0.0
    try:
        for start in range(0, customers, SETUP_BATCH):
            batch: list[uuid.UUID] = []
            mark = time.perf_counter()
            for number in range(start, min(customers, start + SETUP_BATCH)):
                locale, given, family = people[number % len(people)]
                family = renamed.get(number, family)
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
            if done % 5_000 == 0 or done == customers:
                report.echo(
                    f"  set-up: {done:,}/{customers:,} customers "
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
    """Count the `profile.read` events in the access log."""
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
