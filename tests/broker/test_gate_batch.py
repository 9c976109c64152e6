"""The gate's batch read (bulk sync) and what one profile read costs the database.

`read_profiles` decides every agreement with the same policy as `read_profile`, under the
same shared hold, and logs each decision; a page is one transaction with one commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from broker.gate import Caller, read_profiles
from broker.pairwise import subject_for
from emanet.app import create_app
from emanet.bootstrap import Runtime
from tests.conftest import make_customer
from tests.factories import make_active_agreement, make_business
from vault.access_log.models import AccessEvent
from vault.agreements.models import Agreement, AgreementEvent
from vault.agreements.services import Context, restrict_agreement, revoke_agreement
from vault.unit_of_work import UnitOfWork, Vault

PROFILE = {
    "identity.given_name": "Nərgiz",
    "identity.family_name": "Əliyeva",
    "contact.email": "nergiz@example.az",
    "contact.phone": "+994 51 234 56 78",
}
CUSTOMER = Context("customer", "203.0.113.7", "pytest")
# What one profile read through the API may cost, counted at the DB-API cursor: the token,
# the agreement of the pairwise subject, the agreement itself (under its shared lock), its
# fields, the access event; plus BEGIN IMMEDIATE on SQLite, or the shared advisory lock on
# PostgreSQL. (It was 8 before the gate read the agreement once; a data key not in the cache
# adds one more, once per customer and cache lifetime.)
PROFILE_READ_STATEMENTS = 6


@pytest.fixture
def business_id(vault: Vault) -> uuid.UUID:
    return make_business(vault)[0]


@pytest.fixture
def caller(business_id: uuid.UUID) -> Caller:
    return Caller(business_id, "client:emc_batch")


def connect(
    vault: Vault, business_id: uuid.UUID, grants: dict[str, str]
) -> tuple[uuid.UUID, uuid.UUID]:
    customer = make_customer(vault, profile=PROFILE)
    return make_active_agreement(vault, business_id, customer, grants), customer


def profile_events(vault: Vault) -> list[AccessEvent]:
    with vault.unit_of_work(write=False) as uow:
        return list(
            uow.session.scalars(
                select(AccessEvent)
                .where(AccessEvent.kind == "profile.read")
                .order_by(AccessEvent.seq)
            )
        )


def read_page(vault: Vault, caller: Caller, ids: list[uuid.UUID]) -> tuple[list[Any], int]:
    """Read a page through the gate; return the profiles and how many commits it made."""
    commits = 0
    with vault.unit_of_work() as uow:
        commit = uow.commit

        def counting_commit() -> None:
            nonlocal commits
            commits += 1
            commit()

        uow.commit = counting_commit  # type: ignore[method-assign]
        profiles = read_profiles(uow, caller, ids)
    return profiles, commits


def test_each_agreement_gives_exactly_its_own_readable_granted_fields(
    vault: Vault, business_id: uuid.UUID, caller: Caller
) -> None:
    first, first_customer = connect(
        vault, business_id, {"identity.given_name": "read", "contact.phone": "write"}
    )
    second, second_customer = connect(
        vault, business_id, {"contact.email": "read", "interactions": "append"}
    )
    profiles, commits = read_page(vault, caller, [second, first])
    assert commits == 1
    assert [p.agreement_id for p in profiles] == [second, first]  # the order asked for
    assert {k: v.value for k, v in profiles[0].fields.items()} == {
        "contact.email": "nergiz@example.az"
    }
    assert {k: v.value for k, v in profiles[1].fields.items()} == {
        "identity.given_name": "Nərgiz",
        "contact.phone": "+994512345678",
    }
    assert {p.purpose for p in profiles} == {"CustomerCare"}
    with vault.unit_of_work() as uow:
        assert profiles[0].subject == subject_for(uow, business_id, second_customer)
        assert profiles[1].subject == subject_for(uow, business_id, first_customer)


def test_refused_agreements_are_left_out_and_logged_as_denied_one_event_per_profile(
    vault: Vault, business_id: uuid.UUID, caller: Caller
) -> None:
    grants = {"identity.given_name": "read"}
    readable, _ = connect(vault, business_id, grants)
    revoked, revoked_customer = connect(vault, business_id, grants)
    restricted, restricted_customer = connect(vault, business_id, grants)
    foreign, _ = connect(vault, make_business(vault, name="Quba Xalçaları")[0], grants)
    unknown = uuid.uuid4()
    with vault.unit_of_work() as uow:
        revoke_agreement(uow, revoked, revoked_customer, CUSTOMER)
    with vault.unit_of_work() as uow:
        restrict_agreement(uow, restricted, restricted_customer, CUSTOMER)

    asked = [readable, revoked, restricted, foreign, unknown, readable]
    profiles, commits = read_page(vault, caller, asked)

    assert commits == 1
    assert [p.agreement_id for p in profiles] == [readable]
    outcomes = {e.agreement_id: e.outcome for e in profile_events(vault)}
    assert outcomes == {
        readable: "allowed",
        revoked: "denied:revoked",
        restricted: "denied:restricted",
        foreign: "denied:no_agreement",
        unknown: "denied:no_agreement",
    }
    events = profile_events(vault)
    assert len(events) == 5  # one per agreement, the one asked twice read once
    [allowed] = [e for e in events if e.outcome == "allowed"]
    assert (allowed.actor, allowed.business_id, allowed.fields) == (
        caller.actor,
        caller.business_id,
        ["identity.given_name"],
    )
    # A refused stranger's event does not tie the customer to this business.
    assert {e.customer_id for e in events if e.agreement_id in (foreign, unknown)} == {None}


def test_nothing_is_returned_when_every_agreement_is_refused(
    vault: Vault, business_id: uuid.UUID, caller: Caller
) -> None:
    agreement_id, customer = connect(vault, business_id, {"contact.email": "read"})
    with vault.unit_of_work() as uow:
        revoke_agreement(uow, agreement_id, customer, CUSTOMER)
    profiles, _ = read_page(vault, caller, [agreement_id, uuid.uuid4()])
    assert profiles == []
    assert [e.outcome for e in profile_events(vault)] == ["denied:revoked", "denied:no_agreement"]
    assert read_page(vault, caller, []) == ([], 0)


def test_an_expiry_noticed_in_a_page_is_refused_and_written_down(
    vault: Vault, business_id: uuid.UUID, caller: Caller
) -> None:
    customer = make_customer(vault, profile=PROFILE)
    grants = {"contact.email": "read"}
    ending = make_active_agreement(vault, business_id, customer, grants, duration="P1D")
    lasting = make_active_agreement(vault, business_id, customer, grants, duration="P1Y")
    later = datetime.now(UTC) + timedelta(days=2)
    vault.clock = lambda: later
    profiles, _ = read_page(vault, caller, [ending, lasting])
    assert [p.agreement_id for p in profiles] == [lasting]
    with vault.unit_of_work(write=False) as uow:
        ended = uow.session.get(Agreement, ending)
        assert ended is not None and ended.status == "expired"
        written = uow.session.scalar(
            select(func.count())
            .select_from(AgreementEvent)
            .where(AgreementEvent.agreement_id == ending, AgreementEvent.kind == "expired")
        )
    assert written == 1
    assert [e.outcome for e in profile_events(vault)] == ["denied:expired", "allowed"]


# --- what a read costs the database --------------------------------------------------------


@pytest.fixture
def app(runtime: Runtime) -> Iterator[Flask]:
    application = create_app({"TESTING": True}, settings=runtime.settings)
    yield application
    application.extensions["emanet"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class Statements:
    """Every statement an engine sends to its database, as the DB-API cursor sees it."""

    def __init__(self, app: Flask) -> None:
        self.engine = app.extensions["emanet"].database.engine
        self.seen: list[str] = []

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.seen.append(" ".join(statement.split()))

    def __enter__(self) -> list[str]:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self.seen

    def __exit__(self, *exc_info: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


def test_a_profile_read_through_the_api_uses_few_statements(
    app: Flask, client: FlaskClient, vault: Vault
) -> None:
    business_id, issued = make_business(vault)
    agreement_id, customer = connect(vault, business_id, {k: "read" for k in PROFILE})
    with vault.unit_of_work() as uow:
        subject = subject_for(uow, business_id, customer)
        uow.commit()
    answer = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(issued.client_id, issued.client_secret),
    )
    headers = {"Authorization": f"Bearer {answer.get_json()['access_token']}"}
    path = f"/api/v1/customers/{subject}/profile"
    assert client.get(path, headers=headers).status_code == 200  # unwraps the data key once

    with Statements(app) as statements:
        answer = client.get(path, headers=headers)
    assert answer.status_code == 200
    assert set(answer.get_json()["fields"]) == set(PROFILE)
    assert len(statements) <= PROFILE_READ_STATEMENTS, "\n".join(statements)
    reads_of_agreements = [s for s in statements if s.startswith("SELECT agreements.id,")]
    assert len(reads_of_agreements) == 1, "the gate reads the agreement once, under its lock"
    assert [s.split()[0] for s in statements].count("INSERT") == 1  # the access event
    with vault.unit_of_work(write=False) as uow:
        assert _events_of(uow, agreement_id) == 2


def test_a_sync_page_costs_a_few_statements_per_profile_and_one_transaction(
    app: Flask, client: FlaskClient, vault: Vault
) -> None:
    business_id, issued = make_business(vault)
    for _ in range(3):
        connect(vault, business_id, {"contact.email": "read"})
    answer = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(issued.client_id, issued.client_secret),
    )
    headers = {"Authorization": f"Bearer {answer.get_json()['access_token']}"}
    assert client.get("/api/v1/sync/profiles", headers=headers).status_code == 200  # warm-up

    with Statements(app) as statements:
        answer = client.get("/api/v1/sync/profiles", headers=headers)
    assert len(answer.get_json()["items"]) == 3
    # Per page: the token, the listing, the agreements, the pairwise ids (and BEGIN on
    # SQLite); per profile: its fields and its access event (and its shared lock on PostgreSQL).
    postgres = app.extensions["emanet"].database.engine.dialect.name == "postgresql"
    per_profile = 3 if postgres else 2
    assert len(statements) <= 5 + per_profile * 3, "\n".join(statements)
    assert not [s for s in statements if s.startswith(("BEGIN", "SAVEPOINT"))][1:]


def _events_of(uow: UnitOfWork, agreement_id: uuid.UUID) -> int:
    return (
        uow.session.scalar(
            select(func.count())
            .select_from(AccessEvent)
            .where(AccessEvent.agreement_id == agreement_id)
        )
        or 0
    )
