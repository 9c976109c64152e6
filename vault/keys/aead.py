"""AES-256-GCM sealing with associated data that names where a ciphertext belongs."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12  # NIST SP 800-38D section 8.2: 96-bit random nonces
KEY_BYTES = 32


class DecryptionError(Exception):
    """A ciphertext did not authenticate under this key and associated data."""


def associated_data(context: str, *parts: object) -> bytes:
    """Encode a context and its parts unambiguously (each part length-prefixed)."""
    return extend_associated_data(context.encode(), *parts)


def extend_associated_data(prefix: bytes, *parts: object) -> bytes:
    """Append parts to associated data built earlier (the same bytes as building it whole)."""
    encoded = [prefix]
    for part in parts:
        raw = str(part).encode()
        encoded.append(len(raw).to_bytes(4, "big") + raw)
    return b"|".join(encoded)


def new_key() -> bytes:
    """Return a fresh random 256-bit key."""
    return AESGCM.generate_key(bit_length=256)


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt and authenticate; the result is nonce || ciphertext || tag."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def unseal(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    """Decrypt a value made by `seal`; raise DecryptionError if anything does not match."""
    return Opener(key).unseal(sealed, aad)


class Opener:
    """Decrypts many values under one key, setting the cipher up once."""

    def __init__(self, key: bytes) -> None:
        self._cipher = AESGCM(key)

    def unseal(self, sealed: bytes, aad: bytes) -> bytes:
        """Decrypt a value made by `seal`; raise DecryptionError if anything does not match."""
        if len(sealed) < NONCE_BYTES + 16:
            raise DecryptionError("ciphertext is too short")
        try:
            return self._cipher.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
        except InvalidTag:
            raise DecryptionError("ciphertext does not authenticate here") from None
