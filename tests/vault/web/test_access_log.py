"""The access log page: every business access to the customer's data, in words, and only theirs."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from html import unescape

import pytest
from flask.testing import FlaskClient
from sqlalchemy import insert

from broker.gate import AccessDenied, Caller, append_interaction, read_profile
from schemas.field_catalogue import FIELD_CATALOGUE
from schemas.interactions import InteractionEntry, InteractionKind
from tests.conftest import make_customer
from tests.factories import make_active_agreement, make_business
from vault.access_log.models import AccessEvent
from vault.agreements.services import Context, restrict_agreement
from vault.unit_of_work import Vault

PROFILE = {
    "identity.given_name": "Səbinə",
    "contact.email": "sebine@example.az",
    "contact.phone": "+994 50 123 45 67",
}
FIELDS = {"identity.given_name": "read", "contact.email": "read", "contact.phone": "read"}


def label(key: str) -> str:
    return FIELD_CATALOGUE[key].label("en")


def pull(vault: Vault, business_id: uuid.UUID, agreement_id: uuid.UUID, *fields: str) -> None:
    with vault.unit_of_work() as uow:
        read_profile(uow, Caller(business_id, "client:emc_test"), agreement_id, fields or None)


def rows(html: str) -> list[str]:
    """Return the table rows of the log, newest first, as their text."""
    return [unescape(r) for r in re.findall(r'<tr id="log-\d+".*?</tr>', html, re.S)]


def seqs(html: str) -> list[int]:
    return [int(s) for s in re.findall(r'<tr id="log-(\d+)"', html)]


def older_link(html: str) -> str | None:
    found = re.search(r'<a class="button" href="([^"]+)" rel="next">', html)
    return unescape(found.group(1)) if found else None


@pytest.fixture
def shop(vault: Vault) -> uuid.UUID:
    return make_business(vault, name="Köhnə Şəhər Antikvarları")[0]


@pytest.fixture
def bakery(vault: Vault) -> uuid.UUID:
    return make_business(vault, name="Təndir Çörəkxanası")[0]


def test_the_log_needs_a_signed_in_customer(client: FlaskClient) -> None:
    answer = client.get("/access-log")
    assert answer.status_code == 303
    assert "/login" in answer.headers["Location"]


def test_a_pull_shows_with_its_business_fields_purpose_and_outcome(
    client: FlaskClient, signed_in: Callable[..., uuid.UUID], vault: Vault, shop: uuid.UUID
) -> None:
    me = signed_in(profile=PROFILE)
    agreement = make_active_agreement(vault, shop, me, FIELDS)
    pull(vault, shop, agreement, "identity.given_name", "contact.phone")

    page = client.get("/access-log")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    newest = rows(html)[0]
    assert "Köhnə Şəhər Antikvarları" in newest
    assert "Read your data" in newest
    assert label("identity.given_name") in newest
    assert label("contact.phone") in newest
    assert label("contact.email") not in newest  # not asked for in this pull
    assert "Customer care" in newest  # the purpose, in words
    assert "Allowed" in newest
    assert f'href="/connections/{agreement}"' in newest
    # The opening of the vault is the oldest entry.
    assert "You opened your vault" in rows(html)[-1]


def test_a_refused_pull_says_why(
    client: FlaskClient, signed_in: Callable[..., uuid.UUID], vault: Vault, shop: uuid.UUID
) -> None:
    me = signed_in(profile=PROFILE)
    agreement = make_active_agreement(vault, shop, me, FIELDS)
    with vault.unit_of_work() as uow:
        restrict_agreement(uow, agreement, me, Context(actor="customer"))
    with pytest.raises(AccessDenied):
        pull(vault, shop, agreement, "contact.email")

    newest = rows(client.get("/access-log").get_data(as_text=True))[0]

    assert "Refused" in newest
    assert "you had paused this connection" in newest
    assert label("contact.email") in newest
    assert "Allowed" not in newest


def test_interaction_appends_show_in_the_log(
    client: FlaskClient, signed_in: Callable[..., uuid.UUID], vault: Vault, shop: uuid.UUID
) -> None:
    me = signed_in()
    agreement = make_active_agreement(vault, shop, me, {"interactions": "append"})
    with vault.unit_of_work() as uow:
        append_interaction(
            uow,
            Caller(shop, "staff:rauf"),
            agreement,
            InteractionEntry(
                kind=InteractionKind.VISIT,
                occurred_at=vault.clock(),
                summary="Looked at rugs",
            ),
        )

    newest = rows(client.get("/access-log").get_data(as_text=True))[0]

    assert "Added to your interactions" in newest
    assert "Your interactions" in newest


def test_filters_by_business_and_by_field(
    client: FlaskClient,
    signed_in: Callable[..., uuid.UUID],
    vault: Vault,
    shop: uuid.UUID,
    bakery: uuid.UUID,
) -> None:
    me = signed_in(profile=PROFILE)
    with_shop = make_active_agreement(vault, shop, me, FIELDS)
    with_bakery = make_active_agreement(vault, bakery, me, FIELDS)
    pull(vault, shop, with_shop, "contact.email")
    pull(vault, bakery, with_bakery, "contact.phone")
    pull(vault, shop, with_shop, "contact.phone")

    everything = rows(client.get("/access-log").get_data(as_text=True))
    by_bakery = rows(client.get(f"/access-log?business={bakery}").get_data(as_text=True))
    by_email = rows(client.get("/access-log?field=contact.email").get_data(as_text=True))
    both = rows(
        client.get(f"/access-log?business={shop}&field=contact.phone").get_data(as_text=True)
    )

    assert len(everything) == 4  # three pulls and the opening of the vault
    assert len(by_bakery) == 1
    assert "Təndir Çörəkxanası" in by_bakery[0]
    assert label("contact.phone") in by_bakery[0]
    assert len(by_email) == 1
    assert "Köhnə Şəhər Antikvarları" in by_email[0]
    assert len(both) == 1
    assert "Köhnə Şəhər Antikvarları" in both[0]
    assert label("contact.phone") in both[0]


def test_a_field_filter_matches_the_whole_key_only(
    client: FlaskClient, signed_in: Callable[..., uuid.UUID], vault: Vault, shop: uuid.UUID
) -> None:
    # "contact.email" must not match a pull of some longer key that merely contains it,
    # and LIKE wildcards in a key ("_") must not widen the match.
    me = signed_in(profile=PROFILE)
    agreement = make_active_agreement(vault, shop, me, FIELDS)
    pull(vault, shop, agreement, "identity.given_name")

    html = client.get("/access-log?field=identity.given_name").get_data(as_text=True)
    other = client.get("/access-log?field=identity.family_name").get_data(as_text=True)

    assert len(rows(html)) == 1
    assert rows(other) == []
    assert "Nothing in the log matches this filter." in other


def test_unknown_filter_values_are_refused_beside_the_field_and_ignored(
    client: FlaskClient, signed_in: Callable[..., uuid.UUID], vault: Vault, shop: uuid.UUID
) -> None:
    me = signed_in(profile=PROFILE)
    make_active_agreement(vault, shop, me, FIELDS)
    someone_elses = make_business(vault, name="Another Shop")[0]

    page = client.get(f"/access-log?business={someone_elses}&field=no.such.field&before=abc")

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count("Choose one of the options in the list.") == 2
    assert 'aria-describedby="business-help"' in html
    assert 'aria-describedby="field-help"' in html
    assert "You opened your vault" in html  # the unfiltered log
    assert "Another Shop" not in html


def test_pages_of_fifty_cover_120_events_without_gaps_or_repeats(
    client: FlaskClient, signed_in: Callable[..., uuid.UUID], vault: Vault, shop: uuid.UUID
) -> None:
    me = signed_in(profile=PROFILE)
    agreement = make_active_agreement(vault, shop, me, FIELDS)
    for _ in range(119):  # with the opening of the vault, 120 entries
        pull(vault, shop, agreement, "contact.email")

    seen: list[int] = []
    sizes = []
    url: str | None = "/access-log"
    while url is not None:
        html = client.get(url).get_data(as_text=True)
        page = seqs(html)
        sizes.append(len(page))
        seen.extend(page)
        url = older_link(html)
        if url is not None:
            assert "Back to the newest" in html or len(seen) == 50

    assert sizes == [50, 50, 20]
    assert len(seen) == 120
    assert seen == sorted(set(seen), reverse=True)


def test_paging_keeps_the_filter(
    client: FlaskClient,
    signed_in: Callable[..., uuid.UUID],
    vault: Vault,
    shop: uuid.UUID,
    bakery: uuid.UUID,
) -> None:
    me = signed_in(profile=PROFILE)
    with_shop = make_active_agreement(vault, shop, me, FIELDS)
    with_bakery = make_active_agreement(vault, bakery, me, FIELDS)
    for _ in range(55):
        pull(vault, shop, with_shop, "contact.email")
        pull(vault, bakery, with_bakery, "contact.email")

    first = client.get(f"/access-log?business={shop}").get_data(as_text=True)
    older = older_link(first)
    assert older is not None
    assert f"business={shop}" in older
    second = client.get(older).get_data(as_text=True)

    assert len(rows(first)) == 50
    assert len(rows(second)) == 5
    assert all("Köhnə Şəhər Antikvarları" in row for row in rows(first) + rows(second))
    assert older_link(second) is None


def test_another_customers_events_never_show(
    client: FlaskClient, signed_in: Callable[..., uuid.UUID], vault: Vault, shop: uuid.UUID
) -> None:
    me = signed_in(profile=PROFILE)
    other = make_customer(vault, profile={"work.employer": "Azersun"})
    mine = make_active_agreement(vault, shop, me, FIELDS)
    theirs = make_active_agreement(vault, shop, other, {"work.employer": "read"})
    pull(vault, shop, mine, "contact.email")
    for _ in range(3):
        pull(vault, shop, theirs, "work.employer")

    html = client.get("/access-log").get_data(as_text=True)
    filtered = client.get("/access-log?field=work.employer").get_data(as_text=True)

    assert len(rows(html)) == 2  # my pull and the opening of my vault
    assert label("work.employer") not in "".join(rows(html))
    assert rows(filtered) == []
    with vault.unit_of_work(write=False) as uow:
        their_seqs = [
            e.seq for e in uow.session.query(AccessEvent).filter(AccessEvent.customer_id == other)
        ]
    assert not set(their_seqs) & set(seqs(html))


def test_user_text_in_a_business_name_shows_as_text(
    client: FlaskClient, signed_in: Callable[..., uuid.UUID], vault: Vault
) -> None:
    payload = '"><img src=x onerror=alert(1)>'
    business = make_business(vault, name=payload)[0]
    me = signed_in(profile=PROFILE)
    agreement = make_active_agreement(vault, business, me, FIELDS)
    pull(vault, business, agreement, "contact.email")

    html = client.get("/access-log").get_data(as_text=True)

    assert "<img src=x" not in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html


def test_the_first_page_stays_fast_with_ten_thousand_entries(
    client: FlaskClient, signed_in: Callable[..., uuid.UUID], vault: Vault, shop: uuid.UUID
) -> None:
    me = signed_in(profile=PROFILE)
    agreement = make_active_agreement(vault, shop, me, FIELDS)
    now = vault.clock()
    event = {
        "at": now,
        "kind": "profile.read",
        "outcome": "allowed",
        "actor": "client:emc_test",
        "customer_id": me,
        "business_id": shop,
        "agreement_id": agreement,
        "purpose": "CustomerCare",
        "fields": ["contact.email"],
    }
    with vault.unit_of_work() as uow:
        uow.session.execute(insert(AccessEvent), [event] * 10_000)
        uow.commit()
    client.get("/access-log")  # warm up templates and caches

    started = time.perf_counter()
    html = client.get("/access-log?field=contact.phone").get_data(as_text=True)
    filtered_took = time.perf_counter() - started
    started = time.perf_counter()
    html = client.get("/access-log").get_data(as_text=True)
    took = time.perf_counter() - started

    assert len(rows(html)) == 50
    # Generous bounds: a page that read the whole log would take far longer on either backend.
    assert took < 1.0
    assert filtered_took < 2.0
