"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from emanet import migrate
from emanet.database import make_engine
from emanet.schema import metadata
from tests.backends import PostgresBackend, SqliteBackend


def test_migrations_reach_head_and_match_the_models(
    backend: SqliteBackend | PostgresBackend, tmp_path: Path
) -> None:
    engine = make_engine(backend.empty(tmp_path))
    try:
        assert migrate.current_revision(engine) is None
        assert migrate.upgrade(engine) == migrate.head_revision(engine)
        assert migrate.upgrade(engine) == migrate.head_revision(engine)  # idempotent
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
        assert differences == []
    finally:
        engine.dispose()
