"""What a run needs from the outside (the database, its listeners, the model server, the default
approvers), passed in rather than configured globally.

A process builds one ``Runtime`` from its settings (the worker's container does, see
``bot.deps``) and hands it to the driver. A script that calls ``agent.run`` without one gets
``Runtime.default()``: built once from ``RuntimeSettings()`` (``DATABASE_URL`` or the embedded
SQLite file, which it says in one log line). ``using(runtime)`` makes a runtime the default for
the code inside a ``with`` block (tests, a job), and restores the previous one on the way out.
"""

from __future__ import annotations

import contextvars
import dataclasses
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from runner.approval import Reminders
from runner.listener import RunListener
from runner.settings import ModelDefaults, RuntimeSettings, runtime_settings
from storage.database import Database

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    db: Database
    listeners: list[RunListener] = field(default_factory=list)
    model_defaults: ModelDefaults | None = None
    """The model server for an ``OpenAIChat`` without arguments; None: the settings, read per run."""
    approvers: list[str] = field(default_factory=list)
    dependencies: dict[str, Any] | None = None
    """A script's ``dependencies=`` for this call's tools (``run``/``continue_run``), never stored."""
    """Default approvers (``SIGNOFF_APPROVERS``) for decisions made through this runtime."""
    reminders: Reminders | None = None
    """Default reminders and escalation (``SIGNOFF_REMIND_AFTER`` ...) for new requirements."""

    def models(self) -> ModelDefaults:
        return self.model_defaults if self.model_defaults is not None else runtime_settings().model_defaults()

    @classmethod
    def from_settings(cls, settings: RuntimeSettings, *, listeners: list[RunListener] | None = None) -> Runtime:
        return cls(
            db=Database.open(settings.database_url),
            listeners=list(listeners or []),
            model_defaults=settings.model_defaults(),
            approvers=list(settings.signoff_approvers),
        )

    @classmethod
    def for_database(cls, db: Database) -> Runtime:
        """A runtime on a database a script passed itself; the model from the settings, per run."""
        return cls(db=db, approvers=list(runtime_settings().signoff_approvers))

    def with_listeners(self, extra: list[RunListener]) -> Runtime:
        if not extra:
            return self
        return dataclasses.replace(self, listeners=[*self.listeners, *extra])


_current: contextvars.ContextVar[Runtime | None] = contextvars.ContextVar("signoff_runtime", default=None)
_lock = threading.Lock()
_databases: dict[tuple[int, str], Database] = {}
"""The script default's databases, one per process and URL (a forked child opens its own)."""


@contextmanager
def using(runtime: Runtime) -> Iterator[Runtime]:
    """Make ``runtime`` the default inside the block (this thread or task only)."""
    token = _current.set(runtime)
    try:
        yield runtime
    finally:
        _current.reset(token)


def scoped() -> Runtime | None:
    """The runtime of the enclosing ``using`` block, if any."""
    return _current.get()


def current() -> Runtime:
    """The runtime of the enclosing ``using`` block, else the script default from the settings
    (its database opened once per process and URL, and said in one log line)."""
    runtime = _current.get()
    if runtime is not None:
        return runtime
    settings = runtime_settings()
    key = (os.getpid(), settings.database_url)
    with _lock:
        db = _databases.get(key)
        if db is None:
            db = _databases[key] = Database.open(settings.database_url)
            log.info("signoff: runs are stored in the %s (set DATABASE_URL or pass db= to change it)", db.describe())
    return Runtime(db, [], None, list(settings.signoff_approvers))
