"""``/approvals export``: the audit log written to a temporary file, then sent to the requester.

Writing is blocking (SQL read in batches by ``db.audit_events``, each line formatted by
:mod:`storage.export` and written as soon as it is made), so the Slack handler runs
:func:`write_export` in ``asyncio.to_thread``; memory stays constant whatever the size of the log.
The file's SHA-256 is computed while it is written, so the audit event that records the export
names exactly what left the system.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.slack.commands import Export
from storage.export import export_lines


@dataclass(frozen=True)
class ExportFile:
    path: Path
    filename: str
    format: str
    rows: int
    bytes: int
    sha256: str

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)

    def record(self) -> dict[str, Any]:
        """What the ``audit.exported`` event keeps about the file."""
        return {"name": self.filename, "format": self.format, "rows": self.rows, "bytes": self.bytes,
                "sha256": self.sha256}


def export_filename(fmt: str, now: datetime) -> str:
    return f"signoff-audit-{now.strftime('%Y%m%dT%H%M%SZ')}.{fmt}"


def write_export(db: Any, cmd: Export, *, now: datetime, directory: str | None = None) -> ExportFile:
    """Blocking: stream the matching events into a new temporary file (the caller removes it)."""
    start, end = cmd.window()
    count = 0

    def rows() -> Iterator[dict[str, Any]]:
        nonlocal count
        for event in db.audit_events(since=start, until=end, agent_id=cmd.agent):
            count += 1
            yield event.to_dict()

    digest = hashlib.sha256()
    size = 0
    fd, name = tempfile.mkstemp(prefix="signoff-audit-", suffix=f".{cmd.format}", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            for line in export_lines(cmd.format, rows(), filters=cmd.filters()):
                handle.write(line)
                data = line.encode("utf-8")
                digest.update(data)
                size += len(data)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return ExportFile(Path(name), export_filename(cmd.format, now), cmd.format, count, size, digest.hexdigest())


def initial_comment(cmd: Export, export: ExportFile) -> str:
    """The message that comes with the file: what it holds and how to check it."""
    noun = "event" if export.rows == 1 else "events"
    lines = [f":page_facing_up: Audit log export: *{export.rows} {noun}*, {export.format.upper()}, {cmd.describe()}."]
    if export.format == "jsonl":
        lines.append(f"It carries the hash chain: `signoff audit verify {export.filename}` verifies it offline.")
        if cmd.filters():
            lines.append(
                "It is filtered: verify checks each row's own hash and the order, not the continuity of the "
                "chain across the rows left out. Export without filters to check the whole chain."
            )
    else:
        lines.append(
            "CSV is for reading (cells that look like formulas are neutralised); export `jsonl` to verify it "
            "with `signoff audit verify FILE`."
        )
    lines.append(f"SHA-256 of the file: `{export.sha256}`")
    return "\n".join(lines)
