"""Notifications: each kind appears in its situation and goes away once it is dealt with."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient

from broker.businesses.services import business_snapshot
from schemas.agreements import AccessMode
from tests.conftest import make_customer
from tests.factories import make_active_agreement, make_business, make_request, terms_for
from vault.agreements.models import Agreement
from vault.agreements.services import (
    Context,
    decide_request,
    request_agreement,
    revoke_agreement,
)
from vault.notifications import NotificationKind, derive_notifications
from vault.unit_of_work import Vault

SHOP = "Köhnə Şəhər Antikvarları"
START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
CUSTOMER = Context(actor="customer")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(vault: Vault, app: Flask) -> Iterator[Clock]:
    """Set the time of the fixture vault and of the app's own vault alike."""
    ticking = Clock(START)
    vaults = (vault, app.extensions["emanet"].vault)
    saved = [v.clock for v in vaults]
    for v in vaults:
        v.clock = ticking
    yield ticking
    for v, old in zip(vaults, saved, strict=True):
        v.clock = old


@pytest.fixture
def shop(vault: Vault) -> uuid.UUID:
    return make_business(vault, name=SHOP)[0]


def notices(client: FlaskClient) -> list[str]:
    """Return each notification as its text followed by its link."""
    html = client.get("/notifications").get_data(as_text=True)
    found = []
    for item in re.findall(r'<li class="card notification.*?</li>', html, re.S):
        text = unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", item))).strip()
        link = re.search(r'href="([^"]+)"', item)
        found.append(f"{text} -> {unescape(link.group(1)) if link else ''}")
    return found


def valid_until(vault: Vault, agreement_id: uuid.UUID) -> datetime:
    with vault.unit_of_work(write=False) as uow:
        agreement = uow.session.get(Agreement, agreement_id)
        assert agreement is not None and agreement.valid_until is not None
        return agreement.valid_until


def test_notifications_need_a_signed_in_customer(client: FlaskClient) -> None:
    assert client.get("/notifications").status_code == 303


def test_nothing_to_say_says_so(
    client: FlaskClient, signed_in: Callable[..., uuid.UUID], clock: Clock
) -> None:
    signed_in()
    html = client.get("/notifications").get_data(as_text=True)
    assert "Nothing needs your attention" in html
    assert "<title>Notifications · Emanet</title>" in html


def test_a_new_request_shows_until_it_is_answered(
    client: FlaskClient,
    signed_in: Callable[..., uuid.UUID],
    vault: Vault,
    shop: uuid.UUID,
    clock: Clock,
) -> None:
    me = signed_in()
    request_id = make_request(vault, shop, {"contact.email": "read"}, me)

    (notice,) = notices(client)
    assert f"{SHOP} asks for some of your data." in notice
    assert notice.endswith(f"-> /consent/{request_id}")
    html = client.get("/notifications").get_data(as_text=True)
    assert "<title>(1) Notifications · Emanet</title>" in html
    assert (
        '<span aria-hidden="true">1</span><span class="sr-only-note">1 notifications</span>' in html
    )

    with vault.unit_of_work() as uow:
        decide_request(uow, request_id, me, None, CUSTOMER)  # declined is an answer too

    assert notices(client) == []


def test_an_amendment_shows_until_it_is_answered(
    client: FlaskClient,
    signed_in: Callable[..., uuid.UUID],
    vault: Vault,
    shop: uuid.UUID,
    clock: Clock,
) -> None:
    me = signed_in()
    active = make_active_agreement(vault, shop, me, {"contact.email": "read"})
    with vault.unit_of_work() as uow:
        previous = uow.session.get(Agreement, active)
        amendment = request_agreement(
            uow,
            business=business_snapshot(uow, shop),
            terms=terms_for({"contact.email": "read", "contact.phone": "read"}),
            context=Context(actor=f"business:{shop}"),
            supersedes=previous,
        ).id
        uow.commit()

    (notice,) = notices(client)
    assert f"{SHOP} asks to change what you share with them." in notice
    assert f"/consent/{amendment}" in notice

    with vault.unit_of_work() as uow:
        decide_request(uow, amendment, me, {"contact.email": AccessMode.READ}, CUSTOMER)

    assert notices(client) == []


def test_an_agreement_about_to_expire_shows_in_its_last_fourteen_days(
    client: FlaskClient,
    signed_in: Callable[..., uuid.UUID],
    vault: Vault,
    shop: uuid.UUID,
    clock: Clock,
) -> None:
    me = signed_in()
    agreement = make_active_agreement(vault, shop, me, {"contact.email": "read"}, duration="P1M")
    ends = valid_until(vault, agreement)

    clock.now = ends - timedelta(days=15)
    assert notices(client) == []

    clock.now = ends - timedelta(days=13)
    (notice,) = notices(client)
    assert f"Your agreement with {SHOP} ends on April 1, 2025." in notice
    assert notice.endswith(f"See the connection -> /connections/{agreement}")

    with vault.unit_of_work() as uow:
        revoke_agreement(uow, agreement, me, CUSTOMER)

    assert notices(client) == []


def test_an_expired_agreement_shows_for_thirty_days(
    client: FlaskClient,
    signed_in: Callable[..., uuid.UUID],
    vault: Vault,
    shop: uuid.UUID,
    clock: Clock,
) -> None:
    me = signed_in()
    agreement = make_active_agreement(vault, shop, me, {"contact.email": "read"}, duration="P1M")
    ends = valid_until(vault, agreement)

    clock.now = ends + timedelta(days=1)
    (notice,) = notices(client)
    assert f"Your agreement with {SHOP} ended on April 1, 2025." in notice

    clock.now = ends + timedelta(days=31)
    assert notices(client) == []


def test_another_customers_situations_never_show(
    client: FlaskClient,
    signed_in: Callable[..., uuid.UUID],
    vault: Vault,
    shop: uuid.UUID,
    clock: Clock,
) -> None:
    signed_in()
    other = make_customer(vault)
    make_request(vault, shop, {"contact.email": "read"}, other)
    make_active_agreement(vault, shop, other, {"contact.phone": "read"}, duration="P7D")

    assert notices(client) == []


def test_several_notifications_come_most_pressing_first(
    client: FlaskClient,
    signed_in: Callable[..., uuid.UUID],
    vault: Vault,
    clock: Clock,
) -> None:
    me = signed_in()
    bakery = make_business(vault, name="Təndir Çörəkxanası")[0]
    tailor = make_business(vault, name="Dərzi Emin")[0]
    make_active_agreement(vault, tailor, me, {"contact.phone": "read"}, duration="P10D")
    clock.now = START + timedelta(days=12)  # the tailor's ended two days ago
    make_active_agreement(vault, bakery, me, {"contact.email": "read"}, duration="P7D")
    make_request(vault, bakery, {"identity.given_name": "read"}, me)

    found = notices(client)

    assert [n.split(" ", 3)[:3] for n in found] == [
        ["Təndir", "Çörəkxanası", "asks"],
        ["Your", "agreement", "with"],
        ["Your", "agreement", "with"],
    ]
    assert "Təndir Çörəkxanası ends" in found[1]
    assert "Dərzi Emin ended" in found[2]
    html = client.get("/notifications").get_data(as_text=True)
    assert "<title>(3) Notifications · Emanet</title>" in html


def test_derive_notifications_reads_the_status_at_the_given_time(
    vault: Vault, shop: uuid.UUID
) -> None:
    me = make_customer(vault)
    agreement_id = make_active_agreement(vault, shop, me, {"contact.email": "read"}, duration="P1M")
    with vault.unit_of_work(write=False) as uow:
        agreement = uow.session.get(Agreement, agreement_id)
        assert agreement is not None and agreement.valid_until is not None
        ends = agreement.valid_until
        kinds = [
            [n.kind for n in derive_notifications([agreement], ends + offset)]
            for offset in (
                -timedelta(days=20),
                -timedelta(days=1),
                timedelta(0),
                timedelta(days=29),
                timedelta(days=30),
            )
        ]

    assert kinds == [
        [],
        [NotificationKind.EXPIRING],
        [NotificationKind.EXPIRED],
        [NotificationKind.EXPIRED],
        [],
    ]
