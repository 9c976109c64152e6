"""The names of the hash-chain era, kept for callers not yet moved to the Merkle tree.

New code imports from `sealer` (sealing), `verify` (verification) and `proofs`.
"""

from __future__ import annotations

from vault.access_log.sealer import (
    ChainHeadMissingError,
    TreeHeadMissingError,
    seal_batch,
    seal_pending,
)
from vault.access_log.verify import VerifyReport, verify_chain, verify_log

__all__ = [
    "ChainHeadMissingError",
    "TreeHeadMissingError",
    "VerifyReport",
    "seal_batch",
    "seal_pending",
    "verify_chain",
    "verify_log",
]
