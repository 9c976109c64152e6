"""Connections: what each business sees, narrowing, pausing, revoking, history and receipts."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import NamedTuple

import pytest
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import func, select, update

from broker.gate import AccessDenied, Caller, read_profile
from emanet.bootstrap import Runtime
from tests.conftest import make_customer
from tests.factories import make_active_agreement, make_business, make_request
from tests.vault.web.conftest import csrf_token
from tests.vault.web.test_requests import text_of
from vault.agreements.models import Agreement, AgreementEvent
from vault.agreements.services import Context, revoke_agreement
from vault.receipts.models import ConsentReceipt
from vault.unit_of_work import Vault

# joserfc warns that RFC 9864 deprecates the polymorphic "EdDSA" name (see test_receipts.py).
pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated via RFC 9864")

SignIn = Callable[..., uuid.UUID]
PROFILE = {
    "identity.given_name": "Aysel",
    "contact.email": "aysel@example.az",
    "contact.phone": "+994 55 765 43 21",
}
GRANTED = {"identity.given_name": "read", "contact.email": "read", "contact.phone": "read"}


def gate_read(vault: Vault, business_id: uuid.UUID, agreement_id: uuid.UUID) -> set[str]:
    """Read the profile through the gate, as the business would; return the field names."""
    with vault.unit_of_work() as uow:
        granted = read_profile(uow, Caller(business_id, "client:test"), agreement_id)
    return set(granted.fields)


def refused(vault: Vault, business_id: uuid.UUID, agreement_id: uuid.UUID) -> str:
    """Return why the gate refuses the business's read."""
    with pytest.raises(AccessDenied) as denied:
        gate_read(vault, business_id, agreement_id)
    return denied.value.reason


def status_of(vault: Vault, agreement_id: uuid.UUID) -> tuple[str, bool, dict[str, str]]:
    with vault.unit_of_work(write=False) as uow:
        agreement = uow.session.get(Agreement, agreement_id)
        assert agreement is not None
        return agreement.status, agreement.restricted, dict(agreement.granted_fields)


def token(client: FlaskClient, agreement_id: uuid.UUID) -> str:
    return csrf_token(client.get(f"/connections/{agreement_id}").get_data(as_text=True))


class Connected(NamedTuple):
    customer: uuid.UUID
    business: uuid.UUID
    agreement: uuid.UUID


@pytest.fixture
def connected(runtime: Runtime, signed_in: SignIn) -> Connected:
    """A signed-in customer sharing three fields with a business."""
    me = signed_in(profile=PROFILE)
    business, _ = make_business(runtime.vault)
    return Connected(me, business, make_active_agreement(runtime.vault, business, me, GRANTED))


def test_the_list_shows_what_each_business_sees_why_and_when_it_last_read(
    client: FlaskClient, runtime: Runtime, connected: Connected
) -> None:
    vault = runtime.vault
    _, business, agreement_id = connected
    waiting, _ = make_business(vault, name="Hələ Gözləyən Mağaza")
    make_request(vault, waiting, {"contact.email": "read"}, connected.customer)
    html = client.get("/connections").get_data(as_text=True)
    before = text_of(html)

    gate_read(vault, business, agreement_id)
    after = text_of(client.get("/connections").get_data(as_text=True))

    assert "Köhnə Şəhər Antikvarları" in before and "Hələ Gözləyən Mağaza" not in before
    assert f'id="agreement-{agreement_id}"' in html  # where "my data" links to
    assert "Active" in before
    assert "Given name, E-mail, Phone" in before
    assert "Customer care: Call you when a piece you collect comes in" in before
    assert "Since" in before and "Until" in before
    assert "Last read Never" in before
    assert "Last read Never" not in after


def test_narrowing_takes_fields_out_and_the_gate_follows(
    client: FlaskClient, runtime: Runtime, connected: Connected
) -> None:
    vault = runtime.vault
    _, business, agreement_id = connected

    answer = client.post(
        f"/connections/{agreement_id}/narrow",
        data={"csrf_token": token(client, agreement_id), "fields": ["identity.given_name"]},
    )

    assert answer.status_code == 303
    assert status_of(vault, agreement_id) == ("active", False, {"identity.given_name": "read"})
    assert gate_read(vault, business, agreement_id) == {"identity.given_name"}
    words = text_of(client.get(answer.headers["Location"]).get_data(as_text=True))
    assert "now sees only the fields you kept" in words
    assert "You took fields out" in words and "Fields taken out" in words


def test_narrowing_with_nothing_unticked_says_so_beside_the_fields(
    client: FlaskClient, runtime: Runtime, connected: Connected
) -> None:
    vault = runtime.vault
    _, _, agreement_id = connected

    answer = client.post(
        f"/connections/{agreement_id}/narrow",
        data={"csrf_token": token(client, agreement_id), "fields": list(GRANTED)},
    )

    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert 'id="narrow-error"' in html and 'aria-describedby="narrow-error"' in html
    with vault.unit_of_work(write=False) as uow:
        kinds = uow.session.scalars(
            select(AgreementEvent.kind).where(AgreementEvent.agreement_id == agreement_id)
        ).all()
    assert kinds == ["requested", "granted"]


def test_unticking_every_field_asks_before_it_revokes(
    client: FlaskClient, runtime: Runtime, connected: Connected
) -> None:
    vault = runtime.vault
    _, business, agreement_id = connected

    asked = client.post(
        f"/connections/{agreement_id}/narrow", data={"csrf_token": token(client, agreement_id)}
    )

    html = asked.get_data(as_text=True)
    assert asked.status_code == 200
    assert "You unticked every field" in html
    assert status_of(vault, agreement_id)[0] == "active"
    confirmed = client.post(
        f"/connections/{agreement_id}/revoke", data={"csrf_token": csrf_token(html)}
    )
    assert confirmed.status_code == 303
    assert status_of(vault, agreement_id)[0] == "revoked"
    assert refused(vault, business, agreement_id) == "revoked"


def test_pausing_refuses_reads_until_resumed(
    client: FlaskClient, runtime: Runtime, connected: Connected
) -> None:
    vault = runtime.vault
    _, business, agreement_id = connected

    paused = client.post(
        f"/connections/{agreement_id}/pause", data={"csrf_token": token(client, agreement_id)}
    )

    assert paused.status_code == 303
    assert status_of(vault, agreement_id)[:2] == ("active", True)
    assert refused(vault, business, agreement_id) == "restricted"
    page = text_of(client.get(f"/connections/{agreement_id}").get_data(as_text=True))
    assert "Paused" in page and "Resume sharing" in page and "Pause sharing" not in page

    resumed = client.post(
        f"/connections/{agreement_id}/resume", data={"csrf_token": token(client, agreement_id)}
    )

    assert resumed.status_code == 303
    assert status_of(vault, agreement_id)[:2] == ("active", False)
    assert gate_read(vault, business, agreement_id) == set(GRANTED)
    history = text_of(client.get(f"/connections/{agreement_id}").get_data(as_text=True))
    assert "Sharing paused" in history and "Sharing resumed" in history


def test_revoking_is_one_click_and_a_confirmation(
    client: FlaskClient, runtime: Runtime, connected: Connected
) -> None:
    vault = runtime.vault
    _, business, agreement_id = connected
    listing = client.get("/connections").get_data(as_text=True)
    link = f"/connections/{agreement_id}/revoke"
    assert f'href="{link}"' in listing

    confirm = client.get(link)
    assert status_of(vault, agreement_id)[0] == "active"  # asking changes nothing
    answer = client.post(link, data={"csrf_token": csrf_token(confirm.get_data(as_text=True))})

    assert answer.status_code == 303
    assert status_of(vault, agreement_id)[0] == "revoked"
    assert refused(vault, business, agreement_id) == "revoked"
    html = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert html.count('role="status"') == 1
    words = text_of(html)
    assert "Revoked. Köhnə Şəhər Antikvarları can no longer read your data." in words
    assert "You revoked" in words  # its receipt
    assert "Pause sharing" not in words and "Stop sharing the unticked fields" not in words


def test_the_history_names_actors_in_words_never_by_id(
    client: FlaskClient, runtime: Runtime, connected: Connected
) -> None:
    _, business, agreement_id = connected

    html = client.get(f"/connections/{agreement_id}").get_data(as_text=True)

    words = text_of(html)
    assert "Asked for your data" in words and "Sharing started" in words
    assert "You" in words
    assert str(business) not in html and "business:" not in html and "customer:" not in html
    assert "203.0.113.7" not in html


def test_receipts_download_as_a_jws_that_verifies_with_the_published_keys(
    client: FlaskClient, runtime: Runtime, connected: Connected
) -> None:
    vault = runtime.vault
    _, _, agreement_id = connected
    page = client.get(f"/connections/{agreement_id}").get_data(as_text=True)
    links = re.findall(rf'href="(/connections/{agreement_id}/receipts/[0-9a-f-]+)\.jws"', page)
    assert len(links) == 1

    download = client.get(links[0] + ".jws")

    receipt_id = links[0].rsplit("/", 1)[1]
    assert download.status_code == 200
    assert download.mimetype == "application/jose"
    assert f'filename="receipt-{receipt_id}.jws"' in download.headers["Content-Disposition"]
    jwks = KeySet.import_key_set(vault.provider.public_jwks())
    claims = jwt.decode(download.get_data(as_text=True), jwks, ["EdDSA"]).claims
    assert claims["jti"] == receipt_id
    assert claims["emanet:granted_fields"] == GRANTED
    readable = text_of(client.get(links[0]).get_data(as_text=True))
    assert "Signature checked" in readable
    assert "You shared every field asked for" in readable
    assert "Given name" in readable and "Customer care" in readable


def test_a_receipt_that_was_altered_is_not_shown_as_checked(
    client: FlaskClient, runtime: Runtime, connected: Connected
) -> None:
    vault = runtime.vault
    _, _, agreement_id = connected
    with vault.unit_of_work() as uow:
        receipt = uow.session.scalars(select(ConsentReceipt)).one()
        head, payload, signature = receipt.jws.split(".")
        forged = f"{head}.{payload[:-4]}AAAA.{signature}"
        uow.session.execute(
            update(ConsentReceipt).where(ConsentReceipt.id == receipt.id).values(jws=forged)
        )
        uow.commit()
        receipt_id = receipt.id

    words = text_of(
        client.get(f"/connections/{agreement_id}/receipts/{receipt_id}").get_data(as_text=True)
    )

    assert "Signature checked" not in words
    assert "The signature does not check out" in words


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/connections/{id}"),
        ("post", "/connections/{id}/narrow"),
        ("post", "/connections/{id}/pause"),
        ("post", "/connections/{id}/resume"),
        ("get", "/connections/{id}/revoke"),
        ("post", "/connections/{id}/revoke"),
        ("get", "/connections/{id}/receipts/{receipt}"),
        ("get", "/connections/{id}/receipts/{receipt}.jws"),
    ],
)
def test_another_customers_connection_is_not_found(
    client: FlaskClient, runtime: Runtime, signed_in: SignIn, method: str, path: str
) -> None:
    vault = runtime.vault
    signed_in()
    business, _ = make_business(vault)
    theirs = make_active_agreement(vault, business, make_customer(vault), GRANTED)
    with vault.unit_of_work(write=False) as uow:
        receipt = uow.session.scalars(select(ConsentReceipt.id)).one()
    page = client.get("/connections").get_data(as_text=True)
    form_token = re.findall(r'name="csrf_token" value="([^"]+)"', page)[0]

    answer = getattr(client, method)(
        path.format(id=theirs, receipt=receipt), data={"csrf_token": form_token, "fields": []}
    )

    assert answer.status_code == 404
    assert status_of(vault, theirs) == ("active", False, GRANTED)


def test_a_pending_request_is_not_a_connection(
    client: FlaskClient, runtime: Runtime, signed_in: SignIn
) -> None:
    vault = runtime.vault
    me = signed_in()
    business, _ = make_business(vault)
    pending = make_request(vault, business, GRANTED, me)

    assert client.get(f"/connections/{pending}").status_code == 404
    assert client.get(f"/connections/{pending}/revoke").status_code == 404


def test_a_receipt_of_one_agreement_is_not_found_under_another(
    client: FlaskClient, runtime: Runtime, connected: Connected
) -> None:
    vault = runtime.vault
    customer, business, first = connected
    with vault.unit_of_work(write=False) as uow:
        count = uow.session.scalar(select(func.count()).select_from(ConsentReceipt))
    second = make_active_agreement(vault, business, customer, {"contact.email": "read"})
    with vault.unit_of_work(write=False) as uow:
        of_second = uow.session.scalars(
            select(ConsentReceipt.id).where(ConsentReceipt.agreement_id == second)
        ).one()

    assert count == 1
    assert client.get(f"/connections/{first}/receipts/{of_second}").status_code == 404
    assert client.get(f"/connections/{second}/receipts/{of_second}").status_code == 200


@pytest.mark.parametrize("action", ["narrow", "pause", "resume", "revoke"])
def test_an_ended_agreement_cannot_change(
    client: FlaskClient, runtime: Runtime, connected: Connected, action: str
) -> None:
    vault = runtime.vault
    _, _, agreement_id = connected
    form_token = token(client, agreement_id)
    with vault.unit_of_work() as uow:
        revoke_agreement(uow, agreement_id, connected.customer, Context(actor="customer"))

    answer = client.post(
        f"/connections/{agreement_id}/{action}",
        data={"csrf_token": form_token, "fields": ["contact.email"]},
    )

    assert answer.status_code == 303
    words = text_of(client.get(answer.headers["Location"]).get_data(as_text=True))
    assert "This agreement has already ended, so it cannot change." in words
    assert status_of(vault, agreement_id) == ("revoked", False, GRANTED)
