"""Pending decisions: the list, one request in full, deciding, and the live-refresh fingerprint.

Every decision goes through ``deps.service.decide`` as the signed-in person with the arguments
hash the page showed (``seen_hash``): same policy, same audit, and the Slack cards change through
the service's listeners. Buttons are shown only to people the policy lets decide; a forged POST
is refused by the service all the same (and audited as ``decision.refused``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from bot.web.api import status_for
from bot.web.console import forms
from bot.web.console.common import PREFIX, Console, pretty, safe_next, short
from runner.decisions import Action
from storage.errors import InvalidDecision, SignoffError
from storage.records import (
    Principal,
    RequirementKind,
    RequirementRecord,
    RunRecord,
    Surface,
)
from storage.redaction import redact
from storage.timeouts import CONSOLE_LIST_LIMIT

KIND_ACTIONS: dict[RequirementKind, tuple[Action, ...]] = {
    RequirementKind.CONFIRMATION: (Action.APPROVE, Action.REJECT, Action.EDIT),
    RequirementKind.STEP_CONFIRMATION: (Action.APPROVE, Action.REJECT),
    RequirementKind.USER_INPUT: (Action.ANSWER,),
    RequirementKind.STEP_USER_INPUT: (Action.ANSWER,),
    RequirementKind.STEP_ROUTE_SELECTION: (Action.ANSWER,),
    RequirementKind.STEP_ERROR: (Action.ANSWER,),
    RequirementKind.STEP_OUTPUT_REVIEW: (Action.APPROVE, Action.REJECT, Action.EDIT),
    RequirementKind.EXTERNAL_EXECUTION: (Action.DONE,),
}
DONE_MESSAGES = {
    Action.APPROVE: "Approved",
    Action.REJECT: "Rejected",
    Action.EDIT: "Edited and approved",
    Action.ANSWER: "Answered",
    Action.DONE: "Marked done",
}


@dataclass
class ReqView:
    """One request as a page shows it: masked, with what this person may do."""

    req: RequirementRecord
    run: RunRecord
    shown_args: dict[str, Any]
    full_text: str
    preview: str
    votes: int
    votes_total: int
    can_decide: bool
    actions: tuple[Action, ...]
    approvers: list[str]
    edit_fields: list[forms.FormField] = field(default_factory=list)
    input_fields: list[forms.FormField] = field(default_factory=list)
    vote_rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def kind_label(self) -> str:
        return self.req.kind.value.replace("_", " ")


def build_view(console: Console, req: RequirementRecord, run: RunRecord, who: Principal, *,
               detail: bool = False) -> ReqView:
    deps = console.deps
    service = deps.service
    declared = service.declared(run, req)
    shown = redact(req.current_args, declared) or {}
    full = pretty(shown)
    votes = votes_total = 0
    vote_rows: list[dict[str, Any]] = []
    if req.approval_type == "required":
        approval = deps.db.approval_for_requirement(req.id)
        if approval is not None:
            rows = deps.db.votes(approval.id)
            votes = len({v["voter"] for v in rows if v["args_hash"] == req.current_hash and v["vote"] == "approve"})
            votes_total = len(rows)
            vote_rows = [dict(v) | {"counts": v["args_hash"] == req.current_hash} for v in rows]
    can = req.is_pending and console.may_decide(req, who)
    view = ReqView(
        req=req,
        run=run,
        shown_args=shown,
        full_text=full,
        preview=short(json.dumps(shown, ensure_ascii=False, default=str), 240),
        votes=votes,
        votes_total=votes_total,
        can_decide=can,
        actions=KIND_ACTIONS.get(req.kind, ()) if can else (),
        approvers=list(req.approvers) or list(service.default_approvers),
        vote_rows=vote_rows,
    )
    if detail and can:
        fn = service.tool_for(run, req)
        if Action.EDIT in view.actions and fn is not None:
            view.edit_fields = forms.edit_fields(fn.parameters, req.current_args, declared)
        if Action.ANSWER in view.actions:
            view.input_fields = forms.input_fields(req.user_input_schema, declared)
    return view


def fingerprint(console: Console, run_id: str | None) -> dict[str, Any]:
    """What a page's content depends on, hashed: pending requests and their arguments and votes,
    and (on a run's page) the run's status and version. A change means "reload the content"."""
    db = console.deps.db
    parts: list[Any] = []
    for req in db.pending_requirements(limit=CONSOLE_LIST_LIMIT):
        parts.append([req.id, req.current_hash])
        if req.approval_type == "required":
            approval = db.approval_for_requirement(req.id)
            parts.append(len(db.votes(approval.id)) if approval else 0)
    if run_id:
        run = db.get_run(run_id)
        parts.append([run.status, run.version, run.round, str(run.updated_at)])
        parts.extend([r.id, r.status] for r in db.requirements_for_run(run_id))
    digest = hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]
    return {"fingerprint": digest, "pending": sum(1 for p in parts if isinstance(p, list) and len(p) == 2)}


def router(console: Console) -> APIRouter:
    r = APIRouter(prefix=PREFIX)
    deps = console.deps

    def pending_views(who: Principal, filters: dict[str, str], mine: bool) -> list[ReqView]:
        runs: dict[str, RunRecord] = {}
        views = []
        for req in deps.db.pending_requirements(limit=CONSOLE_LIST_LIMIT):
            run = runs.get(req.run_id) or deps.db.get_run(req.run_id)
            runs[run.id] = run
            if filters.get("agent") and run.target_id != filters["agent"]:
                continue
            if filters.get("tool") and (req.tool_name or "") != filters["tool"]:
                continue
            if filters.get("requester") and (req.requester or run.requester or "") != filters["requester"]:
                continue
            view = build_view(console, req, run, who)
            if mine and not view.can_decide:
                continue
            views.append(view)
        return views

    @r.get("/")
    async def pending_page(request: Request, agent: str = "", tool: str = "", requester: str = "",
                           mine: str = "") -> Response:
        who = console.user(request)
        filters = {"agent": agent[:128], "tool": tool[:255], "requester": requester[:128]}
        views = await console.call(pending_views, who, filters, bool(mine))
        return console.render(request, "pending.html", {
            "title": "Pending decisions", "views": views, "filters": filters, "mine": bool(mine),
            "agents": deps.registry.ids(), "live": f"{PREFIX}/live.json",
        })

    @r.get("/pending")
    async def pending_alias(request: Request) -> Response:
        return console.redirect(request, f"{PREFIX}/")

    def load_view(requirement_id: str, who: Principal) -> ReqView:
        req = deps.db.get_requirement(requirement_id)
        run = deps.db.get_run(req.run_id)
        return build_view(console, req, run, who, detail=True)

    def render_requirement(request: Request, view: ReqView, error: str | None = None, status_code: int = 200,
                           values: dict[str, Any] | None = None) -> Response:
        return console.render(request, "requirement.html", {
            "title": f"{view.req.tool_name or 'Step'}: {view.kind_label}", "v": view, "error": error,
            "values": values or {}, "live": f"{PREFIX}/live.json?run={view.run.id}",
        }, status_code=status_code)

    @r.get("/requirements/{requirement_id}")
    async def requirement_page(request: Request, requirement_id: str) -> Response:
        who = console.user(request)
        try:
            view = await console.call(load_view, requirement_id, who)
        except SignoffError as exc:
            return console.render(request, "error.html", {"title": "Not found", "message": exc.message},
                                  status_code=status_for(exc))
        return render_requirement(request, view)

    @r.post("/requirements/{requirement_id}/decide")
    async def decide(request: Request, requirement_id: str) -> Response:
        who = console.user(request)
        form = await console.form(request)
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        raw_action = values.get("action", "")
        try:
            action = Action(raw_action)
        except ValueError:
            action = None
        seen = values.get("seen_hash") or None
        note = (values.get("note") or "").strip() or None
        try:
            if action is None:
                raise InvalidDecision(f"unknown action {raw_action!r}")
            outcome = await console.call(run_decision, requirement_id, who, action, seen, note, values)
        except SignoffError as exc:
            try:
                view = await console.call(load_view, requirement_id, who)
            except SignoffError:
                return console.render(request, "error.html", {"title": "Refused", "message": exc.message},
                                      status_code=status_for(exc))
            return render_requirement(request, view, exc.message, status_for(exc), values)
        back = safe_next(values.get("next"), f"{PREFIX}/requirements/{requirement_id}")
        return console.redirect(request, back, outcome)

    def run_decision(requirement_id: str, who: Principal, action: Action, seen: str | None, note: str | None,
                     values: dict[str, str]) -> str:
        """Translate the form into the service's call, then word what happened."""
        req = deps.db.get_requirement(requirement_id)
        run = deps.db.get_run(req.run_id)
        declared = deps.service.declared(run, req)
        extra: dict[str, Any] = {}
        if action is Action.EDIT:
            fn = deps.service.tool_for(run, req)
            if fn is None:
                raise InvalidDecision(f"{req.tool_name} is no longer defined here: approve or reject it as it is")
            edits = forms.parse(values, forms.edit_fields(fn.parameters, req.current_args, declared),
                                req.current_args)
            if edits:
                extra["args"] = edits
            else:
                action = Action.APPROVE  # nothing changed: an approval of what was shown
        elif action is Action.ANSWER:
            extra["values"] = forms.parse(values, forms.input_fields(req.user_input_schema, declared))
        elif action is Action.DONE:
            extra["result"] = values.get("result", "")
        result = deps.service.decide(requirement_id, who, action, surface=Surface.CONSOLE, seen_hash=seen,
                                     note=note, **extra)
        label = req.tool_name or "the step"
        if result.escalated:
            return f"The edit needs an approver's sign-off: {label} now waits for the approvers."
        if not result.decided:
            return f"Vote recorded for {label}: {result.votes} of {result.quorum} approvals."
        return f"{DONE_MESSAGES[action]}: {label}."

    @r.get("/live.json")
    async def live(request: Request, run: str = "") -> Response:
        console.user(request)
        try:
            body = await console.call(fingerprint, console, run[:64] or None)
        except SignoffError as exc:
            return JSONResponse({"detail": exc.message}, status_code=status_for(exc))
        return JSONResponse(body)

    return r
