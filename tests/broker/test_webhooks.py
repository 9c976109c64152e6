"""Webhooks: outbox events reach each subscribed endpoint, signed, once, despite outages."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, select
from standardwebhooks import Webhook

from broker.businesses.services import BusinessNotFoundError
from broker.webhooks.delivery import MAX_ATTEMPTS, MAX_DELAY, deliver_due, retry_delay, run_worker

# Imported at collection, so its tables are in the metadata the session's schema is built from.
from broker.webhooks.models import WebhookEndpoint
from broker.webhooks.services import (
    DeliveryView,
    WebhookError,
    check_url,
    deliveries_for,
    disable_endpoint,
    fan_out,
    register_endpoint,
)
from broker.webhooks.signing import open_secret, secret_key, signature
from emanet.bootstrap import Runtime
from emanet.cli_worker import webhook, worker
from tests.backends import PostgresBackend, SqliteBackend
from tests.conftest import make_customer
from tests.factories import make_active_agreement, make_business
from vault.agreements.services import Context, revoke_agreement
from vault.keys.aead import DecryptionError
from vault.profile.services import set_field
from vault.unit_of_work import Vault

FIELDS = {"identity.given_name": "read", "contact.phone": "read"}


class Receiver:
    """An HTTP server on 127.0.0.1 that records every request and answers as it is told."""

    def __init__(self) -> None:
        self.status = 204
        self.received: list[tuple[str, dict[str, str], bytes, int]] = []
        self.port = 0
        self.start()

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.status
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.received.append((self.path, headers, body, status))
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Go down: connections are refused until `start` is called again."""
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def accepted(self) -> list[tuple[str, dict[str, str], bytes, int]]:
        return [r for r in self.received if 200 <= r[3] < 300]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.stop()


def add_endpoint(vault: Vault, business_id: uuid.UUID, url: str, **kwargs: object) -> tuple:
    with vault.unit_of_work() as uow:
        return register_endpoint(uow, business_id, url, allow_loopback=True, **kwargs)  # type: ignore[arg-type]


def fan(vault: Vault) -> int:
    with vault.unit_of_work() as uow:
        return fan_out(uow)


def log_of(vault: Vault, endpoint_id: uuid.UUID) -> list[DeliveryView]:
    with vault.unit_of_work(write=False) as uow:
        return deliveries_for(uow, endpoint_id)


def test_webhook_tables_exist_on_this_backend(runtime: Runtime) -> None:
    tables = inspect(runtime.database.engine).get_table_names()
    assert {"webhook_endpoints", "webhook_deliveries"} <= set(tables)


def test_grant_profile_update_and_revocation_arrive_signed(
    vault: Vault, receiver: Receiver
) -> None:
    business_id, _ = make_business(vault)
    endpoint_id, secret = add_endpoint(vault, business_id, receiver.url())
    customer_id = make_customer(vault)
    agreement_id = make_active_agreement(vault, business_id, customer_id, FIELDS)
    with vault.unit_of_work() as uow:
        set_field(uow, customer_id, "identity.given_name", "Aysel")
    with vault.unit_of_work() as uow:
        revoke_agreement(uow, agreement_id, customer_id, Context(actor="customer"))

    assert fan(vault) == 3
    assert deliver_due(vault).delivered == 3
    verified = [Webhook(secret).verify(body, headers) for _, headers, body, _ in receiver.received]
    assert [v["type"] for v in verified] == [
        "agreement.granted",
        "profile.updated",
        "agreement.revoked",
    ]
    assert all(v["data"]["agreement_id"] == str(agreement_id) for v in verified)
    assert verified[1]["data"]["fields"] == ["identity.given_name"]
    assert b"Aysel" not in receiver.received[1][2]  # field keys, never values
    log = log_of(vault, endpoint_id)
    assert {(d.status, d.attempts, d.last_status_code) for d in log} == {("delivered", 1, 204)}
    ids = {headers["webhook-id"] for _, headers, _, _ in receiver.received}
    assert ids == {str(d.outbox_event_id) for d in log}
    assert fan(vault) == 0 and deliver_due(vault).attempted == 0


def test_endpoint_that_is_down_gets_the_event_later_exactly_once(
    vault: Vault, receiver: Receiver
) -> None:
    business_id, _ = make_business(vault)
    endpoint_id, secret = add_endpoint(vault, business_id, receiver.url())
    make_active_agreement(vault, business_id, make_customer(vault), FIELDS)
    fan(vault)
    t0 = vault.clock()

    receiver.status = 503
    assert deliver_due(vault, now=t0).retrying == 1
    assert deliver_due(vault, now=t0 + timedelta(seconds=5)).attempted == 0  # backing off
    [delivery] = log_of(vault, endpoint_id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 503)

    receiver.stop()  # connection refused
    assert deliver_due(vault, now=t0 + MAX_DELAY * 1.1).retrying == 1
    [delivery] = log_of(vault, endpoint_id)
    assert delivery.attempts == 2 and delivery.last_status_code is None
    assert "refused" in (delivery.last_error or "").lower()

    receiver.status = 200
    receiver.start()
    for hours in (14, 20, 40):
        deliver_due(vault, now=t0 + timedelta(hours=hours))
    [(_, headers, body, _)] = receiver.accepted()
    assert Webhook(secret).verify(body, headers)["type"] == "agreement.granted"
    [delivery] = log_of(vault, endpoint_id)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("delivered", 3, None)
    assert len(receiver.received) == 2  # one 503, then the delivery; refused never arrived


def test_delivery_gives_up_after_too_many_failures_and_stays_in_the_log(
    vault: Vault, receiver: Receiver
) -> None:
    business_id, _ = make_business(vault)
    endpoint_id, _ = add_endpoint(vault, business_id, receiver.url())
    make_active_agreement(vault, business_id, make_customer(vault), FIELDS)
    fan(vault)
    receiver.status = 500
    now = vault.clock()
    for _ in range(MAX_ATTEMPTS - 1):
        assert deliver_due(vault, now=now).retrying == 1
        now += MAX_DELAY * 1.01
    assert deliver_due(vault, now=now).failed == 1
    assert deliver_due(vault, now=now + timedelta(days=30)).attempted == 0
    [delivery] = log_of(vault, endpoint_id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        "failed",
        MAX_ATTEMPTS,
        500,
    )
    assert len(receiver.received) == MAX_ATTEMPTS


def test_redirects_are_not_followed(vault: Vault, receiver: Receiver) -> None:
    business_id, _ = make_business(vault)
    endpoint_id, _ = add_endpoint(vault, business_id, receiver.url())
    make_active_agreement(vault, business_id, make_customer(vault), FIELDS)
    fan(vault)
    receiver.status = 307
    assert deliver_due(vault).retrying == 1
    assert [path for path, *_ in receiver.received] == ["/hook"]
    assert log_of(vault, endpoint_id)[0].last_status_code == 307


def test_an_endpoint_receives_only_its_own_business_events(
    vault: Vault, receiver: Receiver
) -> None:
    ours, _ = make_business(vault, "Ours")
    theirs, _ = make_business(vault, "Theirs")
    _, our_secret = add_endpoint(vault, ours, receiver.url("/ours"))
    add_endpoint(vault, theirs, receiver.url("/theirs"))
    customer_id = make_customer(vault)
    our_agreement = make_active_agreement(vault, ours, customer_id, FIELDS)
    their_agreement = make_active_agreement(vault, theirs, customer_id, FIELDS)
    fan(vault)
    deliver_due(vault)
    by_path = {
        path: json.loads(body)["data"]["agreement_id"] for path, _, body, _ in receiver.received
    }
    assert by_path == {"/ours": str(our_agreement), "/theirs": str(their_agreement)}
    ours_request = next(r for r in receiver.received if r[0] == "/ours")
    Webhook(our_secret).verify(ours_request[2], ours_request[1])


def test_only_subscribed_types_and_only_events_after_registration(
    vault: Vault, receiver: Receiver
) -> None:
    business_id, _ = make_business(vault)
    customer_id = make_customer(vault)
    agreement_id = make_active_agreement(vault, business_id, customer_id, FIELDS)
    endpoint_id, _ = add_endpoint(
        vault, business_id, receiver.url(), event_types=["agreement.revoked"]
    )
    with vault.unit_of_work() as uow:
        set_field(uow, customer_id, "contact.phone", "+994 50 123 45 67")
    with vault.unit_of_work() as uow:
        revoke_agreement(uow, agreement_id, customer_id, Context(actor="customer"))
    assert fan(vault) == 1
    assert [d.event_type for d in log_of(vault, endpoint_id)] == ["agreement.revoked"]


def test_an_event_committed_below_the_cursor_is_still_fanned_out(vault: Vault) -> None:
    business_id, _ = make_business(vault)
    endpoint_id, _ = add_endpoint(vault, business_id, "http://127.0.0.1:9/hook")
    make_active_agreement(vault, business_id, make_customer(vault), FIELDS)
    with vault.unit_of_work() as uow:
        # As if a later event had been fanned out before this slower transaction committed.
        uow.session.get_one(WebhookEndpoint, endpoint_id).last_outbox_seq += 1000
        uow.commit()
    assert fan(vault) == 1
    assert fan(vault) == 0


def test_two_workers_deliver_each_event_once(vault: Vault, receiver: Receiver) -> None:
    business_id, _ = make_business(vault)
    add_endpoint(vault, business_id, receiver.url())
    for _ in range(6):
        make_active_agreement(vault, business_id, make_customer(vault), FIELDS)
    workers = [threading.Thread(target=lambda: (fan(vault), deliver_due(vault))) for _ in range(2)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    ids = [headers["webhook-id"] for _, headers, _, _ in receiver.accepted()]
    assert len(ids) == len(set(ids)) == 6


def test_a_disabled_endpoint_gets_nothing_more(vault: Vault, receiver: Receiver) -> None:
    business_id, _ = make_business(vault)
    endpoint_id, _ = add_endpoint(vault, business_id, receiver.url())
    make_active_agreement(vault, business_id, make_customer(vault), FIELDS)
    fan(vault)
    with vault.unit_of_work() as uow:
        disable_endpoint(uow, endpoint_id)
    make_active_agreement(vault, business_id, make_customer(vault), FIELDS)
    assert fan(vault) == 0 and deliver_due(vault).attempted == 0
    assert [(d.status, d.last_error) for d in log_of(vault, endpoint_id)] == [
        ("failed", "endpoint disabled")
    ]


def test_signing_secret_is_not_stored_in_clear(
    vault: Vault, backend: SqliteBackend | PostgresBackend, database_url: str
) -> None:
    business_id, _ = make_business(vault)
    endpoint_id, secret = add_endpoint(vault, business_id, "https://hooks.example.com/emanet")
    other_id, _ = add_endpoint(vault, business_id, "https://hooks.example.com/other")
    encoded = secret.removeprefix("whsec_")
    raw = backend.raw_bytes(database_url)
    assert b"hooks.example.com/emanet" in raw  # the dump does hold the endpoint's row
    key = secret_key(secret)
    for needle in (secret.encode(), encoded.encode(), key, key.hex().encode()):
        assert needle not in raw
    with vault.unit_of_work() as uow:
        endpoint = uow.session.get_one(WebhookEndpoint, endpoint_id)
        assert open_secret(uow, endpoint) == secret
        other = uow.session.get_one(WebhookEndpoint, other_id)
        other.sealed_secret = endpoint.sealed_secret  # moved to another row, it must not open
        with pytest.raises(DecryptionError):
            open_secret(uow, other)


def test_a_secret_that_does_not_open_fails_its_deliveries(vault: Vault, receiver: Receiver) -> None:
    business_id, _ = make_business(vault)
    endpoint_id, _ = add_endpoint(vault, business_id, receiver.url())
    other_id, _ = add_endpoint(vault, business_id, receiver.url("/other"))
    make_active_agreement(vault, business_id, make_customer(vault), FIELDS)
    with vault.unit_of_work() as uow:
        broken = uow.session.get_one(WebhookEndpoint, endpoint_id)
        broken.sealed_secret = uow.session.get_one(WebhookEndpoint, other_id).sealed_secret
        uow.commit()
    assert fan(vault) == 2
    assert deliver_due(vault).delivered == 1  # the other endpoint is not held up
    [delivery] = log_of(vault, endpoint_id)
    assert (delivery.status, delivery.last_error) == ("failed", "signing secret does not open")
    assert [path for path, *_ in receiver.received] == ["/other"]


def test_our_signature_is_the_standard_one() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"type":"agreement.granted"}'
    at = datetime.fromtimestamp(1700000000, UTC)
    expected = Webhook(secret).sign("msg_1", at, body.decode())
    assert signature(secret, "msg_1", 1700000000, body) == expected


def test_retry_delay_doubles_with_jitter_and_is_capped() -> None:
    assert retry_delay(1, 1.0) == timedelta(seconds=20)
    assert retry_delay(1, 0.0) == timedelta(seconds=15)
    assert retry_delay(3, 1.0) == 2 * retry_delay(2, 1.0)
    assert all(retry_delay(n) <= MAX_DELAY for n in range(40))


@pytest.mark.parametrize(
    ("url", "allow_loopback", "message"),
    [
        ("http://hooks.example.com/x", True, "https"),
        ("ftp://hooks.example.com/x", True, "https"),
        ("http://127.0.0.1:8000/x", False, "Loopback"),
        ("https://localhost/x", False, "Loopback"),
        ("https://localhost./x", False, "Loopback"),
        ("https://2130706433/x", False, "Loopback"),
        ("https://0x7f.1/x", False, "Loopback"),
        ("https://10.1.2.3/x", False, "private"),
        ("https://169.254.169.254/latest/meta-data", False, "private"),
        ("https://[fe80::1]/x", False, "private"),
        ("https://user:pw@hooks.example.com/x", False, "credentials"),
        ("https://hooks.example.com:99999/x", False, "not valid"),
        ("hooks.example.com/x", False, "absolute"),
        ("https://hooks.example.com/" + "x" * 2000, False, "longer"),
    ],
)
def test_unsafe_urls_are_refused(url: str, allow_loopback: bool, message: str) -> None:
    with pytest.raises(WebhookError, match=message):
        check_url(url, allow_loopback=allow_loopback)


@pytest.mark.parametrize(
    ("url", "allow_loopback"),
    [
        ("https://hooks.example.com/emanet", False),
        ("http://127.0.0.1:8000/hook", True),
        ("http://localhost:8000/hook", True),
    ],
)
def test_safe_urls_are_accepted(url: str, allow_loopback: bool) -> None:
    assert check_url(url, allow_loopback=allow_loopback) == url


def test_a_refused_endpoint_changes_nothing(vault: Vault) -> None:
    business_id, _ = make_business(vault)
    with vault.unit_of_work() as uow, pytest.raises(WebhookError):
        register_endpoint(uow, business_id, "http://hooks.example.com/x", allow_loopback=True)
    with vault.unit_of_work() as uow, pytest.raises(WebhookError, match="Unknown event"):
        register_endpoint(
            uow,
            business_id,
            "https://hooks.example.com/x",
            ["agreement.eaten"],
            allow_loopback=False,
        )
    with vault.unit_of_work() as uow, pytest.raises(BusinessNotFoundError):
        register_endpoint(uow, uuid.uuid4(), "https://hooks.example.com/x", allow_loopback=False)
    with vault.unit_of_work(write=False) as uow:
        assert uow.session.scalars(select(WebhookEndpoint)).all() == []


def test_worker_loop_stops_when_told(vault: Vault, receiver: Receiver) -> None:
    business_id, _ = make_business(vault)
    add_endpoint(vault, business_id, receiver.url())
    make_active_agreement(vault, business_id, make_customer(vault), FIELDS)
    stop = threading.Event()
    thread = threading.Thread(
        target=run_worker,
        args=(vault,),
        kwargs={"once": False, "interval": 0.05, "stop_event": stop},
    )
    thread.start()
    for _ in range(200):
        if receiver.accepted():
            break
        stop.wait(0.05)
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert len(receiver.accepted()) == 1


def test_webhook_commands(runtime: Runtime, receiver: Receiver) -> None:
    vault, settings = runtime.vault, runtime.settings
    business_id, _ = make_business(vault)
    runner = CliRunner()

    def run(command, *args: str, mode: str = "test"):
        obj = settings.with_overrides(mode=mode)
        return runner.invoke(command, list(args), obj=obj, catch_exceptions=False)

    refused = run(
        webhook, "add", "--business", str(business_id), "--url", receiver.url(), mode="production"
    )
    assert refused.exit_code == 1 and "Loopback" in refused.output
    added = run(webhook, "add", "--business", str(business_id), "--url", receiver.url(), "--json")
    assert added.exit_code == 0, added.output
    created = json.loads(added.stdout)
    assert created["secret"].startswith("whsec_")
    make_active_agreement(vault, business_id, make_customer(vault), FIELDS)
    assert run(worker, "--once").exit_code == 0
    [(_, headers, body, _)] = receiver.accepted()
    Webhook(created["secret"]).verify(body, headers)
    log = run(webhook, "deliveries", "--endpoint", created["endpoint_id"], "--json")
    [row] = json.loads(log.stdout)["deliveries"]
    assert (row["event_type"], row["status"], row["attempts"]) == (
        "agreement.granted",
        "delivered",
        1,
    )
    assert run(webhook, "deliveries", "--endpoint", "nope").exit_code == 2
    assert run(webhook, "deliveries", "--endpoint", str(uuid.uuid4())).exit_code == 1
