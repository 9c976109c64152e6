"""Data keys of owners other than customers (a business's key for its own records): made,
wrapped and unwrapped by the key provider here, so only the vault's key code touches KEKs."""

from __future__ import annotations

import uuid

from vault.keys import aead
from vault.keys.provider import KeyProvider, WrappedKey


def owner_key_aad(context: str, owner_id: uuid.UUID) -> bytes:
    """Bind a wrapped key to its owner and kind: moved to another owner, it won't unwrap."""
    return aead.associated_data(context, owner_id)


def new_owner_key(
    provider: KeyProvider, context: str, owner_id: uuid.UUID
) -> tuple[bytes, WrappedKey]:
    """Return a fresh key and its wrapping under the active KEK."""
    key = aead.new_key()
    return key, provider.wrap(key, owner_key_aad(context, owner_id))


def open_owner_key(
    provider: KeyProvider, context: str, owner_id: uuid.UUID, kek_id: str, blob: bytes
) -> bytes:
    """Unwrap an owner's stored key."""
    return provider.unwrap(WrappedKey(kek_id, blob), owner_key_aad(context, owner_id))
