"""SQLAlchemy engines and session factories for SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 15_000


class WriterQueue:
    """First come, first served admission of writers to SQLite's single write lock.

    SQLite's busy handler polls, so under a steady stream of writers a waiting one can lose
    every race; a revocation must not wait behind reads that began after it (invariant 5).
    """

    def __init__(self, timeout: float = SQLITE_BUSY_TIMEOUT_MS / 1000) -> None:
        self._turns: deque[object] = deque()
        self._held = False
        self._changed = threading.Condition()
        self._timeout = timeout

    def acquire(self) -> None:
        """Wait for this writer's turn."""
        ticket = object()
        with self._changed:
            self._turns.append(ticket)
            admitted = self._changed.wait_for(
                lambda: not self._held and self._turns[0] is ticket, timeout=self._timeout
            )
            if not admitted:
                self._turns.remove(ticket)
                self._changed.notify_all()
                raise TimeoutError("the database stayed busy; try again")
            self._turns.popleft()
            self._held = True

    def release(self) -> None:
        """Let the next writer in."""
        with self._changed:
            self._held = False
            self._changed.notify_all()


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite opens transactions lazily and on its own terms; take control so that a
    # writing unit of work can start with BEGIN IMMEDIATE and never fail on lock upgrade.
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    writers = WriterQueue()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        begin = connection.get_execution_options().get("emanet_sqlite_begin", "BEGIN")
        if begin != "BEGIN":
            writers.acquire()
            connection.info["emanet_writer"] = True
        try:
            connection.exec_driver_sql(begin)
        except BaseException:
            _leave(connection.info)
            raise

    def _leave(info: dict[str, Any]) -> None:
        if info.pop("emanet_writer", False):
            writers.release()

    @event.listens_for(engine, "commit")
    def on_commit(connection: Any) -> None:
        _leave(connection.info)

    @event.listens_for(engine, "rollback")
    def on_rollback(connection: Any) -> None:
        _leave(connection.info)

    @event.listens_for(engine, "reset")
    def on_reset(_dbapi_connection: Any, record: Any, _state: Any) -> None:
        _leave(record.info)


def make_engine(url: str, **options: Any) -> Engine:
    """Create an engine for the URL, with the pragmas and pool settings Emanet relies on."""
    if url.startswith("sqlite"):
        # Connections to a file are cheap; capping them would make threads race for the pool
        # and undo the first-come order that WriterQueue gives writers.
        options.setdefault("pool_size", 8)
        options.setdefault("max_overflow", -1)
        engine = create_engine(url, connect_args={"check_same_thread": False}, **options)
        _configure_sqlite(engine)
        return engine
    options.setdefault("pool_pre_ping", True)
    # Few idle connections, a generous overflow: a thread that must wait for a connection
    # can lose every race for it, and a revocation must not wait (invariant 5).
    options.setdefault("pool_size", 5)
    options.setdefault("max_overflow", 45)
    return create_engine(url, **options)


class Database:
    """One engine and the two session factories built on it: reading and writing."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        writer = engine.execution_options(emanet_sqlite_begin="BEGIN IMMEDIATE")
        self.read_sessions = sessionmaker(bind=engine, expire_on_commit=False)
        self.write_sessions = sessionmaker(bind=writer, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str, **options: Any) -> Database:
        """Open the database at the URL."""
        return cls(make_engine(url, **options))

    def session(self, *, write: bool) -> Session:
        """Open a session; a writing one on SQLite takes the write lock when it begins."""
        return (self.write_sessions if write else self.read_sessions)()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
