"""Two-factor sign-in for a customer: set up, confirm, check a code at sign-in, turn off.

The shared secret is sealed under the customer's data key with associated data naming the
customer and the purpose, so it never rests in clear and is crypto-shredded with the rest of
the vault on erasure. Every check runs on the customer's locked row: the accepted time step
and the count of wrong codes change in the same transaction as the check, so two requests
cannot both spend one code, and guessing is slowed per account, not only per address.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select

from vault.access_log.services import LogEntry, append_event
from vault.accounts import totp
from vault.accounts.models import Customer
from vault.accounts.services import login_email
from vault.errors import CustomerNotFoundError
from vault.keys import aead
from vault.unit_of_work import UnitOfWork

SEAL_CONTEXT = "emanet/totp-secret/v1"
MAX_FAILURES = 10  # wrong codes in a row before checks pause
LOCKOUT = timedelta(minutes=15)

__all__ = [
    "CodeResult",
    "TwoFactorSetup",
    "TwoFactorStateError",
    "begin_two_factor",
    "check_sign_in_code",
    "confirm_two_factor",
    "disable_two_factor",
    "pending_setup",
    "two_factor_required",
]


class CodeResult(StrEnum):
    """What became of a code (or password) offered as proof."""

    ACCEPTED = "accepted"
    WRONG = "wrong"
    LOCKED = "locked"  # too many wrong codes lately; no code is checked until LOCKOUT passes


class TwoFactorStateError(ValueError):
    """Two-factor sign-in is not in the state this step needs (already on, or not set up)."""


@dataclass(frozen=True)
class TwoFactorSetup:
    """What the set-up page shows: the secret, for typing by hand, and its QR code."""

    secret: str
    uri: str
    qr: str

    @property
    def spaced_secret(self) -> str:
        return totp.spaced_secret(self.secret)


def _aad(customer_id: uuid.UUID) -> bytes:
    return aead.associated_data(SEAL_CONTEXT, customer_id, "totp-secret")


def _customer(uow: UnitOfWork, customer_id: uuid.UUID, *, lock: bool) -> Customer:
    query = select(Customer).where(Customer.id == customer_id, Customer.erased_at.is_(None))
    customer = uow.session.scalar(query.with_for_update() if lock else query)
    if customer is None:
        raise CustomerNotFoundError(f"No customer {customer_id}.")
    return customer


def _secret(uow: UnitOfWork, customer: Customer) -> str:
    assert customer.totp_ciphertext is not None
    raw = uow.keys.decrypt(uow.session, customer.id, customer.totp_ciphertext, _aad(customer.id))
    return raw.decode()


def _check(uow: UnitOfWork, customer: Customer, code: str) -> CodeResult:
    now = uow.now()
    failed_at = customer.totp_failed_at
    if customer.totp_failures >= MAX_FAILURES and failed_at and now - failed_at < LOCKOUT:
        return CodeResult.LOCKED
    step = totp.matching_step(_secret(uow, customer), code, now)
    last = customer.totp_last_step
    if step is not None and (last is None or step > last):
        customer.totp_last_step = step
        customer.totp_failures = 0
        customer.totp_failed_at = None
        return CodeResult.ACCEPTED
    customer.totp_failures = (customer.totp_failures or 0) + 1
    customer.totp_failed_at = now
    return CodeResult.WRONG


def _clear(customer: Customer) -> None:
    customer.totp_ciphertext = None
    customer.totp_enabled_at = None
    customer.totp_last_step = None
    customer.totp_failures = 0
    customer.totp_failed_at = None


def two_factor_required(uow: UnitOfWork, customer_id: uuid.UUID) -> bool:
    """Tell whether signing in needs a code as well as the password."""
    return _customer(uow, customer_id, lock=False).totp_enabled_at is not None


def begin_two_factor(uow: UnitOfWork, customer_id: uuid.UUID) -> None:
    """Make a new secret waiting for its first code (replacing one that waited); commit."""
    customer = _customer(uow, customer_id, lock=True)
    if customer.totp_enabled_at is not None:
        raise TwoFactorStateError("Two-factor sign-in is already on.")
    _clear(customer)
    customer.totp_ciphertext = uow.keys.encrypt(
        uow.session, customer_id, totp.new_secret().encode(), _aad(customer_id)
    )
    uow.commit()


def pending_setup(uow: UnitOfWork, customer_id: uuid.UUID) -> TwoFactorSetup | None:
    """Return the set-up waiting for its first code, if there is one."""
    customer = _customer(uow, customer_id, lock=False)
    if customer.totp_ciphertext is None or customer.totp_enabled_at is not None:
        return None
    secret = _secret(uow, customer)
    uri = totp.provisioning_uri(secret, login_email(uow, customer_id))
    return TwoFactorSetup(secret=secret, uri=uri, qr=totp.qr_data_uri(uri))


def confirm_two_factor(uow: UnitOfWork, customer_id: uuid.UUID, code: str) -> CodeResult:
    """Turn two-factor sign-in on once the app shows a right code; commit either way."""
    customer = _customer(uow, customer_id, lock=True)
    if customer.totp_ciphertext is None or customer.totp_enabled_at is not None:
        raise TwoFactorStateError("There is no two-factor set-up waiting for a code.")
    result = _check(uow, customer, code)
    if result is CodeResult.ACCEPTED:
        customer.totp_enabled_at = uow.now()
        append_event(
            uow, LogEntry(kind="customer.two_factor_on", actor="customer", customer_id=customer_id)
        )
    uow.commit()
    return result


def check_sign_in_code(uow: UnitOfWork, customer_id: uuid.UUID, code: str) -> CodeResult:
    """Check the second step of a sign-in; the attempt is recorded whatever the answer."""
    customer = _customer(uow, customer_id, lock=True)
    if customer.totp_enabled_at is None:
        raise TwoFactorStateError("Two-factor sign-in is off for this account.")
    result = _check(uow, customer, code)
    uow.commit()
    return result


def disable_two_factor(uow: UnitOfWork, customer_id: uuid.UUID, proof: str) -> CodeResult:
    """Turn two-factor sign-in off, given a current code or the password; commit."""
    customer = _customer(uow, customer_id, lock=True)
    if customer.totp_enabled_at is None:
        raise TwoFactorStateError("Two-factor sign-in is already off.")
    if totp.is_code_shaped(proof):
        result = _check(uow, customer, proof)
    elif customer.password_hash and uow.passwords.verify(customer.password_hash, proof):
        result = CodeResult.ACCEPTED
    else:
        result = CodeResult.WRONG
    if result is CodeResult.ACCEPTED:
        _clear(customer)
        append_event(
            uow, LogEntry(kind="customer.two_factor_off", actor="customer", customer_id=customer_id)
        )
    uow.commit()
    return result
