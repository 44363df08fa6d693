"""The audit log: filters, the chain's verification (the first bad row named), streamed exports.

Exports are for approvers only (``policy.is_approver``), CSV or JSONL through
``storage.export.export_lines`` exactly as the API streams them, and each export is itself
audited (``audit.exported``, via the console).
"""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from bot.web.console.common import PREFIX, Console
from bot.web.export import export_response
from storage.errors import InvalidInput
from storage.export import verify_rows
from storage.records import AuditEvent
from storage.timeouts import CONSOLE_LIST_LIMIT


def _when(value: str, name: str) -> datetime | None:
    text = value.strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{name}: use a date like 2026-01-31 or 2026-01-31T09:00", name) from None
    if not 1970 <= parsed.year <= 9000:
        raise InvalidInput(f"{name}: the year must be between 1970 and 9000", name)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def router(console: Console) -> APIRouter:
    r = APIRouter(prefix=PREFIX)
    deps = console.deps

    def filters_of(source: Any) -> dict[str, str]:
        return {k: str(source.get(k) or "").strip()[:128] for k in ("since", "until", "agent", "actor", "run")}

    def query(f: dict[str, str]) -> dict[str, Any]:
        return {
            "since": _when(f["since"], "since"),
            "until": _when(f["until"], "until"),
            "agent_id": f["agent"] or None,
            "actor_id": f["actor"] or None,
            "run_id": f["run"] or None,
        }

    def latest(q: dict[str, Any]) -> tuple[list[AuditEvent], int]:
        kept: deque[AuditEvent] = deque(maxlen=CONSOLE_LIST_LIMIT)
        total = 0
        for event in deps.db.audit_events(**q):
            kept.append(event)
            total += 1
        return list(reversed(kept)), total

    def verify() -> Any:
        return verify_rows(e.to_dict() for e in deps.db.audit_events())

    @r.get("/audit")
    async def audit_page(request: Request, verify_chain: str = "") -> Response:
        who = console.user(request)
        f = filters_of(request.query_params)
        context: dict[str, Any] = {"title": "Audit log", "filters": f, "can_export": console.is_approver(who)}
        try:
            events, total = await console.call(latest, query(f))
        except InvalidInput as exc:
            return console.render(request, "audit.html", context | {"events": [], "total": 0, "error": exc.message},
                                  status_code=422)
        if verify_chain:
            context["verification"] = await console.call(verify)
        return console.render(request, "audit.html", context | {"events": events, "total": total})

    @r.post("/audit/export")
    async def export(request: Request) -> Response:
        who = console.user(request)
        form = await console.form(request)
        if not await console.call(console.is_approver, who):
            await console.call(deps.db.append_audit, action="audit.export_refused", actor=who.actor,
                               outcome="not_an_approver", details={"via": "console"})
            return console.render(request, "error.html", {
                "title": "Refused", "message": "Only approvers can export the audit log."}, status_code=403)
        fmt = str(form.get("format") or "jsonl")
        if fmt not in ("csv", "jsonl"):
            fmt = "jsonl"
        f = filters_of(form)
        try:
            q = query(f)
        except InvalidInput as exc:
            return console.render(request, "error.html", {"title": "Export", "message": exc.message},
                                  status_code=422)
        applied = {
            "since": q["since"].isoformat() if q["since"] else None,
            "until": q["until"].isoformat() if q["until"] else None,
            "agent": q["agent_id"],
            "actor": q["actor_id"],
            "run": q["run_id"],
        }
        await console.call(deps.db.append_audit, action="audit.exported", actor=who.actor, outcome="streamed",
                           details={"via": "console", "format": fmt,
                                    "filters": {k: v for k, v in applied.items() if v}})

        return export_response(deps.db, fmt, q, applied, deps.clock())

    return r
