"""RFC 6238 codes, and two-factor use cases: sealed secret, one use per code, slowed guessing."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import select, update

from tests.conftest import TEST_PASSWORD, make_customer
from vault.accounts import totp
from vault.accounts.models import Customer
from vault.accounts.two_factor import (
    MAX_FAILURES,
    CodeResult,
    TwoFactorStateError,
    begin_two_factor,
    check_sign_in_code,
    confirm_two_factor,
    disable_two_factor,
    pending_setup,
    two_factor_required,
)
from vault.keys.aead import DecryptionError
from vault.unit_of_work import Vault

# The start of a 30-second step, so "one step later" is unambiguous.
T0 = datetime(2031, 5, 4, 12, 0, 0, tzinfo=UTC)


# -- RFC 6238 primitives (no database) ----------------------------------------------------------


def test_a_code_matches_its_own_step_and_one_step_either_side() -> None:
    secret = totp.new_secret()
    otp = pyotp.TOTP(secret)
    step = otp.timecode(T0)
    assert totp.matching_step(secret, otp.at(T0), T0) == step
    assert totp.matching_step(secret, otp.at(T0 - timedelta(seconds=30)), T0) == step - 1
    assert totp.matching_step(secret, otp.at(T0 + timedelta(seconds=30)), T0) == step + 1
    assert totp.matching_step(secret, otp.at(T0 - timedelta(seconds=60)), T0) is None
    assert totp.matching_step(secret, otp.at(T0 + timedelta(seconds=60)), T0) is None


def test_the_rfc_6238_test_vector_for_sha1_is_met() -> None:
    # RFC 6238 Appendix B, T = 59 s: 94287082 (8 digits); the 6-digit code is its last six.
    secret = base64.b32encode(b"12345678901234567890").decode()
    at = datetime.fromtimestamp(59, UTC)
    assert totp.matching_step(secret, "287082", at) == 1


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "12 34 5x"])
def test_anything_but_six_digits_is_no_code(typed: str) -> None:
    assert totp.matching_step(totp.new_secret(), typed, T0) is None


def test_spaces_people_type_inside_a_code_are_ignored() -> None:
    secret = totp.new_secret()
    code = pyotp.TOTP(secret).at(T0)
    assert totp.matching_step(secret, f" {code[:3]} {code[3:]} ", T0) is not None


def test_the_secret_has_160_bits_and_the_qr_code_is_an_svg_data_uri() -> None:
    secret = totp.new_secret()
    assert len(base64.b32decode(secret)) == 20
    assert totp.new_secret() != secret
    uri = totp.provisioning_uri(secret, "leyla@example.az")
    assert uri.startswith("otpauth://totp/Emanet:leyla%40example.az?secret=" + secret)
    assert "issuer=Emanet" in uri
    assert totp.qr_data_uri(uri).startswith("data:image/svg+xml")
    assert totp.spaced_secret("ABCDEFGHIJ") == "ABCD EFGH IJ"


# -- the use cases, on both databases -----------------------------------------------------------


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(vault: Vault) -> Clock:
    moving = Clock(T0)
    vault.clock = moving
    return moving


def _enable(vault: Vault, customer: uuid.UUID, clock: Clock) -> str:
    with vault.unit_of_work() as uow:
        begin_two_factor(uow, customer)
    with vault.unit_of_work(write=False) as uow:
        setup = pending_setup(uow, customer)
    assert setup is not None
    with vault.unit_of_work() as uow:
        assert confirm_two_factor(uow, customer, pyotp.TOTP(setup.secret).at(clock.now)) == (
            CodeResult.ACCEPTED
        )
    return setup.secret


def wrong_code(secret: str, at: datetime) -> str:
    """Return six digits that are no code of the window around `at`."""
    candidate = 0
    while totp.matching_step(secret, f"{candidate:06d}", at) is not None:
        candidate += 1
    return f"{candidate:06d}"


def _check(vault: Vault, customer: uuid.UUID, code: str) -> CodeResult:
    with vault.unit_of_work() as uow:
        return check_sign_in_code(uow, customer, code)


def test_the_secret_rests_sealed_and_bound_to_its_customer(vault: Vault, clock: Clock) -> None:
    alice, bob = make_customer(vault), make_customer(vault)
    secret = _enable(vault, alice, clock)
    with vault.unit_of_work() as uow:
        row = uow.session.get(Customer, alice)
        assert row is not None and row.totp_ciphertext is not None
        assert secret.encode() not in row.totp_ciphertext
        sealed = row.totp_ciphertext
        # Moved to another customer's row, the ciphertext does not open.
        begin_two_factor(uow, bob)
    with vault.unit_of_work() as uow:
        uow.session.execute(
            update(Customer).where(Customer.id == bob).values(totp_ciphertext=sealed)
        )
        uow.commit()
    with vault.unit_of_work(write=False) as uow, pytest.raises(DecryptionError):
        pending_setup(uow, bob)


def test_a_set_up_is_not_on_until_its_first_code_is_right(vault: Vault, clock: Clock) -> None:
    customer = make_customer(vault)
    with vault.unit_of_work() as uow:
        begin_two_factor(uow, customer)
    with vault.unit_of_work(write=False) as uow:
        setup = pending_setup(uow, customer)
        assert setup is not None and not two_factor_required(uow, customer)
    with vault.unit_of_work() as uow:
        wrong = wrong_code(setup.secret, clock.now)
        assert confirm_two_factor(uow, customer, wrong) is CodeResult.WRONG
    with vault.unit_of_work(write=False) as uow:
        assert not two_factor_required(uow, customer)
    with pytest.raises(TwoFactorStateError), vault.unit_of_work() as uow:
        check_sign_in_code(uow, customer, pyotp.TOTP(setup.secret).at(clock.now))


def test_a_code_is_accepted_once_only(vault: Vault, clock: Clock) -> None:
    customer = make_customer(vault)
    secret = _enable(vault, customer, clock)
    otp = pyotp.TOTP(secret)
    assert _check(vault, customer, otp.at(clock.now)) is CodeResult.WRONG  # spent on enabling
    clock.advance(30)
    code = otp.at(clock.now)
    assert _check(vault, customer, code) is CodeResult.ACCEPTED
    assert _check(vault, customer, code) is CodeResult.WRONG  # the same code again
    # An older code still inside the window is refused too: its step is already behind.
    assert _check(vault, customer, otp.at(clock.now - timedelta(seconds=30))) is CodeResult.WRONG
    clock.advance(30)
    assert _check(vault, customer, otp.at(clock.now)) is CodeResult.ACCEPTED


def test_guessing_pauses_after_ten_wrong_codes(vault: Vault, clock: Clock) -> None:
    customer = make_customer(vault)
    secret = _enable(vault, customer, clock)
    clock.advance(30)
    right = pyotp.TOTP(secret).at(clock.now)
    wrong = wrong_code(secret, clock.now)
    for _ in range(MAX_FAILURES):
        assert _check(vault, customer, wrong) is CodeResult.WRONG
    assert _check(vault, customer, right) is CodeResult.LOCKED  # even the right one waits
    clock.advance(15 * 60)
    assert _check(vault, customer, pyotp.TOTP(secret).at(clock.now)) is CodeResult.ACCEPTED
    with vault.unit_of_work(write=False) as uow:
        failures = uow.session.scalar(select(Customer.totp_failures).where(Customer.id == customer))
    assert failures == 0


def test_turning_off_needs_a_code_or_the_password(vault: Vault, clock: Clock) -> None:
    customer = make_customer(vault)
    secret = _enable(vault, customer, clock)
    with vault.unit_of_work() as uow:
        assert disable_two_factor(uow, customer, "not the password") is CodeResult.WRONG
    with vault.unit_of_work(write=False) as uow:
        assert two_factor_required(uow, customer)
    with vault.unit_of_work() as uow:
        assert disable_two_factor(uow, customer, TEST_PASSWORD) is CodeResult.ACCEPTED
    with vault.unit_of_work(write=False) as uow:
        row = uow.session.get(Customer, customer)
        assert row is not None and row.totp_ciphertext is None and row.totp_enabled_at is None
    secret = _enable(vault, customer, clock)
    clock.advance(30)
    with vault.unit_of_work() as uow:
        code = pyotp.TOTP(secret).at(clock.now)
        assert disable_two_factor(uow, customer, code) is CodeResult.ACCEPTED
