"""A thread-safe record of which test tools ran with which arguments, reset around every test.

Modules that use it import ``reset_calls`` too, so the autouse fixture applies to them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

CALLS: list[tuple[str, dict[str, Any]]] = []
_lock = threading.Lock()


def record(name: str, **args: Any) -> None:
    with _lock:
        CALLS.append((name, args))


def calls_of(name: str) -> list[dict[str, Any]]:
    return [args for n, args in CALLS if n == name]


@pytest.fixture(autouse=True)
def reset_calls() -> Iterator[None]:
    CALLS.clear()
    yield
    CALLS.clear()
