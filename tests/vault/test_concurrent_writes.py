"""Concurrent writes to one customer's fields from several threads lose no update."""

from __future__ import annotations

import threading
import uuid

from sqlalchemy import select

from vault.profile.models import ProfileFieldVersion
from vault.profile.services import field_history, get_field, set_field
from vault.unit_of_work import Vault

THREADS = 8
WRITES = 15


def test_concurrent_writes_to_one_customer_lose_no_update(
    vault: Vault, customer_id: uuid.UUID
) -> None:
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        start.wait()
        try:
            for write in range(WRITES):
                key = "work.job_title" if write % 2 else "contact.region"
                with vault.unit_of_work() as uow:
                    set_field(uow, customer_id, key, f"writer {number} write {write}")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with vault.unit_of_work(write=False) as uow:
        for key, per_writer in (("contact.region", 8), ("work.job_title", 7)):
            history = field_history(uow, customer_id, key)
            expected = {
                f"writer {n} write {w}"
                for n in range(THREADS)
                for w in range(WRITES)
                if (key == "work.job_title") == bool(w % 2)
            }
            assert len(expected) == THREADS * per_writer
            assert {v.value for v in history} == expected
            assert sorted(v.version for v in history) == list(range(1, len(expected) + 1))
            current = get_field(uow, customer_id, key)
            assert current is not None and current.value == history[0].value
        rows = uow.session.scalar(
            select(ProfileFieldVersion.version).order_by(ProfileFieldVersion.version.desc())
        )
        assert rows == THREADS * 8
