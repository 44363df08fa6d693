"""The Approvals REST API: list, count, read and resolve approvals; read a run; export the audit log.

Every ``/api`` route needs ``Authorization: Bearer <token>``. A token belongs to a principal
(``signoff token create``): a Slack user, who decides *as themselves* and is checked against
policy like a click, or a named service (``svc:<name>``) with scopes ``read``, ``decide`` and
``export``. Tokens are stored hashed and compared in constant time. The older
``SIGNOFF_API_TOKEN`` values still work, as read-only service principals (``svc:env-token-N``).
With no token at all the API is off and says so (503) rather than being open.

A decision made here is the same decision as a Slack click: it goes through the decision
service (``runner.decisions.DecisionService``: policy on the final arguments, quorum bound to the
arguments, self-approval, expiry, one conditional UPDATE, the audit row with the token's id),
which resumes the run and updates the Slack cards. ``resolved_by`` in a body is only checked: a
name other than the token's principal is refused (403).

Status codes: 200 decided, 202 a vote recorded (quorum not reached) or an edit sent to the
approvers, 401 no or wrong token, 403 not allowed (not an approver, the requester approving their
own request, a missing scope, acting as someone else), 404 unknown id, 409 someone else decided
first (the body says who) or the arguments changed since you read them, 410 expired, 422 a
malformed body or a decision that does not fit the request, 503 API disabled.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.deps import Deps
from bot.web.export import export_response
from bot.web.schemas import (
    ERRORS,
    ApprovalDetail,
    ApprovalOut,
    ApprovalPage,
    ApprovalStatus,
    AuditEventOut,
    ConflictOut,
    CountOut,
    ErrorOut,
    RequirementOut,
    ResolveIn,
    ResolveOut,
    RunOut,
    VoteOut,
)
from runner import policy
from runner.decisions import Action, DecisionService
from storage.errors import (
    AlreadyDecided,
    Forbidden,
    InvalidDecision,
    InvalidInput,
    NotAnApprover,
    NotFound,
    RateLimited,
    RequirementExpired,
    SignoffError,
    StaleArguments,
)
from storage.records import (
    ANSWER_KINDS,
    ApprovalRecord,
    Principal,
    RequirementKind,
    RequirementRecord,
    RequirementStatus,
    RunRecord,
    Surface,
)
from storage.redaction import redact

log = logging.getLogger(__name__)

DISABLED = (
    "the REST API is disabled: no token exists. Create one with "
    "`signoff token create --user U123` (a person) or `signoff token create --service NAME --scopes read`"
)
MAX_PAGE = 500
"""The most approvals one page lists."""
MAX_OFFSET = 1_000_000_000
"""The furthest a page may start; beyond it there is nothing to list, and the database would refuse it."""
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
"""Date filters outside [EARLIEST, LATEST) are refused with 422 instead of overflowing."""

bearer = HTTPBearer(
    auto_error=False, description="A token from `signoff token create` (or SIGNOFF_API_TOKEN, read-only)."
)

STATUS_FOR: tuple[tuple[type[SignoffError], int], ...] = (
    (NotAnApprover, 403),  # SelfApproval is a NotAnApprover
    (Forbidden, 403),
    (NotFound, 404),
    (StaleArguments, 409),
    (AlreadyDecided, 409),
    (RequirementExpired, 410),
    (InvalidInput, 422),  # InvalidDecision is an InvalidInput
    (RateLimited, 429),
)
"""The one exception-to-status table: every route raises, this answers."""


def status_for(exc: SignoffError) -> int:
    if isinstance(exc, AlreadyDecided) and exc.status == RequirementStatus.EXPIRED:
        return 410
    return next((code for kind, code in STATUS_FOR if isinstance(exc, kind)), 500)


def error_body(exc: SignoffError) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": exc.message}
    if isinstance(exc, AlreadyDecided):
        if exc.status == RequirementStatus.EXPIRED:
            return {"detail": f"requirement {exc.requirement_id} expired; nothing was done"}
        at = exc.decided_at.isoformat() if isinstance(exc.decided_at, datetime) else exc.decided_at
        body |= {"status": exc.status, "decided_by": exc.decided_by, "decided_at": at}
    if isinstance(exc, StaleArguments):
        body |= {"status": "pending", "args_hash": exc.current_hash}
    if isinstance(exc, RateLimited):
        body |= {"retry_after_s": exc.retry_after_s}
    return body


def install_error_handler(app: FastAPI) -> None:
    """Every ``SignoffError`` an API route raises becomes its status from :data:`STATUS_FOR`."""

    async def handle(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, SignoffError)
        code = status_for(exc)
        if code == 500:
            log.error("unexpected %s on %s: %s", type(exc).__name__, request.url.path, exc.message)
            return JSONResponse({"detail": "internal error; nothing was changed"}, status_code=500)
        return JSONResponse(error_body(exc), status_code=code)

    app.add_exception_handler(SignoffError, handle)


def _utc(moment: datetime | None, name: str) -> datetime | None:
    """A filter date as UTC; no zone means UTC; out of range is a 422 (FastAPI's documented
    validation shape), never an overflow."""
    if moment is None:
        return None
    problem = f"out of range: give a date in the years {EARLIEST.year}-{LATEST.year - 1}"
    if not (EARLIEST.year <= moment.year < LATEST.year):
        raise _query_error(name, moment, problem)
    try:
        aware = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (OverflowError, ValueError):
        raise _query_error(name, moment, problem) from None
    if not (EARLIEST <= aware < LATEST):
        raise _query_error(name, moment, problem)
    return aware


def _query_error(name: str, value: datetime, message: str) -> RequestValidationError:
    return RequestValidationError(
        [{"type": "value_error", "loc": ("query", name), "msg": message, "input": value.isoformat()}]
    )


def _env_token_index(given: str, tokens: Sequence[str]) -> int | None:
    """Which SIGNOFF_API_TOKEN matches, comparing all of them in constant time."""
    found: int | None = None
    for index, token in enumerate(tokens):  # no early exit: the time taken does not say which was close
        if hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8")):
            found = index
    return found


class Api:
    """The endpoints' shared state: the container, the decision service, redaction."""

    def __init__(self, deps: Deps, service: DecisionService) -> None:
        self.deps = deps
        self.service = service

    # -- auth ----------------------------------------------------------------------------------

    def principal(self, credentials: HTTPAuthorizationCredentials | None) -> Principal:
        """The principal a bearer token belongs to; 401/503 when there is none."""
        env_tokens = self.deps.settings.api_tokens()
        if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
            if not env_tokens and not self.deps.db.list_tokens():
                raise HTTPException(status_code=503, detail=DISABLED)
            raise HTTPException(
                status_code=401,
                detail="missing bearer token: send Authorization: Bearer <token> (signoff token create)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        given = credentials.credentials
        token = self.deps.db.authenticate_token(given)
        if token is not None:
            return token.principal()
        index = _env_token_index(given, env_tokens)
        if index is not None:
            return Principal(f"svc:env-token-{index + 1}", "SIGNOFF_API_TOKEN", "service", frozenset({"read"}))
        if not env_tokens and not self.deps.db.list_tokens():
            raise HTTPException(status_code=503, detail=DISABLED)
        raise HTTPException(
            status_code=401, detail="invalid bearer token", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        )

    # -- views ---------------------------------------------------------------------------------

    def approval_out(self, record: ApprovalRecord, model: type[ApprovalOut] = ApprovalOut, **extra: Any) -> Any:
        values = {name: getattr(record, name) for name in ApprovalOut.model_fields}
        declared = record.sensitive_fields
        if record.requirement_id:
            req = self.deps.db.get_requirement(record.requirement_id)
            declared = self.service.declared(self.deps.db.get_run(req.run_id), req)
        values["tool_args"] = redact(record.tool_args, declared) or {}
        return model(**values, **extra)

    def requirement_out(self, run: RunRecord, req: RequirementRecord) -> RequirementOut:
        return RequirementOut(
            id=req.id,
            round=req.round,
            kind=str(req.kind),
            tool_name=req.tool_name,
            tool_args=redact(req.current_args, self.service.declared(run, req)) or {},
            args_hash=req.current_hash,
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


def _decision(req: RequirementRecord, body: ResolveIn) -> tuple[Action, dict[str, Any]]:
    """Translate the API's two statuses into the domain's actions for the requirement's kind."""
    if body.status == "rejected":
        if body.args or body.values or body.result is not None:
            raise InvalidDecision("a rejection takes a note only, not args, values or result")
        return Action.REJECT, {}
    if req.kind in ANSWER_KINDS:
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


class ApiAuth:
    """Authenticate ``/api`` requests before anything reads their body: a request without a valid
    token is a 401 (503 when the API is off) whatever it carries. The principal found is handed
    to the routes in ``request.state``."""

    def __init__(self, app: ASGIApp, api: Api) -> None:
        self.app = app
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith("/api/"):
            await self.app(scope, receive, send)
            return
        header = Headers(scope=scope).get("authorization") or ""
        kind, _, value = header.partition(" ")
        credentials = HTTPAuthorizationCredentials(scheme=kind, credentials=value.strip()) if kind else None
        try:
            principal = await asyncio.to_thread(self.api.principal, credentials)
        except HTTPException as exc:
            response = JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)


def install_api(app: FastAPI, deps: Deps) -> None:
    """The REST API on ``app``: its routes, the token check before any body is read, and the
    one exception-to-status table."""
    service = deps.service
    app.include_router(build_router(deps, service))
    app.add_middleware(ApiAuth, api=Api(deps, service))
    install_error_handler(app)


def build_router(deps: Deps, service: DecisionService) -> APIRouter:
    """The ``/api`` routes. Every route needs a token; each checks the scope it needs."""
    api = Api(deps, service)

    def principal(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Security(bearer)
    ) -> Principal:
        """Authenticated by ``ApiAuth`` before the body was read; the Security parameter documents it."""
        found = getattr(request.state, "principal", None)
        return found if isinstance(found, Principal) else api.principal(credentials)

    def scoped(scope: str) -> Any:
        def check(who: Principal = Depends(principal)) -> Principal:
            if not who.can(scope):
                raise Forbidden(f"this token ({who.id}) has no '{scope}' scope", who.id)
            return who

        return Depends(check)

    router = APIRouter(prefix="/api", dependencies=[Depends(principal)], responses=ERRORS)

    def filters(
        status: ApprovalStatus | None = Query(None, description="Only approvals in this status."),
        agent: str | None = Query(None, max_length=128, description="Only approvals of this agent id."),
        tool: str | None = Query(None, max_length=255, description="Only approvals of this tool."),
        requester: str | None = Query(None, max_length=128, description="Only approvals requested by this user id."),
        since: datetime | None = Query(None, description="Created at or after (ISO 8601; UTC if no zone)."),
        until: datetime | None = Query(None, description="Created before (ISO 8601)."),
    ) -> dict[str, Any]:
        return {
            "status": status,
            "agent_id": agent,
            "tool_name": tool,
            "requester": requester,
            "since": _utc(since, "since"),
            "until": _utc(until, "until"),
        }

    @router.get("/approvals", response_model=ApprovalPage, tags=["approvals"])
    def list_approvals(
        where: dict[str, Any] = Depends(filters),
        limit: int = Query(50, ge=1, le=MAX_PAGE),
        offset: int = Query(0, ge=0, le=MAX_OFFSET),
        who: Principal = scoped("read"),
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
    def count_approvals(where: dict[str, Any] = Depends(filters), who: Principal = scoped("read")) -> CountOut:
        """How many approvals match the filters (e.g. ``?status=pending`` for a dashboard)."""
        return CountOut(count=deps.db.count_approvals(**where))

    @router.get(
        "/approvals/{approval_id}",
        response_model=ApprovalDetail,
        responses={404: {"model": ErrorOut}},
        tags=["approvals"],
    )
    def get_approval(approval_id: str, who: Principal = scoped("read")) -> Any:
        """One approval, with its votes (each bound to the arguments it saw) and who may decide it."""
        record = deps.db.get_approval(approval_id)
        current = record.args_hash
        approvers: list[str] = []
        if record.requirement_id:
            req = deps.db.get_requirement(record.requirement_id)
            approvers = policy.approvers_for(req, deps.settings.signoff_approvers)
            current = req.current_hash
        votes = [
            VoteOut(
                voter=v["voter"],
                vote=v["vote"],
                note=v["note"],
                created_at=v["created_at"],
                args_hash=v["args_hash"],
                counts=v["args_hash"] == current,
            )
            for v in deps.db.votes(record.id)
        ]
        return api.approval_out(record, ApprovalDetail, votes=votes, approvers=approvers)

    @router.post(
        "/approvals/{approval_id}/resolve",
        response_model=ResolveOut,
        responses={
            202: {"model": ResolveOut, "description": "Vote recorded, or an edit sent to the approvers."},
            400: {"model": ErrorOut, "description": "The body is not JSON (or not UTF-8)."},
            403: {"model": ErrorOut, "description": "Not an approver, self-approval, no scope, or acting as another."},
            404: {"model": ErrorOut},
            409: {"model": ConflictOut, "description": "Someone else decided first, or the arguments changed."},
            410: {"model": ErrorOut, "description": "The request expired; nothing was done."},
            422: {"description": "Malformed body, or a decision that does not fit the request."},
        },
        tags=["approvals"],
    )
    def resolve_approval(
        approval_id: str, body: ResolveIn, response: Response, who: Principal = scoped("decide")
    ) -> Any:
        """Approve or reject as the token's principal, exactly as a Slack click would: the run
        resumes and the cards update. The first decision wins; a later one gets 409 with who."""
        if body.resolved_by is not None and body.resolved_by != who.id:
            raise Forbidden(
                f"this token acts as {who.id}; it cannot decide as {body.resolved_by} (leave resolved_by out)", who.id
            )
        record = deps.db.get_approval(approval_id)
        if record.requirement_id is None:
            return JSONResponse(
                {"detail": "an audit approval records a tool that already ran: there is nothing to decide",
                 "status": record.status, "decided_by": None, "decided_at": None},
                status_code=409,
            )
        req = deps.db.get_requirement(record.requirement_id)
        action, extra = _decision(req, body)
        if who.name is None and body.resolved_by_name:
            who = Principal(who.id, body.resolved_by_name, who.kind, who.scopes, who.token_id)
        outcome = service.decide(
            req.id, who, action, surface=Surface.API, note=body.note, seen_hash=body.args_hash, **extra
        )
        if not outcome.decided:
            response.status_code = 202
        return ResolveOut(
            approval=api.approval_out(deps.db.get_approval(approval_id)),
            decided=outcome.decided,
            escalated=outcome.escalated,
            votes=outcome.votes,
            quorum=outcome.quorum,
            run_ready=outcome.run_ready,
            continue_job=outcome.continue_job,
        )

    @router.get("/runs/{run_id}", response_model=RunOut, responses={404: {"model": ErrorOut}}, tags=["runs"])
    def get_run(run_id: str, who: Principal = scoped("read")) -> Any:
        """A run (without its internal state), its requirements, approvals and audit trail."""
        run = deps.db.get_run(run_id)
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
        agent: str | None = Query(None, max_length=128, description="Only events of this agent id."),
        actor: str | None = Query(None, max_length=128, description="Only events by this actor id."),
        who: Principal = scoped("export"),
    ) -> StreamingResponse:
        """Stream the audit log (constant memory). A JSONL export verifies offline with
        ``signoff audit verify FILE``; a filtered one says so in its header. Recorded in the log."""
        start, end = _utc(since, "since"), _utc(until, "until")
        applied = {
            "since": start.isoformat() if start else None,
            "until": end.isoformat() if end else None,
            "agent": agent,
            "actor": actor,
        }
        deps.db.append_audit(
            action="audit.exported",
            actor=who.actor,
            outcome="streamed",
            details={"via": "api", "format": format, "filters": {k: v for k, v in applied.items() if v},
                     "token_id": who.token_id},
        )

        query = {"since": start, "until": end, "agent_id": agent, "actor_id": actor}
        return export_response(deps.db, format, query, applied, deps.clock())

    return router


__all__ = ["STATUS_FOR", "Api", "ApiAuth", "build_router", "install_api", "install_error_handler", "status_for"]
