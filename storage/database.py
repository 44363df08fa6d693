"""``Database``: the one object that reads and writes signoff's tables.

Every state change is a single conditional UPDATE whose rowcount is checked, inside a transaction
that also appends the audit event, so a decision and its record land together or not at all.
On SQLite every write transaction starts with ``BEGIN IMMEDIATE`` (writers queue instead of
failing) and a read with a plain ``BEGIN`` (a snapshot that neither waits for nor blocks writers);
on PostgreSQL audit appends never wait for each other and are chained by a sealing step
(``storage.audit_log``), so the chain never forks.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Engine,
    create_engine,
    event,
    make_url,
    text,
)
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.exc import SQLAlchemyError

from storage.approvals import ApprovalStore
from storage.codec import utcnow
from storage.console_logins import ConsoleLoginStore
from storage.errors import ConfigError, SchemaBehind
from storage.executions import ExecutionStore
from storage.runs import RunStore
from storage.slack_messages import SlackStore
from storage.store import WRITE_FLAG, Clock, new_id
from storage.timeouts import SQLITE_BUSY_TIMEOUT_MS
from storage.tokens import TokenStore

__all__ = ["DEFAULT_URL", "Clock", "Database", "new_id"]

log = logging.getLogger(__name__)

DEFAULT_URL = "sqlite:///signoff.db"
"""The embedded default: a SQLite file in the working directory."""

MIGRATION_LOCK_KEY = 0x5169_0FE
"""PostgreSQL advisory lock id held while migrating, so concurrent upgrades take turns."""


def _normalise_url(url: str) -> str:
    """Plain ``postgresql://`` URLs mean psycopg 3 here (the driver we install)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class _SQLiteDialect(SQLiteDialect_pysqlite):
    """pysqlite with signoff's BEGIN. A write transaction (``Store.transaction``) takes the
    write lock at once, so writers queue (busy_timeout) instead of failing on a lock upgrade; a
    read only needs its snapshot (WAL: readers never wait for a writer, nor make one wait).

    A dialect method rather than a ``begin`` event: any connection event makes SQLAlchemy run
    its event machinery around every statement, about a third of a small query's cost."""

    supports_statement_cache = True
    """Nothing here changes how statements compile: SQLAlchemy may cache them as for pysqlite."""

    def do_begin(self, dbapi_connection: Any) -> None:
        write = dbapi_connection.info.pop(WRITE_FLAG, False)
        dbapi_connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")


registry.register("sqlite.signoff", __name__, "_SQLiteDialect")


def _make_engine(url: str) -> Engine:
    url = _normalise_url(url)
    if url.startswith("sqlite"):
        parsed = make_url(url)
        engine = create_engine(
            parsed.set(drivername="sqlite+signoff") if parsed.drivername in ("sqlite", "sqlite+pysqlite") else parsed,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # pysqlite opens no transaction of its own: ``_SQLiteDialect.do_begin`` does.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            if ":memory:" not in url:
                cursor.execute("PRAGMA journal_mode=WAL")
                # WAL with synchronous=NORMAL: a commit is not fsynced, the checkpoint is. A crash
                # of the process loses nothing; a power cut may lose the last commits (the file
                # stays consistent). The embedded default trades that for speed; PostgreSQL is
                # the choice where a power cut must not lose a decision (docs/benchmarks.md).
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Database(RunStore, ApprovalStore, ExecutionStore, SlackStore, TokenStore, ConsoleLoginStore):
    """All of signoff's SQL. Takes plain values, returns records; the clock is injectable.

    Each concern lives in its own store module (runs, requirements, approvals, executions,
    slack_messages, audit_log, tokens); this class only owns the engine and the schema's version.
    Building one does no I/O: :meth:`open` is what a process uses, and it checks the schema.
    """

    def __init__(self, url: str = DEFAULT_URL, *, clock: Clock = utcnow) -> None:
        self.url = _normalise_url(url)
        self.clock = clock
        self.engine = _make_engine(self.url)
        self._worker = f"{socket.gethostname()}:{os.getpid()}"

    @classmethod
    def open(cls, url: str = DEFAULT_URL, *, clock: Clock = utcnow, create: bool = True) -> Database:
        """A database whose schema is at this release's revision, or a ``SchemaBehind`` that says
        which command to run.

        The embedded SQLite default is created and migrated by the process that creates the file
        (``create``); an existing file, or PostgreSQL, is only checked: migrating a shared
        database is ``signoff db upgrade``'s job (under a lock), never a side effect of starting.
        """
        db = cls(url, clock=clock)
        path = db.sqlite_path()
        if path is not None and not create and not path.exists():
            raise ConfigError(
                "DATABASE_URL", f"there is no database at {path.resolve()}: check DATABASE_URL (nothing was created)"
            )
        if db.is_sqlite and create and db.sqlite_is_new():
            log.info("creating the embedded database %s", db.describe())
            db.upgrade()
            return db
        db.check_schema()
        return db

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def sqlite_path(self) -> Path | None:
        """The SQLite file, or None (PostgreSQL, or an in-memory database)."""
        database = self.engine.url.database
        if not self.is_sqlite or not database or database == ":memory:":
            return None
        return Path(database)

    def sqlite_is_new(self) -> bool:
        path = self.sqlite_path()
        return path is None or not path.exists() or path.stat().st_size == 0

    def describe(self) -> str:
        """Which database this is, for people: the SQLite file, or PostgreSQL's host and name."""
        path = self.sqlite_path()
        if path is not None:
            return f"SQLite file {path.resolve()}"
        if self.is_sqlite:
            return "in-memory SQLite"
        url = self.engine.url
        return f"PostgreSQL database {url.database!r} on {url.host or 'localhost'}:{url.port or 5432}"

    def upgrade(self, revision: str = "head") -> str | None:
        """Migrate to ``revision`` (``signoff db upgrade``). On PostgreSQL an advisory lock makes
        processes that upgrade at once take turns: the first migrates, the others find it done."""
        from storage.migrate import current, upgrade

        if not self.is_postgres:
            upgrade(self.engine, revision)
            return current(self.engine)
        with self.engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
            try:
                upgrade(self.engine, revision)
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
                conn.commit()
        return current(self.engine)

    def check_schema(self) -> None:
        """Raise ``SchemaBehind`` naming the command to run unless the schema is at head."""
        from storage.migrate import current, head

        try:
            found = current(self.engine)
        except SQLAlchemyError as exc:
            said = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0]
            raise SchemaBehind(self.describe(), None, head(), f"cannot be read ({said})") from None
        wanted = head()
        if found != wanted:
            raise SchemaBehind(self.describe(), found, wanted)

    def dispose(self) -> None:
        self.engine.dispose()

    def after_fork(self) -> None:
        """A forked worker must not reuse the parent's pooled connections."""
        self.engine.dispose(close=False)

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
