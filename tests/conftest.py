"""Fixtures shared by every test: databases on both backends, settings, the vault."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from emanet.app import create_app
from emanet.bootstrap import Runtime, build_runtime
from emanet.settings import Settings
from tests.backends import PostgresBackend, SqliteBackend, require_postgresql
from vault.accounts.passwords import Argon2Cost
from vault.accounts.services import create_customer
from vault.keys.local_keyring import LocalKeyring
from vault.keys.rotation import register_active_kek
from vault.unit_of_work import Vault

# Argon2id still, with a cost a test suite can afford a thousand times.
TEST_ARGON2 = Argon2Cost(time_cost=1, memory_cost_kib=8192, parallelism=1)
TEST_PASSWORD = "a perfectly long test password"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SqliteBackend | PostgresBackend]:
    """Each database-backed test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        chosen: SqliteBackend | PostgresBackend = SqliteBackend(tmp_path_factory.mktemp("sqlite"))
    else:
        chosen = PostgresBackend(require_postgresql())
    yield chosen
    chosen.close()


@pytest.fixture
def database_url(backend: SqliteBackend | PostgresBackend, tmp_path: Path) -> Iterator[str]:
    url = backend.fresh(tmp_path)
    yield url
    backend.clean(url)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    instance = tmp_path / "instance"
    instance.mkdir()
    return Settings(
        instance_dir=instance,
        database_url=database_url,
        secret_key="test-secret-key-" + uuid.uuid4().hex,
        argon2=TEST_ARGON2,
        mode="test",
    )


@pytest.fixture
def keyring(settings: Settings) -> LocalKeyring:
    return LocalKeyring.create(settings.keyring_path)


@pytest.fixture
def runtime(settings: Settings, keyring: LocalKeyring) -> Iterator[Runtime]:
    built = build_runtime(settings)
    register_active_kek(built.vault)
    yield built
    built.close()


@pytest.fixture
def vault(runtime: Runtime) -> Vault:
    return runtime.vault


@pytest.fixture
def app(runtime: Runtime) -> Iterator[Flask]:
    """The whole app on the test's database and keyring."""
    application = create_app({"TESTING": True}, settings=runtime.settings)
    yield application
    application.extensions["emanet"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def make_customer(
    vault: Vault, email: str | None = None, profile: Mapping[str, object] | None = None
) -> uuid.UUID:
    """Create a customer with a unique e-mail unless one is given."""
    with vault.unit_of_work() as uow:
        return create_customer(
            uow,
            email or f"person-{uuid.uuid4().hex[:10]}@example.org",
            TEST_PASSWORD,
            profile=profile,
        )


@pytest.fixture
def customer_id(vault: Vault) -> uuid.UUID:
    return make_customer(vault)
