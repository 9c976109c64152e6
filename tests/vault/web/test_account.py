"""The account pages: sign up, sign in and out, password change, language, delete my account."""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jws
from joserfc.jwk import KeySet
from sqlalchemy import select

from emanet.bootstrap import Runtime
from tests.conftest import TEST_PASSWORD
from tests.factories import make_active_agreement, make_business
from vault.accounts.models import Customer
from vault.keys.models import CustomerKey
from vault.outbox.models import OutboxEvent
from vault.profile.models import ProfileField

pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated via RFC 9864")

EMAIL = "aysel@example.az"
NEW_PASSWORD = "a brand new and long password"
TOKEN = re.compile(r'name="(?:[\w]+-)?csrf_token" type="hidden" value="([^"]+)"')


def token_of(client: FlaskClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    found = TOKEN.search(page.get_data(as_text=True))
    assert found, "no CSRF token on " + path
    return found.group(1)


def post(client: FlaskClient, path: str, data: dict[str, str], prefix: str = "", page: str = ""):
    """Post a form of a page with that page's CSRF token (under the form's prefix)."""
    token = token_of(client, page or path)
    name = f"{prefix}-csrf_token" if prefix else "csrf_token"
    fields = {f"{prefix}-{k}" if prefix else k: v for k, v in data.items()}
    return client.post(path, data={name: token, **fields})


def log_in(client: FlaskClient, email: str = EMAIL, password: str = TEST_PASSWORD):
    return post(client, "/login", {"email": email, "password": password})


def is_signed_in(client: FlaskClient) -> bool:
    answer = client.get("/account")
    if answer.status_code == 303:
        assert answer.headers["Location"].startswith("/login")
        return False
    assert answer.status_code == 200
    return True


# -- sign up, sign in, sign out -----------------------------------------------------------------


def test_sign_up_opens_a_vault_and_signs_in(client: FlaskClient, runtime: Runtime) -> None:
    answer = post(
        client, "/signup?lang=tr", {"email": "Nigar@Example.az", "password": TEST_PASSWORD}
    )
    assert answer.status_code == 303
    page = client.get("/account").get_data(as_text=True)
    assert "nigar@example.az" in page  # the decrypted login e-mail
    with runtime.vault.unit_of_work(write=False) as uow:
        locales = list(uow.session.scalars(select(Customer.locale)))
    assert locales == ["tr"]  # the language the sign-up page was shown in


def test_sign_up_keeps_the_input_and_says_what_is_wrong(client: FlaskClient) -> None:
    answer = post(client, "/signup", {"email": "nigar@example.az", "password": "short"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "at least 12 characters" in page and 'value="nigar@example.az"' in page
    assert not is_signed_in(client)


def test_sign_in_and_sign_out(client: FlaskClient, runtime: Runtime) -> None:
    from tests.conftest import make_customer

    make_customer(runtime.vault, email=EMAIL)
    assert not is_signed_in(client)
    answer = post(client, "/login?next=/account", {"email": EMAIL, "password": TEST_PASSWORD})
    assert answer.status_code == 303 and answer.headers["Location"] == "/account"
    assert is_signed_in(client)
    assert post(client, "/logout", {}, page="/account").status_code == 303
    assert not is_signed_in(client)


@pytest.mark.parametrize("email", [EMAIL, "nobody@example.az"])
def test_a_wrong_password_or_unknown_e_mail_gets_the_same_answer(
    client: FlaskClient, runtime: Runtime, email: str
) -> None:
    from tests.conftest import make_customer

    make_customer(runtime.vault, email=EMAIL)
    answer = log_in(client, email, "not the right password")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "The e-mail address or the password is not right." in page
    assert 'aria-describedby="password-help"' in page
    assert not is_signed_in(client)


def test_sign_in_refuses_a_next_address_on_another_site(
    client: FlaskClient, runtime: Runtime
) -> None:
    from tests.conftest import make_customer

    make_customer(runtime.vault, email=EMAIL)
    token = token_of(client, "/login")
    answer = client.post(
        "/login",
        data={
            "email": EMAIL,
            "password": TEST_PASSWORD,
            "next": "//evil.example/",
            "csrf_token": token,
        },
    )
    assert answer.status_code == 303 and answer.headers["Location"] == "/"


def test_the_account_page_needs_a_customer(client: FlaskClient) -> None:
    for path in ("/account", "/account/delete", "/account/two-factor"):
        answer = client.get(path)
        assert answer.status_code == 303 and answer.headers["Location"].startswith("/login?next=")
    for path in ("/account/language", "/account/password", "/account/two-factor/off"):
        assert client.post(path).status_code in (303, 400)


# -- password change ------------------------------------------------------------------------------


def change_password(client: FlaskClient, current: str, new: str, repeat: str | None = None):
    data = {"current": current, "new": new, "repeat": new if repeat is None else repeat}
    return post(client, "/account/password", data, prefix="password", page="/account")


def test_a_password_change_ends_every_older_session(
    app: Flask, client: FlaskClient, signed_in: Callable[..., uuid.UUID]
) -> None:
    signed_in(EMAIL)
    other = app.test_client()
    assert log_in(other).status_code == 303 and is_signed_in(other)

    answer = change_password(client, TEST_PASSWORD, NEW_PASSWORD)
    assert answer.status_code == 303
    assert is_signed_in(client)  # the session that made the change goes on
    answer = other.get("/account")
    assert answer.status_code == 303 and answer.headers["Location"] == "/login?next=/account"
    assert "Your password was changed" in other.get("/login").get_data(as_text=True)
    assert not is_signed_in(other)  # and it stays out

    fresh = app.test_client()
    assert log_in(fresh).status_code == 200  # the old password no longer opens the vault
    assert log_in(fresh, password=NEW_PASSWORD).status_code == 303


@pytest.mark.parametrize(
    ("current", "new", "repeat", "message"),
    [
        ("not my password at all", NEW_PASSWORD, None, "This is not your current password."),
        (TEST_PASSWORD, "short", None, "at least 12 characters"),
        (
            TEST_PASSWORD,
            NEW_PASSWORD,
            NEW_PASSWORD + "!",
            "The two new passwords are not the same.",
        ),
    ],
)
def test_a_refused_password_change_changes_nothing(
    app: Flask,
    client: FlaskClient,
    signed_in: Callable[..., uuid.UUID],
    current: str,
    new: str,
    repeat: str | None,
    message: str,
) -> None:
    signed_in(EMAIL)
    other = app.test_client()
    log_in(other)
    answer = change_password(client, current, new, repeat)
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert message in page
    assert re.search(r'aria-describedby="password-(current|new|repeat)-help"', page)
    assert is_signed_in(other)
    assert log_in(app.test_client()).status_code == 303  # the old password still works


# -- language -------------------------------------------------------------------------------------


def page_language(client: FlaskClient, path: str = "/account") -> str:
    found = re.search(r'<html lang="(\w+)"', client.get(path).get_data(as_text=True))
    assert found
    return found.group(1)


def test_the_language_choice_is_kept_with_the_account(
    app: Flask, client: FlaskClient, signed_in: Callable[..., uuid.UUID], runtime: Runtime
) -> None:
    customer = signed_in(EMAIL)
    assert page_language(client) == "en"
    answer = post(client, "/account/language", {"locale": "az"}, prefix="language", page="/account")
    assert answer.status_code == 303
    assert "lang=az" in answer.headers["Set-Cookie"]
    assert page_language(client) == "az"
    options = re.findall(r"<option[^>]*>", client.get("/account").get_data(as_text=True))
    assert [o for o in options if "selected" in o] == ['<option lang="az" selected value="az">']
    with runtime.vault.unit_of_work(write=False) as uow:
        assert uow.session.get(Customer, customer).locale == "az"

    # Another browser, with no cookie and an English browser: the account's choice wins...
    elsewhere = app.test_client()
    elsewhere.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-GB,en;q=0.9"
    assert page_language(elsewhere, "/login") == "en"
    log_in(elsewhere)
    assert page_language(elsewhere) == "az"
    assert page_language(elsewhere, "/") == "az"
    # ...but a choice made on the page itself, or the cookie it leaves, comes first.
    assert page_language(elsewhere, "/account?lang=tr") == "tr"
    elsewhere.set_cookie("lang", "en")
    assert page_language(elsewhere) == "en"


def test_an_unknown_language_is_refused(
    client: FlaskClient, signed_in: Callable[..., uuid.UUID], runtime: Runtime
) -> None:
    customer = signed_in(EMAIL)
    answer = post(client, "/account/language", {"locale": "xx"}, prefix="language", page="/account")
    assert answer.status_code == 200
    assert "Not a valid choice" in answer.get_data(as_text=True)
    with runtime.vault.unit_of_work(write=False) as uow:
        assert uow.session.get(Customer, customer).locale == "en"


# -- delete my account ----------------------------------------------------------------------------


def erased_events(runtime: Runtime) -> list[OutboxEvent]:
    with runtime.vault.unit_of_work(write=False) as uow:
        return list(
            uow.session.scalars(select(OutboxEvent).where(OutboxEvent.type == "customer.erased"))
        )


def delete_with(client: FlaskClient, password: str):
    return post(client, "/account/delete", {"password": password})


@pytest.fixture
def connected(runtime: Runtime, signed_in: Callable[..., uuid.UUID]) -> dict[str, uuid.UUID]:
    """A signed-in customer connected to two businesses; returns their ids."""
    customer = signed_in(EMAIL, profile={"identity.given_name": "Aysel"})
    ids = {"customer": customer}
    for name in ("Köhnə Şəhər Antikvarları", "Bakı Xalçaları"):
        business_id = make_business(runtime.vault, name=name)[0]
        make_active_agreement(runtime.vault, business_id, customer, {"identity.given_name": "read"})
        ids[name] = business_id
    return ids


def test_a_wrong_password_deletes_nothing(
    app: Flask, client: FlaskClient, runtime: Runtime, connected: dict[str, uuid.UUID]
) -> None:
    answer = delete_with(client, "not my password at all")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "This is not your password. Nothing was deleted." in page
    assert 'aria-describedby="password-help"' in page
    assert is_signed_in(client)
    assert erased_events(runtime) == []
    with runtime.vault.unit_of_work(write=False) as uow:
        row = uow.session.get(Customer, connected["customer"])
        assert row is not None and row.erased_at is None and row.email_index is not None
    assert log_in(app.test_client()).status_code == 303


def test_deleting_the_account_erases_it_and_hands_over_a_signed_receipt(
    app: Flask, client: FlaskClient, runtime: Runtime, connected: dict[str, uuid.UUID]
) -> None:
    customer = connected["customer"]
    explained = client.get("/account/delete").get_data(as_text=True)
    assert "cannot be undone" in explained and 'type="password"' in explained

    answer = delete_with(client, TEST_PASSWORD)
    assert answer.status_code == 303 and answer.headers["Location"] == "/account/erased"
    final = client.get("/account/erased")
    assert final.status_code == 200
    page = final.get_data(as_text=True)
    assert "Köhnə Şəhər Antikvarları" in page and "Bakı Xalçaları" in page
    assert 'download="erasure-receipt.jws"' in page
    download = client.get("/account/erased/erasure-receipt.jws")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"] == 'attachment; filename="erasure-receipt.jws"'
    assert download.headers["Cache-Control"] == "no-store"
    token = download.get_data(as_text=True)
    assert token in page

    # Signed out, and the account no longer opens.
    assert not is_signed_in(client)
    assert log_in(app.test_client()).status_code == 200
    # Crypto-shredded: no data key, no profile, no e-mail left.
    with runtime.vault.unit_of_work(write=False) as uow:
        row = uow.session.get(Customer, customer)
        assert row is not None and row.erased_at is not None
        assert (
            row.email_ciphertext is None and row.email_index is None and row.password_hash is None
        )
        assert (
            uow.session.scalar(select(CustomerKey).where(CustomerKey.customer_id == customer))
            is None
        )
        assert (
            uow.session.scalar(select(ProfileField).where(ProfileField.customer_id == customer))
            is None
        )
    # Every connected business is told.
    told = {event.business_id for event in erased_events(runtime)}
    businesses = {v for k, v in connected.items() if k != "customer"}
    assert told == businesses

    # The receipt checks out with a JOSE library Emanet does not write, against the JWKS.
    jwks = KeySet.import_key_set(app.test_client().get("/.well-known/jwks.json").get_json())
    verified = jws.deserialize_compact(token, jwks, algorithms=["EdDSA"])
    assert verified.protected["typ"] == "erasure-receipt+jwt"
    claims = json.loads(verified.payload)
    assert claims["sub"] == str(customer)
    assert claims["emanet:erased_at"].startswith(row.erased_at.isoformat()[:19])
    assert {b["business_id"] for b in claims["emanet:businesses_notified"]} == {
        str(b) for b in businesses
    }
    assert "data_key" in claims["emanet:destroyed"]
    assert claims["emanet:key_rotation"]["new_kek"]
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(Exception, match="signature"):
        jws.deserialize_compact(forged, jwks, algorithms=["EdDSA"])


def test_the_receipt_page_is_only_for_the_browser_that_deleted(
    app: Flask, client: FlaskClient
) -> None:
    for path in ("/account/erased", "/account/erased/erasure-receipt.jws"):
        answer = app.test_client().get(path)
        assert answer.status_code == 303 and answer.headers["Location"] == "/"


def test_a_receipt_too_big_for_the_session_cookie_is_handed_over_at_once(
    app: Flask,
    client: FlaskClient,
    runtime: Runtime,
    connected: dict[str, uuid.UUID],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("vault.account_views.COOKIE_BUDGET", 0)
    answer = delete_with(client, TEST_PASSWORD)
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "Bakı Xalçaları" in page
    found = re.search(
        r'href="data:application/jose;base64,([^"]+)" download="erasure-receipt.jws"', page
    )
    assert found
    token = base64.b64decode(found.group(1)).decode()
    jwks = KeySet.import_key_set(app.test_client().get("/.well-known/jwks.json").get_json())
    claims = json.loads(jws.deserialize_compact(token, jwks, algorithms=["EdDSA"]).payload)
    assert claims["sub"] == str(connected["customer"])
    assert client.get("/account/erased").status_code == 303  # nothing was left in the cookie
