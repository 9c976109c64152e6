"""The bytes of a log entry as a leaf of the Merkle tree.

A leaf is the event's columns as canonical JSON (sorted keys, no spaces, UTF-8 without
escaping, times as microsecond UTC, ids as dashed lowercase UUIDs), plus the leaf index the
sealer gave it: an event moved to another place in the tree no longer matches its leaf hash,
so verification names it. The sealer and the verifier read the columns as the database hands
them over (`RAW_SELECT`) and skip SQLAlchemy's type conversion, which costs more than hashing.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy import Row, String, Text, cast, type_coerce

from vault.access_log.merkle import leaf_hash
from vault.access_log.models import AccessEvent

# Listed rather than read from the table: a new column must not silently change the bytes of
# events sealed before it existed. A test checks this list against the table.
ENTRY_COLUMNS = (
    "seq",
    "at",
    "kind",
    "outcome",
    "actor",
    "customer_id",
    "business_id",
    "agreement_id",
    "purpose",
    "fields",
    "detail",
)
LEAF_INDEX_KEY = "leaf_index"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_UUID_COLUMNS = ("customer_id", "business_id", "agreement_id")


def _raw(name: str) -> Any:
    column = getattr(AccessEvent, name)
    if name in _UUID_COLUMNS:
        return cast(column, String).label(name)  # text on both backends, no uuid.UUID objects
    if name == "at":
        return type_coerce(column, String).label(name)  # SQLite: text; PostgreSQL: datetime
    if name == "fields":
        return type_coerce(column, Text).label(name)  # SQLite: JSON text; PostgreSQL: a list
    return column


ENTRY_SELECT = [getattr(AccessEvent, name) for name in ENTRY_COLUMNS]
RAW_SELECT = [_raw(name) for name in ENTRY_COLUMNS]
RAW_SEALED_SELECT = [*RAW_SELECT, AccessEvent.chain_position, AccessEvent.entry_hash]

# `default=repr`: a value no event holds (a blob a forger wrote) still encodes, and mismatches.
_dumps = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=repr
).encode


def _time(value: Any, seq: Any) -> str:
    if isinstance(value, str):
        # SQLite keeps UTC as "YYYY-MM-DD HH:MM:SS.ffffff"; anything else is parsed.
        if len(value) == 26 and value[10] == " ":
            return f"{value[:10]}T{value[11:]}Z"
        value = datetime.fromisoformat(value).replace(tzinfo=UTC)
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"event {seq} has no UTC time; the log keeps UTC")
    return value.astimezone(UTC).strftime(TIME_FORMAT)


def _uuid(value: Any) -> str | None:
    if value is None or isinstance(value, uuid.UUID):
        return None if value is None else str(value)
    text = str(value)
    if len(text) == 32:
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    return text


def _text(value: Any) -> str:
    return "null" if value is None else encode_basestring(value)


def entry_bytes(event: AccessEvent | Row[Any], leaf_index: int) -> bytes:
    """Encode an event's contents and its place in the tree canonically.

    Takes a mapped event, a row of `ENTRY_SELECT` or a row of `RAW_SELECT`: all give the
    same bytes for the same event.
    """
    if isinstance(event, Row) and event._fields[: len(ENTRY_COLUMNS)] == ENTRY_COLUMNS:
        values = tuple(event[: len(ENTRY_COLUMNS)])  # one unpacking, not eleven lookups
    else:
        values = tuple(getattr(event, name) for name in ENTRY_COLUMNS)
    seq, at, kind, outcome, actor, customer, business, agreement, purpose, fields, detail = values
    if isinstance(fields, str):
        fields = json.loads(fields)
    at, customer, business, agreement = (
        _time(at, seq),
        _uuid(customer),
        _uuid(business),
        _uuid(agreement),
    )
    simple = (
        type(seq) is int
        and type(leaf_index) is int
        and all(t is None or type(t) is str for t in (kind, outcome, actor, purpose, detail))
        and (fields is None or (type(fields) is list and all(type(f) is str for f in fields)))
    )
    if not simple:
        # Whatever a forger stored, it still has one canonical form.
        record = dict(zip(ENTRY_COLUMNS, values, strict=True))
        record.update(at=at, customer_id=customer, business_id=business, agreement_id=agreement)
        record.update(fields=fields, **{LEAF_INDEX_KEY: leaf_index})
        return _dumps(record).encode()
    listed = "null" if fields is None else "[" + ",".join(map(encode_basestring, fields)) + "]"
    # Keys in sorted order, exactly as json.dumps(sort_keys=True, separators=(",", ":")).
    return (
        f'{{"actor":{_text(actor)},"agreement_id":{_text(agreement)},"at":"{at}",'
        f'"business_id":{_text(business)},"customer_id":{_text(customer)},'
        f'"detail":{_text(detail)},"fields":{listed},"kind":{_text(kind)},'
        f'"{LEAF_INDEX_KEY}":{leaf_index},"outcome":{_text(outcome)},'
        f'"purpose":{_text(purpose)},"seq":{seq}}}'
    ).encode()


def event_leaf_hash(event: AccessEvent | Row[Any], leaf_index: int) -> bytes:
    """Return the RFC 9162 leaf hash of an event at this leaf index."""
    return leaf_hash(entry_bytes(event, leaf_index))
