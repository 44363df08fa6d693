"""``Database``: the one object that reads and writes signoff's tables.

Every state change is a single conditional UPDATE whose rowcount is checked, inside a transaction
that also appends the audit event, so a decision and its record land together or not at all.
On SQLite every transaction starts with ``BEGIN IMMEDIATE`` (writers queue instead of failing);
on PostgreSQL audit appends take a transaction-scoped advisory lock so the chain never forks.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    event,
    text,
)

from storage.approvals import ApprovalStore
from storage.codec import utcnow
from storage.executions import ExecutionStore
from storage.runs import RunStore
from storage.slack_surface import SlackStore
from storage.store import Clock, new_id
from storage.timeouts import SQLITE_BUSY_TIMEOUT_MS
from storage.tokens import TokenStore

__all__ = ["DEFAULT_URL", "Clock", "Database", "new_id"]

DEFAULT_URL = "sqlite:///signoff.db"
"""The embedded default: a SQLite file in the working directory."""


def _normalise_url(url: str) -> str:
    """Plain ``postgresql://`` URLs mean psycopg 3 here (the driver we install)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _make_engine(url: str) -> Engine:
    url = _normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy's "begin" event decide how a transaction starts.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            if ":memory:" not in url:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Database(RunStore, ApprovalStore, ExecutionStore, SlackStore, TokenStore):
    """All of signoff's SQL. Takes plain values, returns records; the clock is injectable.

    Each concern lives in its own store module (runs, requirements, approvals, executions,
    slack_surface, audit_log); this class only owns the engine and the migrations.
    """

    def __init__(self, url: str = DEFAULT_URL, *, clock: Clock = utcnow, migrate: bool = True) -> None:
        self.url = _normalise_url(url)
        self.clock = clock
        self.engine = _make_engine(self.url)
        self._worker = f"{socket.gethostname()}:{os.getpid()}"
        if migrate:
            self.upgrade()

    @classmethod
    def from_env(cls, *, clock: Clock = utcnow) -> Database:
        return cls(os.environ.get("DATABASE_URL") or DEFAULT_URL, clock=clock)

    def upgrade(self, revision: str = "head") -> None:
        """Run Alembic migrations up to ``revision`` (start-up and ``signoff db upgrade``)."""
        from storage.migrate import upgrade

        upgrade(self.engine, revision)

    def dispose(self) -> None:
        self.engine.dispose()

    def after_fork(self) -> None:
        """A forked worker must not reuse the parent's pooled connections."""
        self.engine.dispose(close=False)

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
