"""Opaque pagination cursors and the query parameters that come with them."""

from __future__ import annotations

import base64
import json
from datetime import datetime

from flask import request

from broker.api.problems import Problem

MAX_LIMIT = 500


def encode_cursor(*parts: str) -> str:
    """Pack a position into an opaque, URL-safe string."""
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[str]:
    """Unpack a cursor made by `encode_cursor`, or raise a 400 problem."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(parts, list) or len(parts) != size:
            raise ValueError
        if not all(isinstance(p, str) for p in parts):
            raise ValueError
        return parts
    except ValueError:
        raise Problem(400, "invalid-cursor", "The cursor is not one this API gave out") from None


def limit_arg(default: int = 100) -> int:
    """Read `limit` (1..500)."""
    raw = request.args.get("limit")
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise Problem(400, "invalid-limit", f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


def since_arg() -> datetime | None:
    """Read `updated_since` (an ISO 8601 time with its offset)."""
    raw = request.args.get("updated_since")
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise Problem(
            400,
            "invalid-updated-since",
            "updated_since must be an ISO 8601 time with an offset, e.g. 2026-11-01T00:00:00Z",
        )
    return moment
