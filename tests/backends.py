"""Test databases: a SQLite file per test, or one PostgreSQL database emptied between tests.

Both are built from the models; tests/emanet/test_migrations.py checks that the migrations
build the very same schema.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import subprocess
from pathlib import Path

import psycopg
import pytest
from alembic import command
from sqlalchemy import Engine, make_url, text

from emanet.database import make_engine
from emanet.migrate import alembic_config
from emanet.schema import metadata

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_URL = os.environ.get("TEST_DATABASE_URL")


def require_postgresql() -> str:
    """Return the PostgreSQL URL, or skip (fail in CI) when there is none."""
    if PG_URL:
        return PG_URL
    message = "TEST_DATABASE_URL is not set, so the PostgreSQL run is skipped"
    if IN_CI:
        pytest.fail(message + " (CI=true requires it)")
    pytest.skip(message)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _admin(url: str, statement: str) -> None:
    with psycopg.connect(_libpq(url), autocommit=True) as connection:
        connection.execute(statement)


def create_pg_database(base_url: str, name: str) -> str:
    """Create an empty database beside the base one and return its URL."""
    _admin(base_url, f'CREATE DATABASE "{name}"')
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(base_url: str, name: str) -> None:
    """Drop a database created by the tests."""
    _admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def build_schema(engine: Engine) -> None:
    """Create every table from the models and mark the database as at the newest migration."""
    metadata.create_all(engine)
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.stamp(config, "head")


class SqliteBackend:
    """Migrates one SQLite file per session and copies it for each test."""

    name = "sqlite"

    def __init__(self, root: Path) -> None:
        self.template = root / "template.db"
        engine = make_engine(f"sqlite:///{self.template}")
        build_schema(engine)
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()

    def fresh(self, directory: Path) -> str:
        path = directory / "emanet.db"
        shutil.copyfile(self.template, path)
        return f"sqlite:///{path}"

    def empty(self, directory: Path) -> str:
        """Return the URL of a database with no tables at all."""
        return f"sqlite:///{directory / 'empty.db'}"

    def clean(self, url: str) -> None:
        """Nothing to do: each test has its own file."""

    def raw_bytes(self, url: str) -> bytes:
        """Return every byte SQLite keeps for this database, write-ahead log included."""
        path = Path(make_url(url).database or "")
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())

    def snapshot(self, url: str, directory: Path) -> str:
        """Copy the database as a backup would, and return the copy's URL."""
        copy = directory / f"snapshot-{secrets.token_hex(4)}.db"
        source = sqlite3.connect(make_url(url).database or "")
        target = sqlite3.connect(copy)
        with target:
            source.backup(target)
        source.close()
        target.close()
        return f"sqlite:///{copy}"

    def close(self) -> None:
        """Nothing to release."""


class PostgresBackend:
    """One migrated database per session, emptied after each test."""

    name = "postgresql"

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.database = f"emanet_test_{secrets.token_hex(4)}"
        self.url = create_pg_database(base_url, self.database)
        self.copies: list[str] = []
        engine = make_engine(self.url)
        build_schema(engine)
        engine.dispose()

    def fresh(self, directory: Path) -> str:
        return self.url

    def empty(self, directory: Path) -> str:
        """Return the URL of a new database with no tables at all."""
        name = f"{self.database}_empty_{secrets.token_hex(3)}"
        self.copies.append(name)
        return create_pg_database(self.base_url, name)

    def clean(self, url: str) -> None:
        engine = make_engine(url, poolclass=None)
        tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)  # not alembic_version
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} CASCADE"))
        engine.dispose()

    def raw_bytes(self, url: str) -> bytes:
        """Return a plain-text pg_dump of the database."""
        return subprocess.run(
            ["pg_dump", "--no-owner", _libpq(url)], check=True, capture_output=True
        ).stdout

    def snapshot(self, url: str, directory: Path) -> str:
        """Dump and restore into a new database, as a backup would; return its URL."""
        name = f"{self.database}_copy_{secrets.token_hex(3)}"
        copy_url = create_pg_database(self.base_url, name)
        self.copies.append(name)
        dump = self.raw_bytes(url)
        subprocess.run(
            ["psql", "--quiet", "-v", "ON_ERROR_STOP=1", _libpq(copy_url)],
            input=dump,
            check=True,
            capture_output=True,
        )
        return copy_url

    def close(self) -> None:
        for name in [*self.copies, self.database]:
            drop_pg_database(self.base_url, name)
