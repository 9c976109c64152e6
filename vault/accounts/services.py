"""Use cases of a customer account: create, authenticate, language, password, session stamp."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from schemas.field_catalogue import validate_field_value
from vault.access_log.services import LogEntry, append_event
from vault.accounts.models import Customer
from vault.errors import CustomerNotFoundError
from vault.keys import aead
from vault.keys.provider import KeyProvider
from vault.profile.services import write_fields
from vault.unit_of_work import UnitOfWork

EMAIL_INDEX_PURPOSE = "customer-login-email"
LOCALES = ("en", "az", "tr")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class EmailTakenError(ValueError):
    """Another account already signs in with this e-mail address."""


def normalise_login_email(email: str) -> str:
    """Validate an e-mail address and return the form accounts are keyed by."""
    return str(validate_field_value("contact.email", email)).casefold()


def email_index(provider: KeyProvider, email: str) -> bytes:
    """Return the blind index of a login e-mail (an HMAC; the address itself is not stored)."""
    return provider.blind_index(EMAIL_INDEX_PURPOSE, normalise_login_email(email).encode())


def _email_aad(customer_id: uuid.UUID) -> bytes:
    return aead.associated_data("emanet/account-email/v1", customer_id)


def create_customer(
    uow: UnitOfWork,
    email: str,
    password: str,
    *,
    locale: str = "en",
    profile: Mapping[str, object] | None = None,
) -> uuid.UUID:
    """Open an account with its own data key; optionally fill profile fields at once."""
    login_email = normalise_login_email(email)
    index = email_index(uow.provider, login_email)
    password_hash = uow.passwords.hash(password)
    if locale not in LOCALES:
        raise ValueError(f"Unknown language {locale!r}; choose one of {', '.join(LOCALES)}.")
    if uow.session.scalar(select(Customer.id).where(Customer.email_index == index)) is not None:
        raise EmailTakenError("An account with this e-mail address already exists.")
    now = uow.now()
    customer = Customer(
        id=uuid.uuid4(),
        email_index=index,
        password_hash=password_hash,
        locale=locale,
        created_at=now,
    )
    uow.session.add(customer)
    uow.session.flush()
    uow.keys.create(uow.session, customer.id, now)
    customer.email_ciphertext = uow.keys.encrypt(
        uow.session, customer.id, login_email.encode(), _email_aad(customer.id)
    )
    if profile:
        write_fields(uow, customer.id, profile, actor="customer")
    append_event(uow, LogEntry(kind="customer.created", actor="customer", customer_id=customer.id))
    uow.commit()
    return customer.id


def authenticate(uow: UnitOfWork, email: str, password: str) -> uuid.UUID | None:
    """Return the customer id when e-mail and password match, else None."""
    try:
        index = email_index(uow.provider, email)
    except ValueError:
        return None
    row = uow.session.execute(
        select(Customer.id, Customer.password_hash).where(
            Customer.email_index == index, Customer.erased_at.is_(None)
        )
    ).one_or_none()
    if row is None or row.password_hash is None:
        # Spend the same time as a real check so response times do not reveal accounts.
        uow.passwords.verify(_DUMMY_HASH.get(uow), password)
        return None
    return row.id if uow.passwords.verify(row.password_hash, password) else None


class _DummyHash:
    """A hash made once per process with the live parameters, for unknown accounts."""

    _value: str | None = None

    def get(self, uow: UnitOfWork) -> str:
        if self._value is None:
            self._value = uow.passwords.hash("not-a-real-password-" + uuid.uuid4().hex)
        return self._value


_DUMMY_HASH = _DummyHash()


def login_email(uow: UnitOfWork, customer_id: uuid.UUID) -> str:
    """Decrypt and return the customer's login e-mail."""
    customer = uow.session.get(Customer, customer_id)
    if customer is None or customer.erased_at is not None or customer.email_ciphertext is None:
        raise CustomerNotFoundError(f"No customer {customer_id}.")
    raw = uow.keys.decrypt(
        uow.session, customer_id, customer.email_ciphertext, _email_aad(customer_id)
    )
    return raw.decode()


class WrongPasswordError(ValueError):
    """The password given to confirm a change is not the account's password."""


@dataclass(frozen=True)
class AccountSummary:
    """What the account page shows."""

    email: str
    locale: str
    created_at: datetime
    password_changed_at: datetime | None
    two_factor_on_since: datetime | None


@dataclass(frozen=True)
class SessionFacts:
    """What every signed-in request checks: the session stamp, and the saved language."""

    stamp: str
    locale: str


def session_stamp(password_changed_at: datetime | None) -> str:
    """Return the stamp a session carries: sessions made before a password change differ."""
    if password_changed_at is None:
        return ""
    return str((password_changed_at - _EPOCH) // timedelta(microseconds=1))


def _live_customer(uow: UnitOfWork, customer_id: uuid.UUID, *, lock: bool = False) -> Customer:
    query = select(Customer).where(Customer.id == customer_id, Customer.erased_at.is_(None))
    customer = uow.session.scalar(query.with_for_update() if lock else query)
    if customer is None:
        raise CustomerNotFoundError(f"No customer {customer_id}.")
    return customer


def session_facts(uow: UnitOfWork, customer_id: uuid.UUID) -> SessionFacts | None:
    """Return what a session of this customer is checked against, or None once erased."""
    row = uow.session.execute(
        select(Customer.password_changed_at, Customer.locale).where(
            Customer.id == customer_id, Customer.erased_at.is_(None)
        )
    ).one_or_none()
    if row is None:
        return None
    return SessionFacts(session_stamp(row.password_changed_at), row.locale)


def account_summary(uow: UnitOfWork, customer_id: uuid.UUID) -> AccountSummary:
    """Return the login e-mail, language and security settings of an account."""
    customer = _live_customer(uow, customer_id)
    return AccountSummary(
        email=login_email(uow, customer_id),
        locale=customer.locale,
        created_at=customer.created_at,
        password_changed_at=customer.password_changed_at,
        two_factor_on_since=customer.totp_enabled_at,
    )


def set_locale(uow: UnitOfWork, customer_id: uuid.UUID, locale: str) -> None:
    """Save the language the customer's pages are shown in; commit."""
    if locale not in LOCALES:
        raise ValueError(f"Unknown language {locale!r}; choose one of {', '.join(LOCALES)}.")
    _live_customer(uow, customer_id, lock=True).locale = locale
    uow.commit()


def check_password(uow: UnitOfWork, customer_id: uuid.UUID, password: str) -> bool:
    """Tell whether the password is the account's password."""
    stored = _live_customer(uow, customer_id).password_hash
    return stored is not None and uow.passwords.verify(stored, password)


def change_password(uow: UnitOfWork, customer_id: uuid.UUID, current: str, new: str) -> str:
    """Replace the password, ending every session made before; commit; return the new stamp."""
    customer = _live_customer(uow, customer_id, lock=True)
    if customer.password_hash is None or not uow.passwords.verify(customer.password_hash, current):
        raise WrongPasswordError("The current password is not right.")
    customer.password_hash = uow.passwords.hash(new)
    customer.password_changed_at = uow.now()
    append_event(
        uow, LogEntry(kind="customer.password_changed", actor="customer", customer_id=customer_id)
    )
    stamp = session_stamp(customer.password_changed_at)
    uow.commit()
    return stamp
