"""``signoff audit export`` and ``signoff audit verify``: the audit log for compliance.

Both stream: the export writes each batch of rows as it is read from the database
(``AUDIT_READ_BATCH`` rows, straight from the stored columns), and verify reads the database the
same way or an export line by line, so neither holds the log in memory. The formats and what
verify can prove about a filtered (partial) export are described in :mod:`storage.export`.

Exit codes: 0 when the chain (or each row of a filtered export) matches, 1 with one line on
stderr naming the first row that does not, or when the database or file cannot be read.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import typer

from bot.console import err, friendly, out
from bot.settings import load_settings
from storage.database import Database
from storage.errors import AuditChainBroken, SignoffError
from storage.export import FORMATS, ExportCount, Verification, export_database, verify_database, verify_lines

audit_app = typer.Typer(help="Export and verify the hash-chained audit log.", no_args_is_help=True)

def parse_when(value: str | None, option: str) -> datetime | None:
    """ISO 8601 date or date-time; without a zone it is UTC."""
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise SignoffError(f"{option}: {value!r} is not an ISO 8601 date or time, e.g. 2026-11-01 or "
                           "2026-11-01T12:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _database() -> Database:
    """The configured database as it is: never created here (an empty one would verify as OK)."""
    return Database.open(load_settings().database_url, create=False)


def audit_filters(since: datetime | None, until: datetime | None, agent: str | None,
                  actor: str | None) -> dict[str, str]:
    """The filters as an export header records them (only those given)."""
    values = {
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "agent": agent,
        "actor": actor,
    }
    return {k: v for k, v in values.items() if v is not None}


@audit_app.command("export")
@friendly
def export(
    format: str = typer.Option("jsonl", "--format", "-f", help="csv (for people) or jsonl (verifiable)."),
    since: str | None = typer.Option(None, help="Only events at or after this ISO 8601 time (UTC if no zone)."),
    until: str | None = typer.Option(None, help="Only events before this ISO 8601 time."),
    agent: str | None = typer.Option(None, help="Only events of this agent id."),
    actor: str | None = typer.Option(None, help="Only events by this actor id (e.g. a Slack user id)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
) -> None:
    """Stream the audit log as CSV or JSONL. A filtered JSONL export says so in its header."""
    if format not in FORMATS:
        raise SignoffError(f"--format must be one of {', '.join(FORMATS)}, not {format!r}")
    start, end = parse_when(since, "--since"), parse_when(until, "--until")
    db = _database()
    try:
        count = ExportCount()
        query = {"since": start, "until": end, "agent_id": agent, "actor_id": actor}
        chunks = export_database(db, format, query=query, filters=audit_filters(start, end, agent, actor), count=count)
        if output is None:
            _write(sys.stdout, chunks)
            sys.stdout.flush()
        else:
            with output.open("w", encoding="utf-8", newline="") as handle:
                _write(handle, chunks)
            err.print(f"exported {count.rows} events to {output}")
    finally:
        db.dispose()


def _write(handle: IO[str], chunks: Iterator[str]) -> None:
    for chunk in chunks:
        handle.write(chunk)


def _file_lines(path: Path) -> Iterator[str]:
    if str(path) == "-":
        yield from sys.stdin
        return
    with path.open("r", encoding="utf-8") as handle:
        yield from handle


@audit_app.command("verify")
@friendly
def verify(
    file: Path | None = typer.Argument(
        None, help="A JSONL export to check offline ('-' for stdin); without it, the database is checked."
    ),
) -> None:
    """Recompute the hash chain and name the first row that does not match."""
    result: Verification
    if file is None:
        db = _database()
        try:
            result = verify_database(db)
        finally:
            db.dispose()
    else:
        if str(file) != "-" and not file.is_file():
            raise SignoffError(f"no such file: {file}")
        result = verify_lines(_file_lines(file))
    if not result.ok:
        where = f" (line {result.line} of {file})" if result.line is not None else ""
        if result.seq is not None:
            raise AuditChainBroken(result.seq, f"{result.reason}{where}")
        raise SignoffError(f"audit chain broken: {result.reason}{where}")
    out.print(result.summary())
