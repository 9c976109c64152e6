"""The requests inbox and the consent screen: what waits for an answer, and answering it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from broker.businesses.services import business_snapshot
from emanet.bootstrap import Runtime
from tests.conftest import make_customer
from tests.factories import make_active_agreement, make_business, make_request, terms_for
from tests.vault.web.conftest import csrf_token
from vault.agreements.models import Agreement
from vault.agreements.services import Context, request_agreement
from vault.receipts.models import ConsentReceipt
from vault.unit_of_work import Vault

SignIn = Callable[..., uuid.UUID]
ASKED = {"identity.given_name": "read", "contact.email": "read", "contact.phone": "read"}


def text_of(html: str) -> str:
    """Return a page's visible words (button captions included), tags removed, spaces collapsed."""
    html = re.sub(r'<input[^>]*type="submit"[^>]*value="([^"]*)"[^>]*>', r" \1 ", html)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def answer_links(html: str) -> list[str]:
    return [unescape(href) for href in re.findall(r'href="(/consent/[^"]+)"', html)]


def amend(
    vault: Vault, agreement_id: uuid.UUID, fields: dict[str, str], duration: str
) -> uuid.UUID:
    """Ask the customer of an active agreement to accept an amendment."""
    with vault.unit_of_work() as uow:
        previous = uow.session.get(Agreement, agreement_id)
        assert previous is not None
        amendment = request_agreement(
            uow,
            business=business_snapshot(uow, previous.business_id),
            terms=terms_for(fields, duration=duration),
            context=Context(actor=f"business:{previous.business_id}"),
            supersedes=previous,
        )
        uow.commit()
        return amendment.id


def test_the_inbox_needs_a_signed_in_customer(client: FlaskClient) -> None:
    answer = client.get("/requests")
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith("/login")


def test_the_inbox_lists_only_this_customers_pending_requests_newest_first(
    client: FlaskClient, runtime: Runtime, signed_in: SignIn
) -> None:
    vault = runtime.vault
    me = signed_in()
    someone_else = make_customer(vault)
    older, _ = make_business(vault, name="Köhnə Şəhər Antikvarları")
    newer, _ = make_business(vault, name="Bakı Xalçaları")
    connected, _ = make_business(vault, name="Artıq Bağlı Mağaza")
    theirs, _ = make_business(vault, name="Başqasının Dükanı")
    make_request(vault, older, ASKED, me)
    make_request(vault, newer, {"contact.email": "read"}, me, duration="P30D")
    make_active_agreement(vault, connected, me, {"contact.email": "read"})
    make_request(vault, theirs, ASKED, someone_else)
    make_request(vault, theirs, ASKED)  # not claimed by anyone yet

    page = client.get("/requests")
    html = page.get_data(as_text=True)
    words = text_of(html)

    assert page.status_code == 200
    assert words.index("Bakı Xalçaları") < words.index("Köhnə Şəhər Antikvarları")
    assert "Artıq Bağlı Mağaza" not in words
    assert "Başqasının Dükanı" not in words
    assert len(answer_links(html)) == 2
    # The business, the purpose in words, the fields by label, the term and the retention.
    assert "privacy@antiques.example" in words
    assert 'href="https://antiques.example/privacy"' in html
    assert "Customer care" in words and "CustomerCare" not in words
    assert "Call you when a piece you collect comes in" in words
    assert "Given name" in words and "Phone" in words and "identity.given_name" not in words
    assert "1 year" in words and "30 days" in words and "P1Y" not in words


def test_an_amendment_says_what_it_changes(
    client: FlaskClient, runtime: Runtime, signed_in: SignIn
) -> None:
    vault = runtime.vault
    me = signed_in()
    business, _ = make_business(vault)
    current = make_active_agreement(vault, business, me, {"identity.given_name": "read"})
    amend(vault, current, {"identity.given_name": "read", "contact.phone": "read"}, "P2Y")

    words = text_of(client.get("/requests").get_data(as_text=True))

    assert "A change to an agreement you have" in words
    assert "Also asks for: Phone" in words
    assert "A longer term: 1 year → 2 years" in words


def test_answering_from_the_inbox_grants_some_fields_and_the_connection_shows(
    client: FlaskClient, runtime: Runtime, signed_in: SignIn
) -> None:
    vault = runtime.vault
    me = signed_in()
    business, _ = make_business(vault)
    agreement_id = make_request(vault, business, ASKED, me)

    link = answer_links(client.get("/requests").get_data(as_text=True))[0]
    consent = client.get(link)
    html = consent.get_data(as_text=True)
    answer = client.post(
        link,
        data={
            "csrf_token": csrf_token(html),
            "next": parse_qs(urlsplit(link).query)["next"][0],
            "grant": "Share the ticked fields",
            "fields": ["identity.given_name", "contact.email"],
        },
    )

    assert consent.status_code == 200
    assert "Customer care" in text_of(html) and "1 year" in text_of(html)
    assert answer.status_code == 303
    back = client.get(answer.headers["Location"])
    back_words = text_of(back.get_data(as_text=True))
    assert "You now share 2 fields with Köhnə Şəhər Antikvarları." in back_words
    assert "No requests are waiting for your answer." in back_words
    connection = client.get(f"/connections/{agreement_id}")
    words = text_of(connection.get_data(as_text=True))
    assert "Active" in words
    assert "You shared some of the fields" in words  # the receipt of this decision
    with vault.unit_of_work(write=False) as uow:
        agreement = uow.session.get(Agreement, agreement_id)
        assert agreement is not None
        assert agreement.granted_fields == {"identity.given_name": "read", "contact.email": "read"}
    listing = text_of(client.get("/connections").get_data(as_text=True))
    assert "Given name, E-mail" in listing


def test_declining_shares_nothing_and_leaves_a_receipt(
    client: FlaskClient, runtime: Runtime, signed_in: SignIn
) -> None:
    vault = runtime.vault
    me = signed_in()
    business, _ = make_business(vault)
    agreement_id = make_request(vault, business, ASKED, me)
    page = client.get(f"/consent/{agreement_id}")

    answer = client.post(
        f"/consent/{agreement_id}",
        data={"csrf_token": csrf_token(page.get_data(as_text=True)), "decline": "Decline"},
    )

    # Without a return address the answer lands where its receipt is.
    assert answer.headers["Location"] == f"/connections/{agreement_id}"
    words = text_of(client.get(answer.headers["Location"]).get_data(as_text=True))
    assert "You declined Köhnə Şəhər Antikvarları's request. Nothing was shared." in words
    assert "Declined" in words and "You declined" in words
    with vault.unit_of_work(write=False) as uow:
        receipts = uow.session.scalars(select(ConsentReceipt.kind)).all()
    assert receipts == ["declined"]


def test_granting_nothing_is_refused_beside_the_fields_and_changes_nothing(
    client: FlaskClient, runtime: Runtime, signed_in: SignIn
) -> None:
    vault = runtime.vault
    me = signed_in()
    business, _ = make_business(vault)
    agreement_id = make_request(vault, business, ASKED, me)
    page = client.get(f"/consent/{agreement_id}")

    answer = client.post(
        f"/consent/{agreement_id}",
        data={"csrf_token": csrf_token(page.get_data(as_text=True)), "grant": "Share"},
    )

    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert 'id="fields-error"' in html and 'aria-describedby="fields-error"' in html
    assert " checked" not in html  # what the person sent (nothing ticked) is kept
    with vault.unit_of_work(write=False) as uow:
        agreement = uow.session.get(Agreement, agreement_id)
        assert agreement is not None and agreement.status == "requested"


def test_granting_takes_as_many_steps_as_revoking(
    client: FlaskClient, runtime: Runtime, signed_in: SignIn
) -> None:
    """Issue 4: granting never takes fewer steps than revoking (here: two each)."""
    vault = runtime.vault
    me = signed_in()
    business, _ = make_business(vault)
    make_request(vault, business, ASKED, me)
    other, _ = make_business(vault, name="Bakı Xalçaları")
    active = make_active_agreement(vault, other, me, {"contact.email": "read"})

    inbox = client.get("/requests").get_data(as_text=True)
    consent = client.get(answer_links(inbox)[0]).get_data(as_text=True)
    connections = client.get("/connections").get_data(as_text=True)
    revoke = client.get(f"/connections/{active}/revoke").get_data(as_text=True)

    grant_steps = [answer_links(inbox), re.findall(r'type="submit" value="Share', consent)]
    revoke_steps = [
        re.findall(rf'href="/connections/{active}/revoke"', connections),
        re.findall(r'type="submit" value="Yes, revoke"', revoke),
    ]
    assert all(grant_steps) and all(revoke_steps)
    assert len(grant_steps) == len(revoke_steps) == 2


def test_a_decision_notice_never_shows_another_customers_agreement(
    client: FlaskClient, runtime: Runtime, signed_in: SignIn
) -> None:
    vault = runtime.vault
    signed_in()
    business, _ = make_business(vault)
    theirs = make_active_agreement(vault, business, make_customer(vault), {"contact.email": "read"})

    words = text_of(client.get(f"/requests?decided={theirs}").get_data(as_text=True))
    nonsense = client.get("/requests?decided=not-a-uuid")

    assert "Köhnə Şəhər Antikvarları" not in words
    assert nonsense.status_code == 200


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_customers_request_is_not_found_on_the_consent_screen(
    client: FlaskClient, runtime: Runtime, signed_in: SignIn, method: str
) -> None:
    vault = runtime.vault
    signed_in()
    business, _ = make_business(vault)
    theirs = make_request(vault, business, ASKED, make_customer(vault))
    page = client.get("/requests").get_data(as_text=True)
    token = re.findall(r'name="csrf_token" value="([^"]+)"', page)[0]  # the sign-out form's

    answer = getattr(client, method)(
        f"/consent/{theirs}",
        data={"csrf_token": token, "grant": "Share", "fields": ["contact.email"]},
    )

    assert answer.status_code == 404
