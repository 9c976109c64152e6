"""What Emanet asks of a key provider, and the errors a provider raises."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


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


class KeyProvider(Protocol):
    """Holds key-encryption keys outside the database and wraps data keys with them."""

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
