"""Standard Webhooks signatures (https://www.standardwebhooks.com), version v1.

The signed content is "{webhook-id}.{webhook-timestamp}.{body}"; the signature is
HMAC-SHA256 under the secret's bytes, base64-encoded and prefixed "v1,". The id stays the
same on every retry of an event, so a receiver can drop duplicates. The secret itself is kept
sealed in the database: the worker must read it back to sign, so it cannot be hashed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any

from vault.keys.aead import associated_data, seal, unseal

if TYPE_CHECKING:
    import uuid

    from broker.webhooks.models import WebhookEndpoint
    from vault.unit_of_work import UnitOfWork

SECRET_PREFIX = "whsec_"
# The specification asks for 24 to 64 random bytes.
SECRET_BYTES = 32
SECRET_KEY_PURPOSE = "webhook-secret-key"


def new_secret() -> str:
    """Return a fresh signing secret in the `whsec_<base64>` form receivers expect."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """Return the HMAC key a `whsec_` secret stands for."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)


def event_body(event_type: str, created_at: datetime, payload: dict[str, Any]) -> bytes:
    """Return the JSON body of an event, as it is signed and sent."""
    document = {"type": event_type, "timestamp": created_at.isoformat(), "data": payload}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """Return the `webhook-signature` value for a message."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Return the headers a webhook request carries."""
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
    }


def _secret_key(uow: UnitOfWork, endpoint_id: uuid.UUID) -> bytes:
    # Derived from the keyring's blind-index key, which lives outside the database and is
    # not replaced by KEK rotation: a database copy alone cannot forge our webhooks, and
    # `emanet keys rotate` leaves every secret readable.
    return uow.provider.blind_index(SECRET_KEY_PURPOSE, endpoint_id.bytes)


def _secret_aad(endpoint_id: uuid.UUID, business_id: uuid.UUID) -> bytes:
    # Names the row, so a sealed secret copied onto another endpoint does not open there.
    return associated_data("webhook-endpoint-secret", endpoint_id, business_id)


def seal_secret(
    uow: UnitOfWork, endpoint_id: uuid.UUID, business_id: uuid.UUID, secret: str
) -> bytes:
    """Encrypt an endpoint's signing secret for storage."""
    aad = _secret_aad(endpoint_id, business_id)
    return seal(_secret_key(uow, endpoint_id), secret.encode(), aad)


def open_secret(uow: UnitOfWork, endpoint: WebhookEndpoint) -> str:
    """Decrypt an endpoint's signing secret to sign with it."""
    aad = _secret_aad(endpoint.id, endpoint.business_id)
    return unseal(_secret_key(uow, endpoint.id), endpoint.sealed_secret, aad).decode()
