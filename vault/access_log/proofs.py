"""Inclusion and consistency proofs (RFC 9162 §2.1.3, §2.1.4) from the stored tree.

`inclusion_bundle` is what a customer downloads: everything needed to check, with nothing but
SHA-256, Ed25519 and the published JWKS, that one event of theirs is in the signed log.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vault.access_log.checkpoints import CheckpointView, b64, latest_checkpoint, view
from vault.access_log.leaves import RAW_SEALED_SELECT, entry_bytes
from vault.access_log.merkle import consistency_path, inclusion_path
from vault.access_log.models import AccessCheckpoint, AccessEvent
from vault.access_log.store import SubtreeStore

BUNDLE_FORMAT = "emanet-inclusion-proof/1"


def inclusion_proof(session: Session, leaf_index: int, tree_size: int) -> list[bytes]:
    """Return the audit path of a sealed leaf in the tree of `tree_size` leaves."""
    return inclusion_path(leaf_index, tree_size, SubtreeStore(session).perfect)


def consistency_proof(session: Session, first_size: int, second_size: int) -> list[bytes]:
    """Return the proof that the tree of `first_size` leaves is a prefix of the second."""
    return consistency_path(first_size, second_size, SubtreeStore(session).perfect)


def checkpoint_of_size(session: Session, tree_size: int) -> CheckpointView | None:
    """Return the checkpoint signed at exactly this tree size, if there is one."""
    row = session.get(AccessCheckpoint, tree_size)
    return view(row) if row is not None else None


def provable_below(session: Session) -> int:
    """Return how many leaves the newest checkpoint covers: events below it have a proof."""
    latest = latest_checkpoint(session)
    return latest.tree_size if latest is not None else 0


def inclusion_bundle(
    session: Session,
    seq: int,
    *,
    customer_id: uuid.UUID | None,
    jwks_uri: str,
) -> dict[str, Any] | None:
    """Return the proof that event `seq` is in the log under the newest checkpoint.

    None when the event does not exist, is not the customer's (when a customer is given), is
    not sealed yet or no checkpoint covers it yet.
    """
    query = select(*RAW_SEALED_SELECT).where(AccessEvent.seq == seq)
    if customer_id is not None:
        query = query.where(AccessEvent.customer_id == customer_id)
    event = session.execute(query).first()
    if event is None or event.chain_position is None or event.entry_hash is None:
        return None
    checkpoint = latest_checkpoint(session)
    index = event.chain_position
    if checkpoint is None or not 0 <= index < checkpoint.tree_size:
        return None
    path = inclusion_proof(session, index, checkpoint.tree_size)
    return {
        "format": BUNDLE_FORMAT,
        "hashing": "RFC 9162 §2.1 with SHA-256: leaf hash = SHA-256(0x00 || leaf), "
        "node hash = SHA-256(0x01 || left || right); base64 is standard, with padding",
        "seq": event.seq,
        "leaf_index": index,
        "tree_size": checkpoint.tree_size,
        "leaf": entry_bytes(event, index).decode("utf-8"),
        "leaf_hash": b64(event.entry_hash),
        "audit_path": [b64(node) for node in path],
        "checkpoint": checkpoint.as_json(),
        "kid": checkpoint.kid,
        "jwks_uri": jwks_uri,
    }
