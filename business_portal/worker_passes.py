"""The business portal's jobs in each round of `emanet worker`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from business_portal.customers.search_index import refresh_all_search_indexes
from business_portal.records.retention import run_retention
from business_portal.segments.services import recompute_all_segments
from vault.unit_of_work import Vault

log = logging.getLogger(__name__)

# Retention is measured in days; looking every few minutes is prompt enough and cheap.
RETENTION_EVERY_SECONDS = 300.0
# Scores move with purchases over weeks; hourly keeps them fresh without rereading all day.
SEGMENTS_EVERY_SECONDS = 3600.0


def every(seconds: float, job: Callable[[Vault], None]) -> Callable[[Vault], None]:
    """Run `job` at most once per `seconds` (on the first call at once)."""
    last: list[float] = []

    def throttled(vault: Vault) -> None:
        now = time.monotonic()
        if last and now - last[0] < seconds:
            return
        last[:] = [now]
        job(vault)

    return throttled


def retention_pass(vault: Vault) -> None:
    """Delete the records whose retention has run out."""
    deletions = run_retention(vault)
    if deletions:
        log.info("retention: records of %d customers deleted", len(deletions))


def segments_pass(vault: Vault) -> None:
    """Recompute every business's RFM scores from its purchases (read through the gate)."""
    scored = recompute_all_segments(vault)
    if scored:
        log.info("segments: %d customers scored", sum(scored.values()))


def search_index_pass(vault: Vault) -> None:
    """Index what customers granted or changed since the last pass (through the gate)."""
    touched = refresh_all_search_indexes(vault)
    if touched:
        log.info("search index: %d agreements indexed", touched)


def portal_passes() -> list[Callable[[Vault], None]]:
    """Return the portal's jobs for one worker process."""
    return [
        search_index_pass,
        every(RETENTION_EVERY_SECONDS, retention_pass),
        every(SEGMENTS_EVERY_SECONDS, segments_pass),
    ]
