"""KEK rotation: rewrap every data key in batches while the app serves, then retire old KEKs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from vault.access_log.services import LogEntry, append_event
from vault.keys.aead import associated_data
from vault.keys.models import KekRecord
from vault.keys.provider import KekInfo, WrappedKey
from vault.orm import Base
from vault.unit_of_work import Vault

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


class RotationConflictError(RuntimeError):
    """Two rotations ran at once; the later one won and this one stopped."""


@dataclass(frozen=True)
class KekUsage:
    """A key-encryption key, whether the keyring holds it, and how many data keys it wraps."""

    kek_id: str
    created_at: datetime | None
    active: bool
    in_keyring: bool
    registered: bool
    data_keys: int


@dataclass
class RotationReport:
    """What a rotation did."""

    new_kek_id: str
    rewrapped: int = 0
    retired: list[str] = field(default_factory=list)
    still_in_use: list[str] = field(default_factory=list)


def key_status(vault: Vault) -> list[KekUsage]:
    """Describe every KEK known to the keyring or the database."""
    in_keyring: dict[str, KekInfo] = {info.kek_id: info for info in vault.provider.list_keks()}
    counts: dict[str, int] = {}
    with vault.unit_of_work(write=False) as uow:
        registered = set(uow.session.scalars(select(KekRecord.kek_id)))
        for table in wrapped_key_tables():
            rows = uow.session.execute(
                select(table.c.kek_id, func.count()).group_by(table.c.kek_id)
            )
            for kek_id, count in rows:
                counts[kek_id] = counts.get(kek_id, 0) + count
    usages = []
    for kek_id in sorted(set(in_keyring) | registered | set(counts)):
        info = in_keyring.get(kek_id)
        usages.append(
            KekUsage(
                kek_id=kek_id,
                created_at=info.created_at if info else None,
                active=bool(info and info.active),
                in_keyring=info is not None,
                registered=kek_id in registered,
                data_keys=counts.get(kek_id, 0),
            )
        )
    return sorted(usages, key=lambda u: (u.created_at is None, u.created_at, u.kek_id))


def register_active_kek(vault: Vault) -> str:
    """Make sure the database knows the active KEK (idempotent)."""
    with vault.unit_of_work() as uow:
        kek_id = uow.keys.register_kek(uow.session, vault.provider.active_kek_id, uow.now())
        uow.commit()
    return kek_id


def rotate_kek(
    vault: Vault, *, retire: bool = True, batch_size: int = 500, progress: Progress | None = None
) -> RotationReport:
    """Create a new KEK, rewrap every data key under it, and optionally retire the old ones.

    The new key is registered in the database before it becomes active, so a data key wrapped
    by any process can always name a registered KEK. Each batch is its own short transaction.
    Every table of wrapped keys is rewrapped: customers' data keys and businesses' keys.
    """
    provider = vault.provider
    new_kek_id = provider.add_kek()
    with vault.unit_of_work() as uow:
        uow.keys.register_kek(uow.session, new_kek_id, uow.now())
        uow.commit()
    provider.activate_kek(new_kek_id)
    report = RotationReport(new_kek_id=new_kek_id)
    tables = wrapped_key_tables()
    with vault.unit_of_work(write=False) as uow:
        total = sum(
            uow.session.scalar(
                select(func.count()).select_from(table).where(table.c.kek_id != new_kek_id)
            )
            or 0
            for table in tables
        )
    for table in tables:
        _rewrap_table(vault, table, new_kek_id, batch_size, report, total, progress)
    log.info("rewrapped %d data keys under %s", report.rewrapped, new_kek_id)
    with vault.unit_of_work() as uow:
        append_event(
            uow,
            LogEntry(
                kind="keys.rotated",
                actor="operator",
                detail=f"{new_kek_id} rewrapped {report.rewrapped}",
            ),
        )
        uow.commit()
    if retire:
        report.retired, report.still_in_use = retire_unused_keks(vault)
    return report


def wrapped_key_tables() -> list[Table]:
    """Return every table of keys wrapped by a KEK: mapped classes naming a `__dek_context__`."""
    tables = []
    for mapper in Base.registry.mappers:
        context = getattr(mapper.class_, "__dek_context__", None)
        if context is not None:
            table = mapper.local_table
            assert isinstance(table, Table)
            table.info["dek_context"] = context
            tables.append(table)
    return sorted(tables, key=lambda t: t.name)


def _rewrap_table(
    vault: Vault,
    table: Table,
    new_kek_id: str,
    batch_size: int,
    report: RotationReport,
    total: int,
    progress: Progress | None,
) -> None:
    provider = vault.provider
    (owner,) = table.primary_key.columns
    while True:
        if provider.active_kek_id != new_kek_id:
            raise RotationConflictError(
                f"Another rotation made {provider.active_kek_id} active while this one was "
                f"rewrapping under {new_kek_id}; run `emanet keys rotate` again when it ends."
            )
        with vault.unit_of_work() as uow:
            rows = uow.session.execute(
                select(owner, table.c.kek_id, table.c.wrapped_dek)
                .where(table.c.kek_id != new_kek_id)
                .order_by(owner)
                .limit(batch_size)
            ).all()
            if not rows:
                return
            for owner_id, kek_id, blob in rows:
                aad = associated_data(table.info["dek_context"], owner_id)
                dek = provider.unwrap(WrappedKey(kek_id, blob), aad)
                rewrapped = provider.wrap(dek, aad)
                # Conditional on the old wrapping: a row changed meanwhile is simply revisited.
                uow.session.execute(
                    update(table)
                    .where(owner == owner_id, table.c.kek_id == kek_id)
                    .values(
                        kek_id=rewrapped.kek_id, wrapped_dek=rewrapped.blob, wrapped_at=uow.now()
                    )
                )
            uow.commit()
        report.rewrapped += len(rows)
        if progress:
            progress(report.rewrapped, max(total, report.rewrapped))


def retire_unused_keks(vault: Vault) -> tuple[list[str], list[str]]:
    """Destroy every non-active KEK that wraps no data key; return (retired, still in use)."""
    provider = vault.provider
    active = provider.active_kek_id
    retired: list[str] = []
    in_use: list[str] = []
    for info in provider.list_keks():
        if info.kek_id == active:
            continue
        # Deleting the registry row first lets the database's foreign key decide atomically
        # whether any data key still names this KEK; only then is the key itself destroyed.
        try:
            with vault.unit_of_work() as uow:
                uow.session.execute(delete(KekRecord).where(KekRecord.kek_id == info.kek_id))
                uow.commit()
        except IntegrityError:
            in_use.append(info.kek_id)
            continue
        provider.remove_kek(info.kek_id)
        retired.append(info.kek_id)
        log.info("retired key-encryption key %s", info.kek_id)
    return retired, in_use
