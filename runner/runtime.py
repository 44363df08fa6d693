"""The dependencies a run needs (database, listeners), passed in or built once per process.

A worker configures it at start-up; a script that just calls ``agent.run`` gets the defaults
from the environment (``DATABASE_URL``, embedded SQLite otherwise).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

from runner.listener import RunListener
from storage.database import Database


@dataclass
class Runtime:
    db: Database
    listeners: list[RunListener] = field(default_factory=list)


_lock = threading.Lock()
_configured: Runtime | None = None
_defaults: dict[tuple[int, str], Runtime] = {}


def configure(db: Database, listeners: list[RunListener] | None = None) -> Runtime:
    """Install the process-wide runtime (the worker and the web app call this at start-up)."""
    global _configured
    _configured = Runtime(db=db, listeners=list(listeners or []))
    return _configured


def reset() -> None:
    global _configured
    _configured = None
    _defaults.clear()


def current() -> Runtime:
    if _configured is not None:
        return _configured
    url = os.environ.get("DATABASE_URL") or "sqlite:///signoff.db"
    key = (os.getpid(), url)
    with _lock:
        if key not in _defaults:
            _defaults[key] = Runtime(db=Database(url))
        return _defaults[key]
