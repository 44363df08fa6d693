"""The audit log as a streamed download, for the REST API and the console alike."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.responses import StreamingResponse

from storage.database import Database
from storage.export import export_database


def export_response(db: Database, fmt: str, query: dict[str, Any], applied: dict[str, Any],
                    now: datetime) -> StreamingResponse:
    """Stream the events ``query`` selects (``Database.audit_events`` keywords) as CSV or JSONL;
    ``applied`` is what the export's header records as its filters. Constant memory: one batch
    of stored rows at a time, sent as one chunk."""
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson"
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    return StreamingResponse(
        export_database(db, fmt, query=query, filters=applied),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="signoff-audit-{stamp}.{fmt}"'},
    )
