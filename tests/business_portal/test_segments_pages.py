"""The segment pages: counts, members and CSV of customers connected now only, per business;
recomputed by owners and agents only."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.business_portal.conftest import PortalBusiness, csrf_token
from tests.business_portal.test_segments_support import (
    COUNTS,
    CUSTOMER,
    Shop,
    counts_on,
    read_csv,
    recompute,
    scores,
    shop,
)
from vault.access_log.models import AccessEvent
from vault.agreements.services import revoke_agreement
from vault.unit_of_work import Vault

__all__ = ["shop"]  # the fixture, used by name


def test_the_page_counts_every_segment_after_a_recompute(
    staff_client: Callable[..., FlaskClient], business: PortalBusiness, shop: Shop
) -> None:
    client = staff_client("agent")
    before = client.get("/portal/segments")
    assert before.status_code == 200
    assert "Not computed yet" in before.text
    assert counts_on(before.text) == dict.fromkeys(COUNTS, 0)
    recompute(client)
    page = client.get("/portal/segments")
    assert "Scored 8 customers." in page.text
    assert "Computed on" in page.text
    assert counts_on(page.text) == COUNTS
    assert "portal-segments.css" in page.text
    assert page.text.count("<h1") == 1


def test_the_member_list_shows_scores_and_links_by_pairwise_id(
    staff_client: Callable[..., FlaskClient], business: PortalBusiness, shop: Shop
) -> None:
    client = recompute(staff_client("owner"))
    page = client.get("/portal/segments/champions")
    assert page.status_code == 200
    aysel, babak = shop.customers["Aysel"], shop.customers["Babək"]
    assert f'href="/portal/customers/{aysel.subject}"' in page.text
    assert f'href="/portal/customers/{babak.subject}"' in page.text
    for name in ("Ceyhun", "Dilarə", "Həsən"):
        assert shop.customers[name].subject not in page.text
    assert "600.00" in page.text and "AZN" in page.text
    assert str(aysel.customer_id) not in page.text
    assert "Aysel" not in page.text  # no personal data on the member list
    lost = client.get("/portal/segments/lost")
    assert shop.customers["Gülnar"].subject in lost.text
    assert shop.customers["Həsən"].subject in lost.text
    empty = client.get("/portal/segments/potential_loyalist")
    assert empty.status_code == 200
    assert "No customer connected now is in this segment." in empty.text


def test_the_csv_holds_pairwise_ids_and_granted_fields_only(
    vault: Vault, staff_client: Callable[..., FlaskClient], business: PortalBusiness, shop: Shop
) -> None:
    client = recompute(staff_client("agent"))
    viewer = staff_client("viewer")  # reading and exporting is for every role
    answer = viewer.get("/portal/segments/lost.csv")
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    assert answer.headers["Cache-Control"] == "no-store"
    rows = read_csv(answer.text)
    assert list(rows[0]) == ["customer", "identity.given_name", "contact.email"]
    by_subject = {row["customer"]: row for row in rows}
    assert set(by_subject) == {shop.customers["Gülnar"].subject, shop.customers["Həsən"].subject}
    assert by_subject[shop.customers["Gülnar"].subject]["identity.given_name"] == "Gülnar"
    assert by_subject[shop.customers["Həsən"].subject]["identity.given_name"] == "'=HYPERLINK(1)"
    for phone in shop.phones.values():
        assert phone not in answer.text
    assert "9999" not in answer.text
    with vault.unit_of_work(write=False) as uow:
        logged = uow.session.scalar(
            select(func.count()).where(
                AccessEvent.kind == "profile.read",
                AccessEvent.actor == f"staff:{business.staff_id('viewer')}",
            )
        )
    assert logged == 2  # the gate logged each customer's read
    assert client.get("/portal/segments/champions.csv").status_code == 200


def test_a_revoked_customer_is_gone_at_the_next_load(
    vault: Vault, staff_client: Callable[..., FlaskClient], business: PortalBusiness, shop: Shop
) -> None:
    client = recompute(staff_client("owner"))
    aysel = shop.customers["Aysel"]
    with vault.unit_of_work() as uow:
        revoke_agreement(uow, aysel.agreement_id, aysel.customer_id, CUSTOMER)
    # No recompute in between: the pages ask who is connected at every load.
    page = client.get("/portal/segments")
    assert counts_on(page.text) == {**COUNTS, "champions": 1}
    members = client.get("/portal/segments/champions")
    assert aysel.subject not in members.text
    assert shop.customers["Babək"].subject in members.text
    exported = client.get("/portal/segments/champions.csv")
    assert aysel.subject not in exported.text
    assert "Aysel" not in exported.text
    assert [row["customer"] for row in read_csv(exported.text)] == [shop.customers["Babək"].subject]


def test_another_business_sees_none_of_these_customers(
    staff_client: Callable[..., FlaskClient],
    business: PortalBusiness,
    other_business: PortalBusiness,
    shop: Shop,
) -> None:
    recompute(staff_client("owner"))
    stranger = staff_client("owner", of=other_business)
    page = stranger.get("/portal/segments")
    assert counts_on(page.text) == dict.fromkeys(COUNTS, 0)
    for code in COUNTS:
        for path in (f"/portal/segments/{code}", f"/portal/segments/{code}.csv"):
            answer = stranger.get(path)
            assert answer.status_code == 200
            for connected in shop.customers.values():
                assert connected.subject not in answer.text
    # The stranger's recompute leaves this business's scores alone.
    recompute(stranger)
    page = staff_client("viewer").get("/portal/segments")
    assert counts_on(page.text) == COUNTS


@pytest.mark.parametrize("role", ["viewer", "compliance"])
def test_only_owners_and_agents_recompute(
    vault: Vault,
    staff_client: Callable[..., FlaskClient],
    business: PortalBusiness,
    shop: Shop,
    role: str,
) -> None:
    client = staff_client(role)
    page = client.get("/portal/segments")
    assert page.status_code == 200
    assert "Recompute now" not in page.text
    # The sign-out form gives this session's token: the refusal is the role's, not CSRF's.
    answer = client.post("/portal/segments", data={"csrf_token": csrf_token(page.text)})
    assert answer.status_code == 403
    assert scores(vault, business.id) == {}


def test_a_recompute_without_its_csrf_token_changes_nothing(
    vault: Vault, staff_client: Callable[..., FlaskClient], business: PortalBusiness, shop: Shop
) -> None:
    answer = staff_client("owner").post("/portal/segments")
    assert answer.status_code == 400
    assert scores(vault, business.id) == {}


@pytest.mark.parametrize(
    "path", ["/portal/segments/vip", "/portal/segments/vip.csv", "/portal/segments/Champions"]
)
def test_an_unknown_segment_is_not_found(
    staff_client: Callable[..., FlaskClient], business: PortalBusiness, path: str
) -> None:
    assert staff_client("owner").get(path).status_code == 404


@pytest.mark.parametrize("page", ["0", "-3", "x", "99999999999999999999", "2"])
def test_any_page_number_answers(
    staff_client: Callable[..., FlaskClient], business: PortalBusiness, shop: Shop, page: str
) -> None:
    client = recompute(staff_client("owner"))
    answer = client.get(f"/portal/segments/lost?page={page}")
    assert answer.status_code == 200
    assert shop.customers["Gülnar"].subject in answer.text


@pytest.mark.parametrize(
    "path", ["/portal/segments", "/portal/segments/lost", "/portal/segments/lost.csv"]
)
def test_signed_out_visitors_are_sent_to_sign_in(
    client: FlaskClient, business: PortalBusiness, path: str
) -> None:
    answer = client.get(path)
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith("/portal/login")


def test_a_signed_out_recompute_is_sent_to_sign_in_and_changes_nothing(
    vault: Vault, client: FlaskClient, business: PortalBusiness, shop: Shop
) -> None:
    token = csrf_token(client.get("/portal/login").text)
    answer = client.post("/portal/segments", data={"csrf_token": token})
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith("/portal/login")
    assert scores(vault, business.id) == {}
