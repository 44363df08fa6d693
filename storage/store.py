"""The base every store shares: an engine, an injectable clock, and one way to open a transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import (
    Connection,
    Engine,
)

Clock = Callable[[], datetime]

WRITE_FLAG = "signoff_write"
"""Key in a pooled connection's ``info``, set by ``transaction()`` just before its BEGIN: this
transaction will write (the SQLite dialect pops it to choose ``BEGIN IMMEDIATE``)."""


def new_id() -> str:
    return uuid.uuid4().hex


class Store:
    """Engine and clock; the stores built on it only ever write inside ``transaction()``."""

    engine: Engine
    clock: Clock

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction (on SQLite it takes the write lock at BEGIN; plain reads do not)."""
        with self.engine.connect() as conn:
            conn.connection.info[WRITE_FLAG] = True
            with conn.begin():
                yield conn
