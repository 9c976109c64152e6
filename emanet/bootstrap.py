"""Build the database, key provider and vault from settings, refusing unsafe starts."""

from __future__ import annotations

import logging
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect, select

from emanet.database import Database
from emanet.settings import Settings
from vault.accounts.passwords import Argon2Cost, Passwords
from vault.keys.data_keys import DataKeys
from vault.keys.dek_cache import DekCache
from vault.keys.local_keyring import HOW_TO_RESTORE, LocalKeyring
from vault.keys.models import CustomerKey, KekRecord
from vault.keys.provider import KeyProvider, KeyringError
from vault.unit_of_work import Vault

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """What one process needs to serve Emanet: settings, database and vault."""

    settings: Settings
    database: Database
    vault: Vault

    def close(self) -> None:
        """Release database connections."""
        self.database.dispose()


def configure_logging(level: int = logging.INFO) -> None:
    """Log to stderr in one plain format."""
    if not logging.getLogger().handlers:
        logging.basicConfig(
            stream=sys.stderr,
            level=level,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
    logging.getLogger("alembic").setLevel(logging.WARNING)


def open_key_provider(settings: Settings) -> KeyProvider:
    """Open the configured key provider; never creates keys."""
    return LocalKeyring(settings.keyring_path)


def ensure_secret_key(settings: Settings) -> str:
    """Return the Flask secret key: from the environment, or the instance folder's file."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.secret_key_path
    if not path.exists():
        raise KeyringError(
            f"No secret key: set EMANET_SECRET_KEY or run `emanet init` to create {path}."
        )
    return path.read_text().strip()


def write_secret_key(path: Path) -> bool:
    """Create the instance's secret key file (mode 0600) unless it exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")
    return True


def check_keyring_matches(database: Database, provider: KeyProvider) -> None:
    """Refuse to run when the database names KEKs this keyring does not hold."""
    if not inspect(database.engine).has_table(KekRecord.__tablename__):
        return
    held = {info.kek_id for info in provider.list_keks()}
    with database.session(write=False) as session:
        named = set(session.scalars(select(KekRecord.kek_id)))
        named |= set(session.scalars(select(CustomerKey.kek_id).distinct()))
    missing = sorted(named - held)
    if missing:
        raise KeyringError(
            "The keyring does not hold the keys this database was encrypted with "
            f"({', '.join(missing)}). {HOW_TO_RESTORE}"
        )


def database_has_keys(database: Database) -> bool:
    """Tell whether the database already holds wrapped data keys or registered KEKs."""
    if not inspect(database.engine).has_table(KekRecord.__tablename__):
        return False
    with database.session(write=False) as session:
        return session.scalar(select(KekRecord.kek_id).limit(1)) is not None


def build_runtime(settings: Settings, *, argon2: Argon2Cost | None = None) -> Runtime:
    """Open everything a process needs, checking the keyring against the database."""
    database = Database.from_url(settings.database_url)
    try:
        provider = open_key_provider(settings)
        check_keyring_matches(database, provider)
    except Exception:
        database.dispose()
        raise
    vault = Vault(
        open_session=lambda write: database.session(write=write),
        provider=provider,
        data_keys=DataKeys(
            provider, DekCache(settings.dek_cache_size, settings.dek_cache_ttl_seconds)
        ),
        passwords=Passwords(argon2 or settings.argon2),
        issuer=settings.issuer,
    )
    return Runtime(settings, database, vault)
