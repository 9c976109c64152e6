"""What Emanet asks of a key provider, and the errors a provider raises."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


class KeyringError(Exception):
    """The keyring cannot be used; the message says what is wrong and how to fix it."""


class UnknownKeyError(KeyringError):
    """A wrapped key names a key-encryption key the keyring does not hold."""


class UnwrapError(KeyringError):
    """A wrapped key does not unwrap under the key-encryption key it names."""


@dataclass(frozen=True)
class WrappedKey:
    """A data key sealed under the key-encryption key `kek_id`."""

    kek_id: str
    blob: bytes


@dataclass(frozen=True)
class KekInfo:
    """A key-encryption key as the provider describes it (never the key itself)."""

    kek_id: str
    created_at: datetime
    active: bool


def ed25519_public_jwk(kid: str, public_key: Ed25519PublicKey) -> dict[str, str]:
    """Return the public JWK of an Ed25519 signing key (RFC 8037 §2, RFC 7517 §4)."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "use": "sig", "alg": "EdDSA"}


class KeyProvider(Protocol):
    """Holds key-encryption keys outside the database and wraps data keys with them.

    It also holds the Ed25519 keys that sign consent receipts; every signing key it still
    holds is published, so a receipt signed before a rotation keeps verifying.
    """

    @property
    def active_kek_id(self) -> str: ...

    def wrap(self, key: bytes, aad: bytes) -> WrappedKey:
        """Seal a data key under the active key-encryption key."""
        ...

    def unwrap(self, wrapped: WrappedKey, aad: bytes) -> bytes:
        """Open a data key sealed by `wrap`."""
        ...

    def blind_index(self, purpose: str, value: bytes) -> bytes:
        """Return a keyed HMAC-SHA256 of the value, separate per purpose."""
        ...

    def list_keks(self) -> list[KekInfo]:
        """Describe every key-encryption key the provider holds."""
        ...

    def add_kek(self) -> str:
        """Create a new, not yet active key-encryption key and return its id."""
        ...

    def activate_kek(self, kek_id: str) -> None:
        """Make a key-encryption key the one new data keys are wrapped with."""
        ...

    def remove_kek(self, kek_id: str) -> None:
        """Destroy a key-encryption key that is no longer active."""
        ...

    def signing_key(self) -> tuple[str, Ed25519PrivateKey]:
        """Return the active receipt-signing key and its key id, creating one if none exists."""
        ...

    def public_jwks(self) -> dict[str, Any]:
        """Return every signing key's public half as an RFC 7517 JWK Set, active key first."""
        ...

    def rotate_signing_key(self) -> str:
        """Create a new active signing key and return its id; older keys stay published."""
        ...
