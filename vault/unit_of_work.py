"""One unit of work per use case: it commits as a whole or leaves nothing behind."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType

from sqlalchemy.orm import Session

from vault.accounts.passwords import Passwords
from vault.keys.data_keys import DataKeys
from vault.keys.provider import KeyProvider
from vault.orm import utc_now


class UnitOfWork:
    """A database session plus the keys and clock a use case works with."""

    def __init__(self, session: Session, vault: Vault) -> None:
        self.session = session
        self.keys: DataKeys = vault.data_keys
        self.passwords: Passwords = vault.passwords
        self.provider: KeyProvider = vault.provider
        self.issuer = vault.issuer
        self._clock = vault.clock
        self._committed = False

    def now(self) -> datetime:
        """Return the use case's idea of the current time (UTC)."""
        return self._clock()

    def commit(self) -> None:
        """Commit everything this use case wrote."""
        self.session.commit()
        self._committed = True

    def rollback(self) -> None:
        """Throw away everything this use case wrote."""
        self.session.rollback()

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # close() hands the connection back to the pool, which rolls back whatever was not
        # committed; an explicit rollback on a clean exit would only expire loaded objects.
        try:
            if exc_type is not None:
                self.session.rollback()
        finally:
            self.session.close()


class Vault:
    """What the vault's services need, built once by whoever wires the application."""

    def __init__(
        self,
        open_session: Callable[[bool], Session],
        provider: KeyProvider,
        data_keys: DataKeys,
        passwords: Passwords,
        clock: Callable[[], datetime] = utc_now,
        issuer: str = "http://127.0.0.1:5000",
    ) -> None:
        self.open_session = open_session
        self.issuer = issuer
        self.provider = provider
        self.data_keys = data_keys
        self.passwords = passwords
        self.clock = clock

    def unit_of_work(self, *, write: bool = True) -> UnitOfWork:
        """Start a unit of work; a writing one holds the write lock on SQLite."""
        return UnitOfWork(self.open_session(write), self)
