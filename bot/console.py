"""The CLI's output and its one error policy: a person's mistake is one line and exit 1, never a
traceback (``friendly``), for every ``signoff`` command."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError

from storage.errors import SignoffError

out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)  # one line per error, however narrow the terminal

P = ParamSpec("P")
R = TypeVar("R")


def first_line(exc: BaseException) -> str:
    """A driver error's first line (SQLAlchemy appends the SQL and a link on the next ones)."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def fail(message: str) -> typer.Exit:
    """Every problem on a line of its own, each starting ``error:``; then exit 1."""
    for line in message.splitlines() or [message]:
        err.print(Text.assemble(("error:", "red"), " ", line))
    return typer.Exit(1)


def friendly(func: Callable[P, R]) -> Callable[P, R]:
    """signoff's own errors, unreachable services and database errors become one line on stderr
    and exit 1."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except SignoffError as exc:
            raise fail(exc.message) from None
        except SQLAlchemyError as exc:
            raise fail(f"database: {first_line(exc)}") from None
        except OSError as exc:
            raise fail(str(exc)) from None

    return wrapper
