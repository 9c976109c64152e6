"""Signed checkpoints: the tree's size and root at a time, signed with Ed25519.

The signed bytes are a checkpoint note in the spirit of C2SP tlog-checkpoint:

    emanet-access-log
    <tree size, decimal>
    <root hash, standard base64>
    <time signed, RFC 3339 UTC to the second>

each line ending in a newline. The key is the broker's signing key (the one in the JWKS at
/.well-known/jwks.json that also signs consent receipts). A JWS signing input is base64url
text and dots with no newline, so a note can never be mistaken for one, nor one for a note.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.access_log.models import AccessCheckpoint
from vault.unit_of_work import UnitOfWork

ORIGIN = "emanet-access-log"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class CheckpointView:
    """A checkpoint as data anyone can check: its note, key id and signature."""

    tree_size: int
    root_hash: bytes
    signed_at: datetime
    kid: str
    signature: bytes

    @property
    def note(self) -> bytes:
        return checkpoint_note(self.tree_size, self.root_hash, self.signed_at)

    def as_json(self) -> dict[str, Any]:
        """Return the checkpoint for a download; hashes and signature in standard base64."""
        return {
            "origin": ORIGIN,
            "tree_size": self.tree_size,
            "root_hash": b64(self.root_hash),
            "signed_at": self.signed_at.strftime(TIME_FORMAT),
            "note": self.note.decode(),
            "alg": "EdDSA",
            "kid": self.kid,
            "signature": b64(self.signature),
        }


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def checkpoint_note(tree_size: int, root: bytes, signed_at: datetime) -> bytes:
    """Return the exact bytes a checkpoint's signature covers."""
    when = signed_at.astimezone(UTC).strftime(TIME_FORMAT)
    return f"{ORIGIN}\n{tree_size}\n{b64(root)}\n{when}\n".encode("ascii")


def view(checkpoint: AccessCheckpoint | Any) -> CheckpointView:
    return CheckpointView(
        checkpoint.tree_size,
        checkpoint.root_hash,
        checkpoint.signed_at,
        checkpoint.kid,
        checkpoint.signature,
    )


def sign_checkpoint(uow: UnitOfWork, tree_size: int, root: bytes) -> CheckpointView:
    """Sign the tree's size and root now and store the checkpoint (no commit)."""
    signed_at = uow.now().astimezone(UTC).replace(microsecond=0)
    kid, key = uow.provider.signing_key()
    signature = key.sign(checkpoint_note(tree_size, root, signed_at))
    row = AccessCheckpoint(
        tree_size=tree_size, root_hash=root, signed_at=signed_at, kid=kid, signature=signature
    )
    uow.session.add(row)
    uow.session.flush()
    return view(row)


def latest_checkpoint(session: Session) -> CheckpointView | None:
    """Return the checkpoint of the largest tree, if any was signed."""
    row = session.scalar(
        select(AccessCheckpoint).order_by(AccessCheckpoint.tree_size.desc()).limit(1)
    )
    return view(row) if row is not None else None


def checkpoints_in_order(session: Session, batch_size: int = 1000) -> Iterator[CheckpointView]:
    """Yield every checkpoint by tree size, one keyset page at a time."""
    after = -1
    columns = [
        AccessCheckpoint.tree_size,
        AccessCheckpoint.root_hash,
        AccessCheckpoint.signed_at,
        AccessCheckpoint.kid,
        AccessCheckpoint.signature,
    ]
    while True:
        page = session.execute(
            select(*columns)
            .where(AccessCheckpoint.tree_size > after)
            .order_by(AccessCheckpoint.tree_size)
            .limit(batch_size)
        ).all()
        for row in page:
            yield view(row)
        if len(page) < batch_size:
            return
        after = page[-1].tree_size


def public_keys(jwks: Mapping[str, Any]) -> dict[str, Ed25519PublicKey]:
    """Return the Ed25519 keys of a JWK Set by key id."""
    keys: dict[str, Ed25519PublicKey] = {}
    for jwk in jwks.get("keys", []):
        if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519" and "kid" in jwk:
            raw = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
            keys[str(jwk["kid"])] = Ed25519PublicKey.from_public_bytes(raw)
    return keys


def signature_problem(
    checkpoint: CheckpointView, keys: Mapping[str, Ed25519PublicKey]
) -> str | None:
    """Say why a checkpoint's signature does not hold, or return None when it does."""
    key = keys.get(checkpoint.kid)
    if key is None:
        return f"it names signing key {checkpoint.kid!r}, which the JWKS does not publish"
    try:
        key.verify(checkpoint.signature, checkpoint.note)
    except InvalidSignature:
        return (
            f"its signature does not verify under key {checkpoint.kid}: its size, root or "
            "time was changed, or it was never signed by Emanet"
        )
    return None
