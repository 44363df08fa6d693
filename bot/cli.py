"""``signoff``: the command line. One-line errors and a non-zero exit, never a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import typer
from rich.console import Console

from bot.audit_cli import audit_app
from bot.settings import get_settings
from storage.errors import SignoffError

app = typer.Typer(
    help="signoff: human sign-off for AI agents, in Slack.", no_args_is_help=True, pretty_exceptions_enable=False
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")

err = Console(stderr=True, soft_wrap=True)  # one line per error, however narrow the terminal
F = TypeVar("F", bound=Callable[..., Any])


def friendly(func: F) -> F:
    """Turn signoff's own errors (and unreachable services) into one line on stderr and exit 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SignoffError as exc:
            err.print(f"[red]error:[/red] {exc.message}", highlight=False)
            raise typer.Exit(1) from None
        except OSError as exc:
            err.print(f"[red]error:[/red] {exc}", highlight=False)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


@db_app.command("upgrade")
@friendly
def db_upgrade(revision: str = typer.Argument("head", help="Alembic revision to upgrade to.")) -> None:
    """Create or migrate the tables (the web app and the worker also do this at start)."""
    from storage.database import Database
    from storage.migrate import current

    db = Database(get_settings().database_url, migrate=False)
    db.upgrade(revision)
    typer.echo(f"database at revision {current(db.engine)}")


@app.command()
@friendly
def worker(
    burst: bool = typer.Option(False, help="Exit when the queue is empty."),
    scheduler: bool = typer.Option(True, help="Also run RQ's scheduler (delayed jobs)."),
) -> None:
    """Run an RQ worker on signoff's queue."""
    from bot.worker import run_worker

    run_worker(get_settings(), burst=burst, with_scheduler=scheduler)


@app.command()
@friendly
def dev(port: int = typer.Option(3000, help="Port for the web app.")) -> None:
    """Start the web app and a worker together, for a local try-out."""
    from bot.dev import run_dev

    run_dev(get_settings(), port=port)


def main() -> None:
    try:
        app()
    except SignoffError as exc:
        err.print(f"[red]error:[/red] {exc.message}", highlight=False)
        sys.exit(1)
