"""Two-factor sign-in through the pages: set up with a QR code, then every sign-in needs a code."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import TEST_PASSWORD
from tests.vault.web.test_account import EMAIL, is_signed_in, log_in, post
from vault.accounts import totp


class Clock:
    """The app's clock, moved by the test so codes and steps are exact."""

    def __init__(self) -> None:
        now = datetime.now(UTC)
        self.now = now.replace(second=now.second - now.second % 30, microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(app: Flask) -> Clock:
    moving = Clock()
    app.extensions["emanet"].vault.clock = moving
    return moving


def wrong_code(secret: str, at: datetime) -> str:
    candidate = 0
    while totp.matching_step(secret, f"{candidate:06d}", at) is not None:
        candidate += 1
    return f"{candidate:06d}"


def enter_code(client: FlaskClient, code: str):
    return post(client, "/login/code", {"code": code})


def turn_on(client: FlaskClient, clock: Clock) -> str:
    """Set two-factor sign-in up through the pages; return the secret the page showed."""
    started = post(client, "/account/two-factor/start", {}, prefix="twofactor", page="/account")
    assert started.status_code == 303 and started.headers["Location"] == "/account/two-factor"
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert re.search(r'<img class="totp-qr" src="data:image/svg\+xml[^"]+"[^>]* alt="[^"]+"', page)
    shown = re.search(r'<code class="totp-secret"[^>]*>([A-Z2-7 ]+)</code>', page)
    assert shown
    secret = shown.group(1).replace(" ", "")
    wrong = post(client, "/account/two-factor", {"code": wrong_code(secret, clock.now)})
    assert wrong.status_code == 200
    assert "This code is not right" in html.unescape(wrong.get_data(as_text=True))
    assert "Off" in client.get("/account").get_data(as_text=True)  # not on until a right code
    done = post(client, "/account/two-factor", {"code": pyotp.TOTP(secret).at(clock.now)})
    assert done.status_code == 303 and done.headers["Location"] == "/account"
    return secret


def test_sign_in_needs_the_code_once_two_factor_is_on(
    app: Flask, client: FlaskClient, signed_in: Callable[..., uuid.UUID], clock: Clock
) -> None:
    signed_in(EMAIL)
    secret = turn_on(client, clock)
    assert "Two-factor sign-in is on" in client.get("/account").get_data(as_text=True)

    browser = app.test_client()
    answer = post(browser, "/login?next=/account", {"email": EMAIL, "password": TEST_PASSWORD})
    assert answer.status_code == 303 and answer.headers["Location"] == "/login/code"
    assert not is_signed_in(browser)  # a right password alone opens nothing

    clock.advance(30)
    wrong = enter_code(browser, wrong_code(secret, clock.now))
    assert wrong.status_code == 200
    page = html.unescape(wrong.get_data(as_text=True))
    assert "This code is not right" in page and 'aria-describedby="code-help"' in page
    assert not is_signed_in(browser)

    answer = enter_code(browser, pyotp.TOTP(secret).at(clock.now))
    assert answer.status_code == 303 and answer.headers["Location"] == "/account"
    assert is_signed_in(browser)


def test_a_code_used_once_does_not_open_the_vault_again(
    app: Flask, client: FlaskClient, signed_in: Callable[..., uuid.UUID], clock: Clock
) -> None:
    signed_in(EMAIL)
    secret = turn_on(client, clock)
    clock.advance(30)
    code = pyotp.TOTP(secret).at(clock.now)

    first = app.test_client()
    log_in(first)
    assert enter_code(first, code).status_code == 303 and is_signed_in(first)

    thief = app.test_client()
    log_in(thief)
    replay = enter_code(thief, code)
    assert replay.status_code == 200 and not is_signed_in(thief)
    assert "This code is not right" in html.unescape(replay.get_data(as_text=True))

    clock.advance(30)
    assert enter_code(thief, pyotp.TOTP(secret).at(clock.now)).status_code == 303


def test_the_code_step_expires_and_needs_the_password_again(
    app: Flask, client: FlaskClient, signed_in: Callable[..., uuid.UUID], clock: Clock
) -> None:
    signed_in(EMAIL)
    secret = turn_on(client, clock)
    browser = app.test_client()
    log_in(browser)
    clock.advance(301)
    answer = browser.get("/login/code")
    assert answer.status_code == 303 and answer.headers["Location"] == "/login"
    assert browser.get("/login/code").status_code == 303  # the pending sign-in is gone
    assert not is_signed_in(browser)
    assert secret  # the secret was never needed


def test_the_code_step_without_a_password_step_goes_back_to_sign_in(client: FlaskClient) -> None:
    answer = client.get("/login/code")
    assert answer.status_code == 303 and answer.headers["Location"] == "/login"


def test_turning_two_factor_off_needs_a_code_or_the_password(
    app: Flask, client: FlaskClient, signed_in: Callable[..., uuid.UUID], clock: Clock
) -> None:
    signed_in(EMAIL)
    turn_on(client, clock)
    refused = post(
        client, "/account/two-factor/off", {"proof": "not my password"}, "twofactoroff", "/account"
    )
    assert refused.status_code == 200
    page = refused.get_data(as_text=True)
    assert "This is neither a current code nor your password." in page
    assert 'aria-describedby="twofactoroff-proof-help"' in page
    answer = post(
        client, "/account/two-factor/off", {"proof": TEST_PASSWORD}, "twofactoroff", "/account"
    )
    assert answer.status_code == 303
    browser = app.test_client()
    assert log_in(browser).headers["Location"] == "/"  # the password alone signs in again
    assert is_signed_in(browser)


def test_code_guessing_from_one_address_is_rate_limited(
    app: Flask, client: FlaskClient, signed_in: Callable[..., uuid.UUID], clock: Clock
) -> None:
    signed_in(EMAIL)
    secret = turn_on(client, clock)
    browser = app.test_client()
    log_in(browser)
    wrong = wrong_code(secret, clock.now)
    codes = [enter_code(browser, wrong).status_code for _ in range(11)]
    assert codes[:10] == [200] * 10
    assert codes[10] == 429
    assert "Too many attempts" in enter_code(browser, wrong).get_data(as_text=True)
