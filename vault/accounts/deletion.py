"""Delete my account (GDPR Art. 17): confirm with the password, crypto-shred, sign a receipt.

The receipt is a JWS (RFC 7515, EdDSA over Ed25519, RFC 8037) signed with the same keyring
key as consent receipts, so anyone can check it against the published JWKS. It states the
pseudonymous customer id that stays behind as a stub, when the erasure happened, what was
destroyed, and which businesses were sent `customer.erased`. It is not stored: the customer
keeps the only copy.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from vault.accounts.models import Customer
from vault.accounts.services import WrongPasswordError, check_password
from vault.agreements.models import Agreement
from vault.erasure import erase_and_shred
from vault.keys.rotation import RotationConflictError
from vault.outbox.models import OutboxEvent
from vault.receipts.rfc7515 import sign_compact, verify_compact
from vault.receipts.services import principal_id
from vault.unit_of_work import Vault

TYP = "erasure-receipt+jwt"
log = logging.getLogger(__name__)

# What erasure destroys, by the code the receipt names it with.
DESTROYED = (
    "data_key",  # the customer's DEK: every ciphertext under it, in any copy, is unreadable
    "profile_fields",
    "profile_history",
    "interactions",
    "login_email",  # its ciphertext and its blind index
    "password_hash",
    "two_factor_secret",
)
# What stays, without any personal data in it.
KEPT = (
    "pseudonymous_stub",  # this id, the opening and the erasure time
    "agreement_history",  # who asked for which fields and when, for the businesses' records
    "access_log",  # field names and times only, chained for tamper evidence
)

__all__ = [
    "TYP",
    "ErasureReceipt",
    "NotifiedBusiness",
    "WrongPasswordError",
    "delete_account",
    "verify_erasure",
]


@dataclass(frozen=True)
class NotifiedBusiness:
    """A business that was sent `customer.erased`, and the id it knew the customer by."""

    business_id: str
    name: str
    principal_id: str


@dataclass(frozen=True)
class ErasureReceipt:
    """The signed receipt and the facts it states, for the final page."""

    jws: str
    receipt_id: str
    customer_id: str
    erased_at: datetime
    businesses: list[NotifiedBusiness]


def _notified(vault: Vault, customer_id: uuid.UUID) -> list[NotifiedBusiness]:
    with vault.unit_of_work(write=False) as uow:
        rows = uow.session.execute(
            select(Agreement.business_id, Agreement.business)
            .join(OutboxEvent, OutboxEvent.agreement_id == Agreement.id)
            .where(Agreement.customer_id == customer_id, OutboxEvent.type == "customer.erased")
            .order_by(Agreement.created_at)
        ).all()
        names: dict[uuid.UUID, str] = {}
        for business_id, snapshot in rows:
            names[business_id] = str(snapshot.get("legal_name", ""))
        return [
            NotifiedBusiness(str(business_id), name, principal_id(uow, business_id, customer_id))
            for business_id, name in names.items()
        ]


def _clear_leftovers(vault: Vault, customer_id: uuid.UUID) -> None:
    # The DEK is gone, so the two-factor secret no longer opens; drop the ciphertext as well.
    with vault.unit_of_work() as uow:
        customer = uow.session.get(Customer, customer_id)
        if customer is not None:
            customer.totp_ciphertext = None
            customer.totp_enabled_at = None
            customer.totp_last_step = None
            customer.password_changed_at = None
        uow.commit()


def _claims(
    vault: Vault,
    receipt_id: uuid.UUID,
    customer_id: uuid.UUID,
    erased_at: datetime,
    businesses: list[NotifiedBusiness],
    rotation: dict[str, Any],
) -> dict[str, Any]:
    return {
        "iss": vault.issuer,
        "sub": str(customer_id),
        "iat": int(vault.clock().timestamp()),
        "jti": str(receipt_id),
        "emanet:kind": "erasure",
        "emanet:legal_basis": "GDPR Art. 17",
        "emanet:erased_at": erased_at.isoformat().replace("+00:00", "Z"),
        "emanet:destroyed": list(DESTROYED),
        "emanet:kept": list(KEPT),
        "emanet:key_rotation": rotation,
        "emanet:businesses_notified": [
            {
                "business_id": b.business_id,
                "name": b.name,
                "principal_id": b.principal_id,
                "event": "customer.erased",
            }
            for b in businesses
        ],
    }


def delete_account(vault: Vault, customer_id: uuid.UUID, password: str) -> ErasureReceipt:
    """Erase the account if the password is right, and return the signed receipt of it."""
    with vault.unit_of_work(write=False) as uow:
        if not check_password(uow, customer_id, password):
            raise WrongPasswordError("The password is not right.")
    try:
        report = erase_and_shred(vault, customer_id)
        erased_at = report.erased_at
        assert report.rotation is not None
        rotation: dict[str, Any] = {
            "new_kek": report.rotation.new_kek_id,
            "retired_keks": list(report.rotation.retired),
        }
    except RotationConflictError:
        # The erasure committed; the rotation that overtook ours rewraps and retires instead.
        log.warning("erasure of %s: a concurrent KEK rotation finishes the shredding", customer_id)
        with vault.unit_of_work(write=False) as uow:
            erased = uow.session.scalar(
                select(Customer.erased_at).where(Customer.id == customer_id)
            )
        assert erased is not None
        erased_at = erased
        rotation = {"completed_by": "a concurrent rotation"}
    _clear_leftovers(vault, customer_id)
    businesses = _notified(vault, customer_id)
    receipt_id = uuid.uuid4()
    kid, key = vault.provider.signing_key()
    claims = _claims(vault, receipt_id, customer_id, erased_at, businesses, rotation)
    return ErasureReceipt(
        jws=sign_compact(claims, kid, key, TYP),
        receipt_id=str(receipt_id),
        customer_id=str(customer_id),
        erased_at=erased_at,
        businesses=businesses,
    )


def verify_erasure(jws: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """Check an erasure receipt against a JWK Set and return its claims."""
    return verify_compact(jws, jwks, TYP)
