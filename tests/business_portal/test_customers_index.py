"""The customer list's search index: keyed hashes of granted values only, kept fresh from the
outbox, searched by folded word prefixes; the list's SQL stays within a page."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from broker.gate import Caller
from business_portal.customers import services
from business_portal.customers.list_query import CustomerQuery
from business_portal.customers.models import (
    IndexedAgreement,
    ListedCustomer,
    SearchCursor,
    SearchSeenEvent,
    SearchTerm,
)
from business_portal.customers.search_index import (
    INDEX_ACTOR,
    LATE_CHECK_EVERY,
    LATE_COMMIT_WINDOW,
    refresh_all_search_indexes,
    refresh_search_index,
)
from business_portal.customers.search_words import fold, query_words, value_words
from business_portal.customers.services import list_customers
from schemas.field_catalogue import FIELD_CATALOGUE
from tests.business_portal.conftest import PortalBusiness, connect_customer
from vault.access_log.models import AccessEvent
from vault.agreements.services import Context, restrict_agreement, revoke_agreement
from vault.outbox.models import OutboxEvent
from vault.profile.services import set_field
from vault.unit_of_work import Vault

NAME_AND_MAIL = {"identity.given_name": "read", "contact.email": "read"}
CUSTOMER = Context(actor="customer")


def _search(vault: Vault, business: PortalBusiness, q: str, **filters: str) -> list[str]:
    caller = Caller(business.id, "staff:test")
    with vault.unit_of_work() as uow:
        page = list_customers(uow, caller, CustomerQuery(q=q, **filters))
    return [entry.subject for entry in page.entries]


def _refresh(vault: Vault, business_id: uuid.UUID) -> int:
    with vault.unit_of_work() as uow:
        return refresh_search_index(uow, business_id)


# --- words (no database) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("sehla", "Şəhla"), ("ŞƏHLA", "şəhla"), ("istanbul", "İstanbul"), ("ılık", "ILIK")],
)
def test_folding_makes_diacritics_case_and_turkish_i_meet(typed: str, stored: str) -> None:
    assert fold(typed) == fold(stored)


def test_a_value_gives_every_prefix_from_two_letters() -> None:
    words = value_words(FIELD_CATALOGUE["identity.given_name"], "Aysel")
    assert {"ay", "ays", "ayse", "aysel"} <= words
    assert "a" not in words


def test_an_email_gives_its_local_part_domain_and_whole_address() -> None:
    words = value_words(FIELD_CATALOGUE["contact.email"], "Gulnara.M@example.az")
    assert {"gulnara.m", "example.az", "gulnara.m@example.az", "gulnara", "example"} <= words


def test_a_phone_gives_its_digits_and_its_endings() -> None:
    words = value_words(FIELD_CATALOGUE["contact.phone"], "+994501234567")
    assert {"994501234567", "4567", "1234567", "501234567"} <= words
    assert query_words("+994 50 123 45 67") == ["994501234567"]
    assert query_words("050 123 45 67") == ["501234567"]


def test_a_typed_search_is_cut_into_folded_words() -> None:
    assert query_words("  Şəhla,  Məmmədova a ") == ["sehla", "memmedova"]
    assert query_words("aysel@") == ["aysel"]
    assert query_words("1990-04-21") == ["1990", "04", "21"]


# --- the index -----------------------------------------------------------------------------


def test_only_hashes_of_granted_fields_are_stored(vault: Vault, business: PortalBusiness) -> None:
    fields = {"identity.given_name": "read", "identity.family_name": "read"}
    connect_customer(
        vault,
        business.id,
        {"identity.given_name": "Aysel", "identity.family_name": "Quliyeva"},
        fields,
        granted={"identity.given_name": "read"},
    )
    assert _refresh(vault, business.id) == 1
    with vault.unit_of_work() as uow:
        stored = set(uow.session.scalars(select(SearchTerm.field_key)))
        hashes = list(uow.session.scalars(select(SearchTerm.term_hash)))
    assert stored == {"identity.given_name"}
    assert hashes and all(len(h) == 16 for h in hashes)
    assert _search(vault, business, "quliyeva") == []


def test_search_finds_by_prefix_whatever_the_case_and_diacritics(
    vault: Vault, business: PortalBusiness
) -> None:
    sehla = connect_customer(
        vault,
        business.id,
        {"identity.given_name": "Şəhla", "contact.email": "shahla@example.az"},
        NAME_AND_MAIL,
    )
    connect_customer(vault, business.id, {"identity.given_name": "Aysel"}, NAME_AND_MAIL)
    for typed in ("sehla", "ŞƏH", "Seh", "shahla@example.az", "@example.az", "SEHLA example"):
        assert _search(vault, business, typed) == [sehla.subject], typed
    assert _search(vault, business, "sehla aysel") == []


def test_each_index_read_goes_through_the_gate_and_is_logged(
    vault: Vault, business: PortalBusiness
) -> None:
    linked = connect_customer(vault, business.id, {"identity.given_name": "Aysel"}, NAME_AND_MAIL)
    _refresh(vault, business.id)
    with vault.unit_of_work() as uow:
        reads = uow.session.scalars(
            select(AccessEvent).where(
                AccessEvent.agreement_id == linked.agreement_id,
                AccessEvent.actor == INDEX_ACTOR,
            )
        ).all()
    assert [(r.kind, r.outcome) for r in reads] == [("profile.read", "allowed")]


def test_a_profile_update_after_indexing_is_found_at_the_next_search(
    vault: Vault, business: PortalBusiness
) -> None:
    linked = connect_customer(vault, business.id, {"identity.given_name": "Aysel"}, NAME_AND_MAIL)
    assert _search(vault, business, "aysel") == [linked.subject]
    with vault.unit_of_work() as uow:
        set_field(uow, linked.customer_id, "identity.given_name", "Leyla")
    assert _search(vault, business, "leyla") == [linked.subject]
    assert _search(vault, business, "aysel") == []


def test_a_revoked_customer_is_gone_at_once_and_their_terms_on_refresh(
    vault: Vault, business: PortalBusiness
) -> None:
    linked = connect_customer(vault, business.id, {"identity.given_name": "Aysel"}, NAME_AND_MAIL)
    assert _search(vault, business, "") == [linked.subject]
    with vault.unit_of_work() as uow:
        revoke_agreement(uow, linked.agreement_id, linked.customer_id, CUSTOMER)
    with vault.unit_of_work() as uow:  # before any refresh: the join leaves them out
        page = list_customers(uow, Caller(business.id, "staff:x"), CustomerQuery(), refresh_limit=0)
    assert page.entries == []
    _refresh(vault, business.id)
    with vault.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(SearchTerm)) == 0
        assert uow.session.scalar(select(func.count()).select_from(IndexedAgreement)) == 0
        assert uow.session.scalar(select(func.count()).select_from(ListedCustomer)) == 0


def test_a_paused_customer_is_listed_but_not_found_and_not_read(
    vault: Vault, business: PortalBusiness
) -> None:
    linked = connect_customer(vault, business.id, {"identity.given_name": "Aysel"}, NAME_AND_MAIL)
    with vault.unit_of_work() as uow:
        restrict_agreement(uow, linked.agreement_id, linked.customer_id, CUSTOMER)
    caller = Caller(business.id, "staff:x")
    with vault.unit_of_work() as uow:
        page = list_customers(uow, caller, CustomerQuery())
    assert [(e.subject, e.status, e.values) for e in page.entries] == [
        (linked.subject, "paused", {})
    ]
    assert _search(vault, business, "aysel") == []


def test_an_event_committed_late_below_the_cursor_is_still_indexed(
    vault: Vault, business: PortalBusiness
) -> None:
    first = connect_customer(vault, business.id, {"identity.given_name": "Aysel"}, NAME_AND_MAIL)
    late = connect_customer(vault, business.id, {"identity.given_name": "Leyla"}, NAME_AND_MAIL)
    with vault.unit_of_work() as uow:
        # Pretend the second grant's event was still uncommitted when the cursor passed it.
        late_seq = uow.session.scalar(
            select(OutboxEvent.seq).where(OutboxEvent.agreement_id == late.agreement_id)
        )
        hidden = uow.session.scalar(select(func.max(OutboxEvent.seq))) + 1000
        uow.session.execute(
            update(OutboxEvent).where(OutboxEvent.seq == late_seq).values(business_id=uuid.uuid4())
        )
        uow.commit()
    assert _refresh(vault, business.id) == 1
    with vault.unit_of_work() as uow:
        uow.session.execute(update(SearchCursor).values(last_seq=hidden, late_checked_at=None))
        uow.session.execute(
            update(OutboxEvent).where(OutboxEvent.seq == late_seq).values(business_id=business.id)
        )
        uow.commit()
    assert _search(vault, business, "leyla") == [late.subject]
    assert _search(vault, business, "aysel") == [first.subject]


def test_the_floor_rises_and_seen_marks_are_pruned_after_the_window(
    vault: Vault, business: PortalBusiness, monkeypatch: pytest.MonkeyPatch
) -> None:
    connect_customer(vault, business.id, {"identity.given_name": "Aysel"}, NAME_AND_MAIL)
    _refresh(vault, business.id)
    start = vault.clock()
    monkeypatch.setattr(vault, "clock", lambda: start + LATE_COMMIT_WINDOW + LATE_CHECK_EVERY)
    _refresh(vault, business.id)
    with vault.unit_of_work() as uow:
        cursor = uow.session.get(SearchCursor, business.id)
        assert cursor is not None and cursor.floor_seq == cursor.last_seq > 0
        assert uow.session.scalar(select(func.count()).select_from(SearchSeenEvent)) == 0


def test_an_agreement_that_ran_out_leaves_the_list_rows(
    vault: Vault, business: PortalBusiness, monkeypatch: pytest.MonkeyPatch
) -> None:
    connect_customer(vault, business.id, {"identity.given_name": "Aysel"}, NAME_AND_MAIL)
    assert len(_search(vault, business, "")) == 1
    start = vault.clock()
    monkeypatch.setattr(vault, "clock", lambda: start + timedelta(days=400))
    assert _search(vault, business, "") == []
    with vault.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(ListedCustomer)) == 0


def test_the_worker_pass_indexes_every_business(
    vault: Vault, business: PortalBusiness, other_business: PortalBusiness
) -> None:
    connect_customer(vault, business.id, {"identity.given_name": "Aysel"}, NAME_AND_MAIL)
    connect_customer(vault, other_business.id, {"identity.given_name": "Aysel"}, NAME_AND_MAIL)
    assert refresh_all_search_indexes(vault) == 2
    assert refresh_all_search_indexes(vault) == 0


def test_another_business_never_finds_or_lists_these_customers(
    vault: Vault, business: PortalBusiness, other_business: PortalBusiness
) -> None:
    mine = connect_customer(vault, business.id, {"identity.given_name": "Aysel"}, NAME_AND_MAIL)
    assert _search(vault, other_business, "aysel") == []
    assert _search(vault, other_business, "") == []
    assert _search(vault, business, "aysel") == [mine.subject]


def test_a_search_matching_very_many_walks_the_list_in_order(
    vault: Vault, business: PortalBusiness, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = [
        connect_customer(vault, business.id, {"identity.given_name": "Aysel"}, NAME_AND_MAIL)
        for _ in range(3)
    ]
    connect_customer(vault, business.id, {"identity.given_name": "Leyla"}, NAME_AND_MAIL)
    monkeypatch.setattr(services, "SEARCH_ID_LIMIT", 1)
    assert _search(vault, business, "ays", sort="id") == sorted(c.subject for c in made)
