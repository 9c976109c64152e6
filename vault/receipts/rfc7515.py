"""JWS Compact Serialization (RFC 7515 §3.1, §7.1) with EdDSA over Ed25519 (RFC 8037 §3.1).

Only what receipts need: sign with one key, and verify against a JWK Set (RFC 7517 §5)
by the `kid` in the protected header. Anyone else can verify with any JOSE library.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "EdDSA"


class SignatureError(ValueError):
    """A JWS is malformed, names an unknown key, or its signature does not verify."""


def b64url(raw: bytes) -> str:
    """Encode bytes as unpadded base64url (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    if "=" in text:
        raise SignatureError("Padding is not allowed in a JWS (RFC 7515 §2).")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise SignatureError("A JWS part is not base64url.") from None


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def sign_compact(payload: dict[str, Any], kid: str, key: Ed25519PrivateKey, typ: str) -> str:
    """Return `payload` signed as a compact JWS whose header names `kid` and `typ`."""
    header = {"alg": ALGORITHM, "kid": kid, "typ": typ}
    signing_input = f"{b64url(_json(header))}.{b64url(_json(payload))}"
    signature = key.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url(signature)}"


def _public_key(jwks: dict[str, Any], kid: object) -> Ed25519PublicKey:
    for jwk in jwks.get("keys", []):
        if jwk.get("kid") == kid and jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
            try:
                return Ed25519PublicKey.from_public_bytes(_unb64url(str(jwk.get("x", ""))))
            except ValueError:
                raise SignatureError(f"The published key {kid} is not an Ed25519 key.") from None
    raise SignatureError(f"No published key has the id {kid!r}.")


def verify_compact(token: str, jwks: dict[str, Any], typ: str) -> dict[str, Any]:
    """Check a compact JWS against a JWK Set and return its JSON payload."""
    parts = token.split(".")
    if len(parts) != 3:
        raise SignatureError("A compact JWS has three parts separated by dots.")
    try:
        header = json.loads(_unb64url(parts[0]))
        payload = json.loads(_unb64url(parts[1]))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise SignatureError("The JWS header or payload is not JSON.") from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise SignatureError("The JWS header and payload must be JSON objects.")
    if header.get("alg") != ALGORITHM or header.get("typ") != typ or "crit" in header:
        raise SignatureError(f"Only {ALGORITHM} receipts of type {typ} are accepted.")
    key = _public_key(jwks, header.get("kid"))
    try:
        key.verify(_unb64url(parts[2]), f"{parts[0]}.{parts[1]}".encode("ascii"))
    except (InvalidSignature, UnicodeEncodeError):
        raise SignatureError("The receipt's signature does not verify.") from None
    return payload
