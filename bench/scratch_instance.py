"""A throwaway Emanet instance for a benchmark: a scratch database, a keyring and a runtime.

Exports: `BENCH_ARGON2`, `Store`, `open_runtime`, `scratch_database`, `sqlite_url`.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy import make_url

from emanet import migrate
from emanet.bootstrap import Runtime, build_runtime
from emanet.database import make_engine
from emanet.settings import Settings
from vault.accounts.passwords import Argon2Cost
from vault.keys.local_keyring import LocalKeyring
from vault.keys.rotation import register_active_kek

__all__ = ["BENCH_ARGON2", "Store", "open_runtime", "scratch_database", "sqlite_url"]

# Argon2id at a cost set-up can afford thousands of times: password hashing is not what the
# benchmarks measure, and a sign-in checks a hash at the cost it was made with.
BENCH_ARGON2 = Argon2Cost(time_cost=1, memory_cost_kib=8192, parallelism=1)


@dataclass
class Store:
    """Where the run keeps its data."""

    url: str
    description: str
    is_sqlite: bool


def sqlite_url(directory: Path) -> str:
    """The URL of the run's SQLite file in `directory`."""
    return f"sqlite:///{directory / 'emanet.db'}"


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_admin(url: str, statement: str) -> None:
    with psycopg.connect(_libpq(url), autocommit=True) as connection:
        connection.execute(statement)


@contextmanager
def scratch_database(directory: Path) -> Iterator[Store]:
    """A new PostgreSQL database beside EMANET_BENCH_DATABASE_URL, or a SQLite file."""
    base = os.environ.get("EMANET_BENCH_DATABASE_URL")
    if not base:
        yield Store(
            sqlite_url(directory),
            "SQLite file in a temporary folder (WAL, synchronous=NORMAL, as Emanet sets it)",
            is_sqlite=True,
        )
        return
    name = f"emanet_bench_{secrets.token_hex(4)}"
    _pg_admin(base, f'CREATE DATABASE "{name}"')
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        yield Store(
            url,
            f"PostgreSQL: scratch database {name} beside EMANET_BENCH_DATABASE_URL "
            "(host " + str(make_url(base).host or "local socket") + "), dropped afterwards",
            is_sqlite=False,
        )
    finally:
        _pg_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def open_runtime(directory: Path, database_url: str | None = None) -> Runtime:
    """Migrate the database (by default a new SQLite file), make a keyring, build the runtime."""
    url = database_url or sqlite_url(directory)
    instance = directory / "instance"
    instance.mkdir()
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    settings = Settings(
        instance_dir=instance,
        database_url=url,
        secret_key="bench-secret-key-" + uuid.uuid4().hex,
        argon2=BENCH_ARGON2,
        mode="test",
    )
    LocalKeyring.create(settings.keyring_path)
    runtime = build_runtime(settings)
    register_active_kek(runtime.vault)
    return runtime
