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
        with self.engine.begin() as conn:
            yield conn
