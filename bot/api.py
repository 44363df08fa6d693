"""The Approvals REST API: list, count, read and resolve approvals; read a run; export the audit log.

Every ``/api`` route needs ``Authorization: Bearer <token>`` with one of the tokens in
``SIGNOFF_API_TOKEN`` (compared in constant time). With no token configured the API is off and
says so (503) rather than being open.

A decision made here is the same decision as a Slack click: it goes through
``runner.decisions.resolve`` (policy, quorum, self-approval, expiry, one conditional UPDATE, the
audit event), then the run is resumed (``continue_run`` enqueued once per round) and the
requirement's Slack cards are updated (:func:`bot.cards_sync.sync_cards`). Every decision names
its actor (``resolved_by``); the token only says the caller may speak for them.

Status codes: 200 decided, 202 an approving vote recorded and the quorum not reached yet,
401 no or wrong token, 403 the actor may not decide it (not an approver, or the requester
approving their own request), 404 unknown id, 409 someone else decided first (the body says who),
410 expired, 422 a malformed body or a decision that does not fit the request, 503 API disabled.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response, Security
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from bot import cards_sync
from bot.deps import Deps
from runner import policy
from runner.decisions import Action, Outcome, resolve
from runner.queue import enqueue_continue
from storage import audit as audit_chain
from storage.errors import (
    AlreadyDecided,
    InvalidDecision,
    NotAnApprover,
    NotFound,
    RequirementExpired,
    SelfApproval,
)
from storage.export import export_lines
from storage.records import (
    Actor,
    ApprovalRecord,
    AuditEvent,
    RequirementKind,
    RequirementRecord,
    RequirementStatus,
    RunRecord,
    RunStatus,
)

log = logging.getLogger(__name__)

DISABLED = (
    "the REST API is disabled: no token is configured. Set SIGNOFF_API_TOKEN to one or more "
    "comma-separated bearer tokens, e.g. export SIGNOFF_API_TOKEN=$(openssl rand -hex 24)"
)
MAX_PAGE = 500

ApprovalStatus = Literal["pending", "approved", "rejected", "expired", "cancelled", "logged"]

bearer = HTTPBearer(auto_error=False, description="One of the tokens in SIGNOFF_API_TOKEN.")


# ----------------------------------------------------------------------------------- schemas


class ErrorOut(BaseModel):
    detail: str


class ConflictOut(ErrorOut):
    status: str = Field(description="What the requirement already is (approved, rejected, cancelled...).")
    decided_by: str | None = Field(None, description="Who decided first.")
    decided_at: datetime | None = None


class VoteOut(BaseModel):
    voter: str
    vote: str
    note: str | None = None
    created_at: datetime


class ApprovalOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"description": "A required (or audit-logged) tool call."})

    id: str
    run_id: str
    requirement_id: str | None = Field(description="None for an audit-only approval (the tool ran at once).")
    call_key: str
    approval_type: Literal["required", "audit"]
    agent_id: str | None
    tool_name: str
    tool_args: dict[str, Any] = Field(description="Arguments, with sensitive fields redacted.")
    args_hash: str = Field(description="SHA-256 of the canonical JSON of the arguments the decision is bound to.")
    requester: str | None
    status: ApprovalStatus
    quorum: int
    resolved_by: str | None
    resolved_at: datetime | None
    note: str | None
    created_at: datetime
    expires_at: datetime | None


class ApprovalDetail(ApprovalOut):
    votes: list[VoteOut] = Field(default_factory=list, description="Approving votes so far (quorum > 1).")
    approvers: list[str] = Field(default_factory=list, description="Who may decide (user and user-group ids).")


class ApprovalPage(BaseModel):
    items: list[ApprovalOut]
    total: int = Field(description="How many approvals match the filters, all pages together.")
    limit: int
    offset: int


class CountOut(BaseModel):
    count: int


class ResolveIn(BaseModel):
    """A decision on an approval. ``approved`` with ``args`` approves edited arguments.

    ``values`` and ``result`` are part of the schema (answers and hand-back results), but a
    ``required`` approval is always a confirmation (``@approval`` refuses tools that ask for
    input or are done by hand), so today they are refused with a 422 that says so."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["approved", "rejected"]
    resolved_by: str = Field(min_length=1, max_length=64, description="Who decides: a Slack user id.")
    resolved_by_name: str | None = Field(None, max_length=256)
    note: str | None = Field(None, max_length=3000, description="Reason; a rejection's reason reaches the agent.")
    values: dict[str, Any] | None = None
    result: Any = None
    args: dict[str, Any] | None = Field(None, description="Edited arguments (edit & approve).")


class ResolveOut(BaseModel):
    approval: ApprovalOut
    decided: bool = Field(description="False when a vote was recorded and the quorum is not reached yet.")
    votes: int
    quorum: int
    run_ready: bool = Field(description="Nothing of the run is pending any more: it is being resumed.")
    continue_job: str | None = Field(None, description="Id of the continue_run job enqueued, if any.")


class RequirementOut(BaseModel):
    id: str
    round: int
    kind: str
    tool_name: str | None
    tool_args: dict[str, Any]
    args_hash: str
    member_agent_name: str | None
    approval_type: str | None
    message: str | None
    status: str
    resolved_by: str | None
    resolved_by_name: str | None
    resolved_at: datetime | None
    note: str | None
    approvers: list[str]
    quorum: int
    created_at: datetime
    expires_at: datetime | None


class AuditEventOut(BaseModel):
    seq: int
    ts: str
    actor_kind: str
    actor_id: str | None
    actor_name: str | None
    action: str
    outcome: str | None
    run_id: str | None
    requirement_id: str | None
    agent_id: str | None
    tool_name: str | None
    arguments: Any
    reason: str | None
    permalink: str | None
    details: Any
    prev_hash: str
    hash: str


class RunOut(BaseModel):
    id: str
    kind: str
    target_id: str
    target_name: str
    status: str
    round: int
    requester: str | None
    requester_name: str | None
    input: str
    content: str | None
    error: str | None
    error_kind: str | None
    channel: str | None
    thread_ts: str | None
    created_at: datetime
    updated_at: datetime
    requirements: list[RequirementOut]
    approvals: list[ApprovalOut]
    audit: list[AuditEventOut]


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No or wrong bearer token."},
    503: {"model": ErrorOut, "description": "The API is disabled: SIGNOFF_API_TOKEN is not set."},
}


# ----------------------------------------------------------------------------------- helpers


def _error(code: int, detail: str, **extra: Any) -> JSONResponse:
    body = {"detail": detail, **{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in extra.items()}}
    return JSONResponse(body, status_code=code)


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _same_token(given: str, tokens: Sequence[str]) -> bool:
    matched = False
    for token in tokens:  # no early exit: the time taken does not say which token was close
        matched = hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8")) or matched
    return matched


class Api:
    """The endpoints' shared state: the deps, the directory for user groups, tool lookups."""

    def __init__(self, deps: Deps, directory: policy.Directory | None = None) -> None:
        self.deps = deps
        self.directory = directory or self._default_directory()

    def _default_directory(self) -> policy.Directory:
        if cards_sync.slack_configured(self.deps):
            from bot.directory import SlackDirectory
            from bot.notifier import make_web_client

            return SlackDirectory(make_web_client(self.deps.settings))
        return policy.StaticDirectory()

    # -- auth ----------------------------------------------------------------------------------

    def authorise(self, credentials: HTTPAuthorizationCredentials | None) -> None:
        tokens = self.deps.settings.api_tokens()
        if not tokens:
            raise HTTPException(status_code=503, detail=DISABLED)
        if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
            raise HTTPException(
                status_code=401,
                detail="missing bearer token: send Authorization: Bearer <one of SIGNOFF_API_TOKEN>",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not _same_token(credentials.credentials, tokens):
            raise HTTPException(
                status_code=401,
                detail="invalid bearer token",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )

    # -- tools and redaction -------------------------------------------------------------------

    def _target(self, target_id: str | None) -> Any:
        return self.deps.registry.get(target_id) if target_id else None

    def sensitive(self, target_id: str | None, tool_name: str | None) -> list[str]:
        target = self._target(target_id)
        fields = getattr(target, "sensitive_fields", None)
        if fields is None or not tool_name:
            return []
        try:
            return list(fields().get(tool_name, ()))
        except Exception:
            return []

    def lookup(self, run: RunRecord) -> Callable[[str | None, str | None], Any] | None:
        return getattr(self._target(run.target_id), "lookup", None)

    # -- views ---------------------------------------------------------------------------------

    def approval_out(self, record: ApprovalRecord, model: type[ApprovalOut] = ApprovalOut, **extra: Any) -> Any:
        values = {name: getattr(record, name) for name in ApprovalOut.model_fields}
        values["tool_args"] = audit_chain.redact(record.tool_args, self.sensitive(record.agent_id, record.tool_name))
        return model(**values, **extra)

    def requirement_out(self, run: RunRecord, req: RequirementRecord) -> RequirementOut:
        hidden = self.sensitive(run.target_id, req.tool_name)
        return RequirementOut(
            id=req.id,
            round=req.round,
            kind=str(req.kind),
            tool_name=req.tool_name,
            tool_args=audit_chain.redact(req.tool_args, hidden) or {},
            args_hash=req.args_hash,
            member_agent_name=req.member_agent_name,
            approval_type=req.approval_type,
            message=req.message,
            status=str(req.status),
            resolved_by=req.resolved_by,
            resolved_by_name=req.resolved_by_name,
            resolved_at=req.resolved_at,
            note=req.resolution.get("note"),
            approvers=policy.approvers_for(req, self.deps.settings.signoff_approvers)
            if req.approval_type == "required"
            else list(req.approvers),
            quorum=req.quorum,
            created_at=req.created_at,
            expires_at=req.expires_at,
        )

    # -- after a decision ----------------------------------------------------------------------

    def after_decision(self, requirement_id: str) -> None:
        try:
            cards_sync.sync_cards(self.deps, requirement_id)
        except Exception:  # the decision stands whatever Slack says
            log.exception("card sync for %s failed", requirement_id)

    def resume_if_ready(self, run_id: str) -> str | None:
        run = self.deps.db.get_run(run_id)
        if run.status is RunStatus.PAUSED and self.deps.db.count_pending(run_id) == 0:
            enqueue_continue(self.deps.queue, run_id, run.round)
            return f"continue-{run_id}-{run.round}"
        return None


def _decision(req: RequirementRecord, body: ResolveIn) -> tuple[Action, dict[str, Any]]:
    """Translate the API's two statuses into the domain's actions for the requirement's kind."""
    if body.status == "rejected":
        if body.args or body.values or body.result is not None:
            raise InvalidDecision("a rejection takes a note only, not args, values or result")
        return Action.REJECT, {}
    if req.kind in (RequirementKind.USER_INPUT, RequirementKind.STEP_USER_INPUT):
        if body.values is None:
            raise InvalidDecision("this request asks for input: send its fields in 'values'", "values")
        return Action.ANSWER, {"values": body.values}
    if req.kind is RequirementKind.EXTERNAL_EXECUTION:
        if body.result is None:
            raise InvalidDecision("this step is done by hand: send its outcome in 'result'", "result")
        return Action.DONE, {"result": body.result}
    if body.values is not None or body.result is not None:
        raise InvalidDecision("an approval takes 'args' (to edit) and 'note', not 'values' or 'result'")
    if body.args:
        return Action.EDIT, {"args": body.args}
    return Action.APPROVE, {}


# ------------------------------------------------------------------------------------ router


def build_router(deps: Deps, *, directory: policy.Directory | None = None) -> APIRouter:
    """The ``/api`` routes; ``directory`` resolves user-group approvers (Slack's when configured)."""
    api = Api(deps, directory)

    def authorised(credentials: HTTPAuthorizationCredentials | None = Security(bearer)) -> None:
        api.authorise(credentials)

    router = APIRouter(prefix="/api", dependencies=[Depends(authorised)], responses=_ERRORS)

    def filters(
        status: ApprovalStatus | None = Query(None, description="Only approvals in this status."),
        agent: str | None = Query(None, description="Only approvals of this agent id."),
        tool: str | None = Query(None, description="Only approvals of this tool."),
        requester: str | None = Query(None, description="Only approvals requested by this user id."),
        since: datetime | None = Query(None, description="Created at or after (ISO 8601; UTC if no zone)."),
        until: datetime | None = Query(None, description="Created before (ISO 8601)."),
    ) -> dict[str, Any]:
        return {
            "status": status,
            "agent_id": agent,
            "tool_name": tool,
            "requester": requester,
            "since": _utc(since),
            "until": _utc(until),
        }

    @router.get("/approvals", response_model=ApprovalPage, tags=["approvals"])
    def list_approvals(
        where: dict[str, Any] = Depends(filters),
        limit: int = Query(50, ge=1, le=MAX_PAGE),
        offset: int = Query(0, ge=0),
    ) -> ApprovalPage:
        """Approvals, newest first, filtered and paginated; ``total`` counts every page."""
        items = deps.db.list_approvals(**where, limit=limit, offset=offset)
        return ApprovalPage(
            items=[api.approval_out(a) for a in items],
            total=deps.db.count_approvals(**where),
            limit=limit,
            offset=offset,
        )

    @router.get("/approvals/count", response_model=CountOut, tags=["approvals"])
    def count_approvals(where: dict[str, Any] = Depends(filters)) -> CountOut:
        """How many approvals match the filters (e.g. ``?status=pending`` for a dashboard)."""
        return CountOut(count=deps.db.count_approvals(**where))

    @router.get(
        "/approvals/{approval_id}",
        response_model=ApprovalDetail,
        responses={404: {"model": ErrorOut}},
        tags=["approvals"],
    )
    def get_approval(approval_id: str) -> Any:
        """One approval, with its votes and who may decide it."""
        try:
            record = deps.db.get_approval(approval_id)
        except NotFound as exc:
            return _error(404, exc.message)
        votes = [VoteOut(**{k: v[k] for k in ("voter", "vote", "note", "created_at")}) for v in
                 deps.db.votes(record.id)]
        approvers: list[str] = []
        if record.requirement_id:
            req = deps.db.get_requirement(record.requirement_id)
            approvers = policy.approvers_for(req, deps.settings.signoff_approvers)
        return api.approval_out(record, ApprovalDetail, votes=votes, approvers=approvers)

    @router.post(
        "/approvals/{approval_id}/resolve",
        response_model=ResolveOut,
        responses={
            202: {"model": ResolveOut, "description": "Vote recorded; more approvals are needed (quorum)."},
            403: {"model": ErrorOut, "description": "Not an approver, or the requester approving their own request."},
            404: {"model": ErrorOut},
            409: {"model": ConflictOut, "description": "Someone else decided first; nothing changed."},
            410: {"model": ErrorOut, "description": "The request expired; nothing was done."},
            422: {"description": "Malformed body, or a decision that does not fit the request."},
        },
        tags=["approvals"],
    )
    def resolve_approval(approval_id: str, body: ResolveIn, response: Response) -> Any:
        """Approve or reject, exactly as a Slack click would: the run resumes and the cards update.

        Only a ``pending`` approval can be decided (the expected-status guard): the first decision
        wins, a later one gets 409 with who decided first.
        """
        db = deps.db
        try:
            record = db.get_approval(approval_id)
        except NotFound as exc:
            return _error(404, exc.message)
        if record.requirement_id is None:
            return _error(409, "an audit approval records a tool that already ran: there is nothing to decide",
                          status=record.status, decided_by=None, decided_at=None)
        req = db.get_requirement(record.requirement_id)
        run = db.get_run(req.run_id)
        actor = Actor(body.resolved_by, body.resolved_by_name)
        try:
            action, extra = _decision(req, body)
            outcome: Outcome = resolve(
                db,
                req.id,
                actor,
                action,
                default_approvers=deps.settings.signoff_approvers,
                directory=api.directory,
                lookup=api.lookup(run),
                note=body.note,
                via="api",
                **extra,
            )
        except SelfApproval as exc:
            return _error(403, exc.message)
        except NotAnApprover as exc:
            return _error(403, exc.message)
        except RequirementExpired as exc:
            api.after_decision(req.id)
            api.resume_if_ready(req.run_id)
            return _error(410, exc.message)
        except AlreadyDecided as exc:
            api.after_decision(req.id)  # a stale card elsewhere shows what really happened
            if exc.status == RequirementStatus.EXPIRED:
                return _error(410, f"requirement {req.id} expired; nothing was done")
            return _error(409, exc.message, status=exc.status, decided_by=exc.decided_by, decided_at=exc.decided_at)
        except InvalidDecision as exc:
            return _error(422, exc.message)
        job: str | None = None
        if outcome.decided:
            api.after_decision(req.id)
        if outcome.run_ready:
            enqueue_continue(deps.queue, outcome.requirement.run_id, outcome.round)
            job = f"continue-{outcome.requirement.run_id}-{outcome.round}"
        if not outcome.decided:
            response.status_code = 202
        return ResolveOut(
            approval=api.approval_out(db.get_approval(approval_id)),
            decided=outcome.decided,
            votes=outcome.votes,
            quorum=outcome.quorum,
            run_ready=outcome.run_ready,
            continue_job=job,
        )

    @router.get("/runs/{run_id}", response_model=RunOut, responses={404: {"model": ErrorOut}}, tags=["runs"])
    def get_run(run_id: str) -> Any:
        """A run (without its internal state), its requirements, approvals and audit trail."""
        try:
            run = deps.db.get_run(run_id)
        except NotFound as exc:
            return _error(404, exc.message)
        return RunOut(
            **{name: getattr(run, name) for name in RunOut.model_fields if hasattr(run, name)},
            requirements=[api.requirement_out(run, r) for r in deps.db.requirements_for_run(run.id)],
            approvals=[api.approval_out(a) for a in deps.db.approvals_for_run(run.id)],
            audit=[AuditEventOut(**e.to_dict()) for e in deps.db.audit_events(run_id=run.id)],
        )

    @router.get(
        "/audit/export",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/csv": {}, "application/x-ndjson": {}},
                          "description": "The audit log, streamed."}},
        tags=["audit"],
    )
    def export_audit(
        format: Literal["csv", "jsonl"] = Query("jsonl", description="csv for people, jsonl to verify offline."),
        since: datetime | None = Query(None, description="Events at or after (ISO 8601; UTC if no zone)."),
        until: datetime | None = Query(None, description="Events before (ISO 8601)."),
        agent: str | None = Query(None, description="Only events of this agent id."),
        actor: str | None = Query(None, description="Only events by this actor id."),
    ) -> StreamingResponse:
        """Stream the audit log (constant memory). A JSONL export verifies offline with
        ``signoff audit verify FILE``; a filtered one says so in its header."""
        start, end = _utc(since), _utc(until)
        applied = {
            "since": start.isoformat() if start else None,
            "until": end.isoformat() if end else None,
            "agent": agent,
            "actor": actor,
        }

        def rows() -> Iterator[dict[str, Any]]:
            events: Iterator[AuditEvent] = deps.db.audit_events(
                since=start, until=end, agent_id=agent, actor_id=actor
            )
            for event in events:
                yield event.to_dict()

        media = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson"
        stamp = deps.clock().strftime("%Y%m%dT%H%M%SZ")
        return StreamingResponse(
            export_lines(format, rows(), filters=applied),
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="signoff-audit-{stamp}.{format}"'},
        )

    return router
