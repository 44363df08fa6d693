"""The decision service: the one path by which any surface decides, starts, cancels or retries.

Slack clicks, modal submissions and thread replies, the REST API, the SDK's ``continue_run`` (and
the console and terminal after them) all call :class:`DecisionService`. It never trusts what a
button, a form or a body carried beyond *which* request and *which arguments the person saw*:

1. it loads the requirement, its run and the tool from SQL;
2. it evaluates the policy for the authenticated principal on the *final* arguments (after an
   edit or an answer): who may decide, separation of duties (the requester never approves their
   own ``required`` request), whether a ``required`` approval applies now (an edit that makes it
   apply creates it, and the requester can no longer finish alone), and the quorum, where a vote
   is bound to the SHA-256 of the arguments it saw, so an edit restarts the count;
3. it applies the decision with one conditional UPDATE (``storage``), which also writes the
   redacted audit row, recording the principal, the surface and the API token's id;
4. it tells the run's listeners (Slack refreshes its cards) and enqueues ``continue_run`` once
   nothing is pending, when it has a queue (a script continues in process instead).
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from runner import policy
from runner.listener import RunListener, dispatch
from runner.registry import tool_of
from runner.run_requirement import validate_input
from runner.step_types import OnReject
from runner.tools import Function, refuse_non_finite, render_result
from storage.codec import digest
from storage.database import Database
from storage.errors import (
    AlreadyDecided,
    Forbidden,
    InvalidDecision,
    InvalidInput,
    NotAnApprover,
    NotFound,
    RateLimited,
    RequirementExpired,
    RunBusy,
    SignoffError,
    StaleArguments,
)
from storage.records import (
    ANSWER_KINDS,
    EDIT_KINDS,
    Actor,
    Escalation,
    Principal,
    RequirementKind,
    RequirementRecord,
    RequirementStatus,
    RunRecord,
    RunStatus,
    Surface,
)
from storage.redaction import MASK, declared_for, is_sensitive_name, redact
from storage.timeouts import (
    MAX_PROMPT_CHARS,
    MAX_QUEUED_RUNS_PER_AGENT,
    PENDING_LIST_SHOWN,
    RUN_START_WINDOW_S,
    RUNS_PER_USER_PER_WINDOW,
)

if TYPE_CHECKING:
    from rq import Queue

    from runner.registry import Lookup, Registry

log = logging.getLogger(__name__)


class Action(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    EDIT = "edit"
    ANSWER = "answer"
    DONE = "done"
    RAN = "ran"
    """An in-doubt call did happen: the person enters its result, the model gets it."""
    NOT_RUN = "not_run"
    """An in-doubt call did not happen: it runs now, exactly once."""
    FAIL_RUN = "fail_run"
    """Nobody can tell (or it must not go on): the run fails with a clear error."""


IN_DOUBT_OUTCOMES = {Action.RAN: "ran", Action.NOT_RUN: "not_run", Action.FAIL_RUN: "fail_run"}
"""What an in-doubt requirement's resolution records under ``outcome`` for each action."""

_FITS = {
    Action.APPROVE: {RequirementKind.CONFIRMATION, RequirementKind.STEP_CONFIRMATION,
                     RequirementKind.STEP_OUTPUT_REVIEW},
    Action.REJECT: {RequirementKind.CONFIRMATION, RequirementKind.STEP_CONFIRMATION,
                    RequirementKind.STEP_OUTPUT_REVIEW},
    # A step output review's edit carries the new output as ``args={"output": ...}``.
    Action.EDIT: set(EDIT_KINDS),
    Action.ANSWER: set(ANSWER_KINDS),
    Action.DONE: {RequirementKind.EXTERNAL_EXECUTION},
    Action.RAN: {RequirementKind.IN_DOUBT},
    Action.NOT_RUN: {RequirementKind.IN_DOUBT},
    Action.FAIL_RUN: {RequirementKind.IN_DOUBT},
}


@dataclass(frozen=True)
class DecisionResult:
    """What a surface needs to tell the person who decided."""

    requirement: RequirementRecord
    decided: bool
    """False when a vote was recorded (quorum not reached) or an edit escalated to approvers."""
    votes: int
    quorum: int
    run_ready: bool
    """No requirement of the run is pending any more: ``continue_run`` for ``round`` may go."""
    round: int
    escalated: bool = False
    """The edit made a ``required`` approval apply: approvers must now decide."""
    reset_voters: tuple[str, ...] = ()
    """Approvers whose earlier votes stopped counting because the arguments were edited."""
    continue_job: str | None = None




@dataclass
class StartLimits:
    """How fast one person may start runs and how many may wait per agent (``Settings``)."""

    per_user: int = RUNS_PER_USER_PER_WINDOW
    window_s: int = RUN_START_WINDOW_S
    queued_per_agent: int = MAX_QUEUED_RUNS_PER_AGENT


@dataclass
class PendingList:
    """A principal's pending decisions: the exact ``total``, and the ``shown`` ones first."""

    total: int
    shown: list[tuple[RequirementRecord, RunRecord]] = field(default_factory=list)


def check_prompt(prompt: str) -> str:
    """Refuse what cannot be stored or shown safely: control characters (NUL breaks PostgreSQL)
    and prompts longer than the bound. Returns the prompt stripped."""
    text = prompt.strip()
    if not text:
        raise InvalidInput("the prompt is empty: say what the agent should do", "prompt")
    for ch in text:
        if ch in "\n\t\r":
            continue
        if unicodedata.category(ch) == "Cc":
            raise InvalidInput(
                f"the prompt contains the control character U+{ord(ch):04X}; remove it and try again", "prompt"
            )
    if len(text) > MAX_PROMPT_CHARS:
        raise InvalidInput(
            f"the prompt is {len(text):,} characters; the limit is {MAX_PROMPT_CHARS:,}", "prompt"
        )
    return text


class DecisionService:
    """Deciding, starting, cancelling and retrying, for every surface, with the same checks."""

    def __init__(
        self,
        db: Database,
        *,
        registry: Registry | None = None,
        lookup: Lookup | None = None,
        default_approvers: Sequence[str] = (),
        directory: policy.Directory | None = None,
        queue: Queue | None = None,
        listeners: Sequence[RunListener] = (),
        limits: StartLimits | None = None,
    ) -> None:
        self.db = db
        self.registry = registry
        self._lookup = lookup
        self.default_approvers = list(default_approvers)
        self.directory: policy.Directory = directory or policy.StaticDirectory()
        self.queue = queue
        self.listeners = list(listeners)
        self.limits = limits or StartLimits()

    # ------------------------------------------------------------------ reading

    def tool_for(self, run: RunRecord, req: RequirementRecord) -> Function | None:
        """The Function behind a requirement, when it is still defined (None for a step)."""
        if self._lookup is not None:
            return tool_of(self._lookup, run, req)
        return self.registry.tool_for(run, req) if self.registry is not None else None

    def declared(self, run: RunRecord, req: RequirementRecord) -> list[str] | None:
        """The sensitive fields of a requirement (None: unknown, mask everything)."""
        fn = self.tool_for(run, req)
        return declared_for(req, fn.sensitive_fields if fn is not None else None)

    def pending_for(self, principal: Principal, *, show: int = PENDING_LIST_SHOWN) -> PendingList:
        """Every pending decision this principal may make: the exact count, and the ones to
        show first when the list must be cut: the soonest to expire and the newest."""
        mine: list[RequirementRecord] = []
        for req in self.db.pending_requirements(limit=None):
            try:
                policy.check(req, principal.id, self.default_approvers, self.directory)
            except NotAnApprover:
                continue
            mine.append(req)
        half = max(1, show // 2)
        far = mine[0].created_at + timedelta(days=36500) if mine else None
        soonest = sorted(mine, key=lambda r: (r.expires_at or far, r.created_at))[:half]
        newest = sorted(mine, key=lambda r: r.created_at, reverse=True)
        chosen = list(soonest)
        for req in newest:
            if len(chosen) >= show:
                break
            if req not in chosen:
                chosen.append(req)
        runs: dict[str, RunRecord] = {}
        shown: list[tuple[RequirementRecord, RunRecord]] = []
        for req in chosen:
            run = runs.get(req.run_id) or self.db.get_run(req.run_id)
            runs[run.id] = run
            shown.append((req, run))
        return PendingList(total=len(mine), shown=shown)

    # ------------------------------------------------------------------ deciding

    def decide(
        self,
        requirement_id: str,
        principal: Principal,
        action: Action | str,
        *,
        surface: Surface | str,
        resume: bool = True,
        **kwargs: Any,
    ) -> DecisionResult:
        """Decide one requirement as ``principal``. Raises a ``SignoffError`` the surface words:
        NotAnApprover/SelfApproval, AlreadyDecided, RequirementExpired, StaleArguments,
        InvalidDecision, Forbidden (an API token without the ``decide`` scope).

        ``kwargs``: ``note``, ``args`` (an edit), ``values`` (answers), ``result`` (done by hand),
        ``seen_hash`` (the arguments the person saw), ``permalink``. A refusal because the request
        expired or was decided meanwhile still updates the surfaces and resumes a run left ready.
        """
        try:
            return self._decide(requirement_id, principal, action, surface=surface, resume=resume, **kwargs)
        except (RequirementExpired, AlreadyDecided) as exc:
            # The surfaces show what really happened. Only an expiry this call applied can leave
            # the run ready without anyone resuming it; a winner already resumed it.
            self._settle_refused(requirement_id, resume and isinstance(exc, RequirementExpired))
            raise exc from None

    def _settle_refused(self, requirement_id: str, resume: bool) -> None:
        try:
            req = self.db.get_requirement(requirement_id)
            run = self.db.get_run(req.run_id)
        except NotFound:
            return
        dispatch(self.listeners, "on_resolved", run, req)
        if resume:
            self.resume_if_ready(run)

    def _decide(
        self,
        requirement_id: str,
        principal: Principal,
        action: Action | str,
        *,
        surface: Surface | str,
        note: str | None = None,
        args: dict[str, Any] | None = None,
        values: dict[str, Any] | None = None,
        result: Any = None,
        seen_hash: str | None = None,
        permalink: str | None = None,
        resume: bool = True,
        on_reject: str | None = None,
    ) -> DecisionResult:
        action = Action(action)
        surface = Surface(surface)
        if principal.token_id is not None and not principal.can("decide"):
            raise Forbidden(f"token {principal.token_id} has no 'decide' scope", principal.id)
        actor = principal.actor
        audit_extra = {"token_id": principal.token_id} if principal.token_id else {}
        req = self.db.get_requirement(requirement_id)
        run = self.db.get_run(req.run_id)
        fn = self.tool_for(run, req)
        if req.kind not in _FITS[action]:
            raise InvalidDecision(f"'{action}' does not fit a {req.kind.value.replace('_', ' ')} request")
        if seen_hash is not None and req.is_pending and seen_hash != req.current_hash:
            self._refuse(req, actor, action, surface, "stale_arguments", "the arguments changed since they were shown",
                         permalink, audit_extra)
            raise StaleArguments(req.id, seen_hash, req.current_hash)
        bound = seen_hash or req.current_hash
        final_args = self._final_args(req, action, fn, args, values)
        escalation = self._escalation(run, req, fn, action, final_args)
        if escalation is not None:
            return self._escalate(run, req, principal, action, final_args, escalation, surface, note, permalink,
                                  bound, audit_extra, resume)
        self._authorize(req, actor, action, surface, permalink, audit_extra)
        status, resolution, logged = self._resolution(run, req, action, fn, note, final_args, values, result)
        if on_reject is not None:
            resolution = resolution | {"on_reject": _rejection_choice(req, action, on_reject)}

        votes, quorum = 0, req.quorum
        reset: tuple[str, ...] = ()
        if action in (Action.APPROVE, Action.EDIT) and req.approval_type == "required" and req.quorum > 1:
            vote, bound, reset = self._vote(run, req, principal, surface, note, final_args, bound, permalink,
                                            audit_extra)
            if vote is not None:
                return vote
            votes = req.quorum
        record = self.db.decide(
            req.id,
            status,
            actor,
            resolution=resolution,
            expected_hash=bound,
            audit_action=(
                f"requirement.in_doubt.{IN_DOUBT_OUTCOMES[action]}"
                if action in IN_DOUBT_OUTCOMES
                else f"requirement.{'edited' if action is Action.EDIT else status}"
            ),
            audit_arguments=logged,
            permalink=permalink,
            via=str(surface),
            audit_details=audit_extra,
        )
        return self._after(run, record, True, votes, quorum, reset, resume)

    def _final_args(
        self,
        req: RequirementRecord,
        action: Action,
        fn: Function | None,
        args: dict[str, Any] | None,
        values: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """The arguments the tool would run with if this decision stands."""
        current = dict(req.current_args)
        if action is Action.EDIT:
            if not args:
                raise InvalidDecision("edit & approve needs the edited arguments")
            if fn is None:
                raise InvalidDecision(
                    f"{req.tool_name} is no longer defined here, so its arguments cannot be checked or edited; "
                    "approve or reject them as they are"
                )
            edits = dict(args)
            for name, value in list(edits.items()):
                # A masked value sent back by a client that only ever saw it masked means "keep".
                if value == MASK and is_sensitive_name(name, req.sensitive_fields):
                    edits.pop(name)
            return fn.validate(current | edits)
        if action is Action.ANSWER:
            answered = current | validate_input(req, fn, values or {})
            refuse_non_finite(answered, req.tool_name or "step")
            return answered
        return current

    def _escalation(
        self, run: RunRecord, req: RequirementRecord, fn: Function | None, action: Action, final_args: dict[str, Any]
    ) -> Escalation | None:
        """An approval the final arguments need that the request does not have yet."""
        if req.approval_type == "required" or action not in (Action.APPROVE, Action.EDIT):
            return None
        if fn is None or not fn.needs_required_approval(final_args):
            return None
        approval = fn.approval
        assert approval is not None
        expires_at = None
        if approval.expires_in is not None:
            expires_at = self.db.clock() + timedelta(seconds=approval.expires_in)
        return Escalation(
            approvers=tuple(approval.approvers),
            quorum=approval.quorum,
            reason="needs an approver's sign-off: the edited arguments fall under its approval policy",
            agent_id=run.target_id,
            expires_at=expires_at,
        )

    def _escalate(
        self,
        run: RunRecord,
        req: RequirementRecord,
        principal: Principal,
        action: Action,
        final_args: dict[str, Any],
        escalation: Escalation,
        surface: Surface,
        note: str | None,
        permalink: str | None,
        bound: str,
        audit_extra: dict[str, Any],
        resume: bool,
    ) -> DecisionResult:
        """The decider may confirm the request as it was, but the final arguments need an
        approval: the request becomes one (approvers, quorum) and stays pending. An approver
        who is not the requester votes for it at once; the requester cannot finish alone."""
        actor = principal.actor
        self._authorize(req, actor, action, surface, permalink, audit_extra)
        updated = self.db.propose_args(
            req.id, actor, args=final_args, expected_hash=bound, escalate_to=escalation, via=str(surface),
            audit_details=audit_extra,
        )
        dispatch(self.listeners, "on_escalated", run, updated)
        try:
            policy.check(updated, principal.id, self.default_approvers, self.directory)
        except NotAnApprover:
            return DecisionResult(updated, False, 0, updated.quorum, False, run.round, escalated=True)
        result = self.decide(
            updated.id, principal, Action.APPROVE, surface=surface, note=note, seen_hash=updated.current_hash,
            permalink=permalink, resume=resume,
        )
        return replace(result, escalated=not result.decided)

    def _vote(
        self,
        run: RunRecord,
        req: RequirementRecord,
        principal: Principal,
        surface: Surface,
        note: str | None,
        final_args: dict[str, Any],
        bound: str,
        permalink: str | None,
        audit_extra: dict[str, Any],
    ) -> tuple[DecisionResult | None, str, tuple[str, ...]]:
        """A quorum approval: record the vote for the exact arguments; the result is None once
        the quorum is reached (the caller then decides, bound to the returned hash). An edit
        proposes new arguments first: earlier votes,
        bound to the old ones, stop counting, and their voters are told."""
        approval = self.db.approval_for_requirement(req.id)
        if approval is None:
            raise SignoffError(f"requirement {req.id} has no approval record")
        actor = principal.actor
        target_hash = bound
        reset: tuple[str, ...] = ()
        if digest(final_args) != bound:
            before = {
                v["voter"] for v in self.db.votes(approval.id) if v["args_hash"] == bound and v["vote"] == "approve"
            }
            current = self.db.propose_args(
                req.id, actor, args=final_args, expected_hash=bound, via=str(surface), audit_details=audit_extra
            )
            target_hash = current.current_hash
            reset = tuple(sorted(before - {principal.id}))
            dispatch(self.listeners, "on_args_changed", run, current, principal.id, reset)
        votes = self.db.add_vote(
            approval.id, principal.id, "approve", note, args_hash=target_hash, voter_name=principal.name,
            surface=str(surface),
        )
        if votes >= req.quorum:
            return None, target_hash, reset
        self.db.append_audit(
            action="approval.vote",
            actor=actor,
            outcome="approve",
            run_id=req.run_id,
            requirement_id=req.id,
            tool_name=req.tool_name,
            permalink=permalink,
            details={"votes": votes, "quorum": req.quorum, "via": str(surface), "args_hash": target_hash,
                     **audit_extra},
        )
        latest = self.db.get_requirement(req.id)
        if reset:
            dispatch(self.listeners, "on_resolved", run, latest)
        result = DecisionResult(latest, False, votes, req.quorum, False, run.round, reset_voters=reset)
        return result, target_hash, reset

    def _resolution(
        self,
        run: RunRecord,
        req: RequirementRecord,
        action: Action,
        fn: Function | None,
        note: str | None,
        final_args: dict[str, Any],
        values: dict[str, Any] | None,
        result: Any,
    ) -> tuple[RequirementStatus, dict[str, Any], Any]:
        declared = self.declared(run, req)
        base = {"note": note} if note else {}
        if action in IN_DOUBT_OUTCOMES:
            return self._settle_doubt(action, base, result)
        if action is Action.REJECT:
            return RequirementStatus.REJECTED, base, None
        if action in (Action.APPROVE, Action.EDIT):
            if final_args == req.tool_args:
                return RequirementStatus.APPROVED, base, None
            resolution = base | {"edited_args": final_args, "original_args": dict(req.tool_args)}
            logged = {"before": redact(req.tool_args, declared), "after": redact(final_args, declared)}
            return RequirementStatus.APPROVED, resolution, logged
        if action is Action.ANSWER:
            clean = validate_input(req, fn, values or {})
            return RequirementStatus.ANSWERED, {"values": clean}, redact(clean, declared)
        if result is None or (isinstance(result, str) and not result.strip()):
            raise InvalidDecision("mark done needs the result of the step done by hand", "result")
        return RequirementStatus.DONE_EXTERNALLY, {"result": render_result(result)}, None

    @staticmethod
    def _settle_doubt(
        action: Action, base: dict[str, Any], result: Any
    ) -> tuple[RequirementStatus, dict[str, Any], Any]:
        """An in-doubt call settled: ran (with the result the person saw), did not run, or fail."""
        resolution = base | {"outcome": IN_DOUBT_OUTCOMES[action]}
        if action is Action.RAN:
            if result is None or (isinstance(result, str) and not result.strip()):
                raise InvalidDecision("'it ran' needs the result the call had (what the agent is told)", "result")
            return RequirementStatus.DONE_EXTERNALLY, resolution | {"result": render_result(result)}, None
        if action is Action.NOT_RUN:
            return RequirementStatus.APPROVED, resolution, None
        return RequirementStatus.REJECTED, resolution, None

    def authorize(
        self,
        requirement_id: str,
        principal: Principal,
        action: Action | str,
        *,
        surface: Surface | str,
        permalink: str | None = None,
    ) -> tuple[RequirementRecord, RunRecord]:
        """Before a form opens: is it still pending, may this principal decide it? A refusal is
        audited exactly as a refused decision."""

        req = self.db.get_requirement(requirement_id)
        run = self.db.get_run(req.run_id)
        if not req.is_pending:
            raise AlreadyDecided(req.id, str(req.status), req.resolved_by_name or req.resolved_by, req.resolved_at)
        extra = {"token_id": principal.token_id} if principal.token_id else {}
        self._authorize(req, principal.actor, Action(action), Surface(surface), permalink, extra)
        return req, run

    def _authorize(
        self,
        req: RequirementRecord,
        actor: Actor,
        action: Action,
        surface: Surface,
        permalink: str | None,
        audit_extra: dict[str, Any],
    ) -> None:
        if actor.id is None:
            raise NotAnApprover("unknown", req.id)
        if surface is Surface.SDK and req.approval_type != "required":
            # In-process code holds the database's credentials: it is the operator. Its plain
            # confirmations are recorded under the name it gives; a required approval is never
            # satisfied from here (continue_run raises ApprovalPending, update_approval is the
            # seed's explicit admin call).
            return
        try:
            policy.check(req, actor.id, self.default_approvers, self.directory)
        except NotAnApprover as exc:
            self._refuse(req, actor, action, surface, type(exc).__name__, exc.message, permalink, audit_extra)
            raise

    def _refuse(
        self,
        req: RequirementRecord,
        actor: Actor,
        action: Action,
        surface: Surface,
        outcome: str,
        reason: str,
        permalink: str | None,
        audit_extra: dict[str, Any],
    ) -> None:
        self.db.append_audit(
            action="decision.refused",
            actor=actor,
            outcome=outcome,
            run_id=req.run_id,
            requirement_id=req.id,
            tool_name=req.tool_name,
            reason=reason,
            permalink=permalink,
            details={"attempted": str(action), "via": str(surface), **audit_extra},
        )

    def _after(
        self,
        run: RunRecord,
        record: RequirementRecord,
        decided: bool,
        votes: int,
        quorum: int,
        reset: tuple[str, ...],
        resume: bool,
    ) -> DecisionResult:
        """Tell the listeners; enqueue ``continue_run`` when nothing of the run is pending."""
        latest, pending = self.db.run_and_pending(record.run_id)
        ready = latest.status is RunStatus.PAUSED and pending == 0
        # The run resumes first (a worker can start while the cards are redrawn), then surfaces.
        job = self._enqueue_continue(latest) if (ready and resume) else None
        dispatch(self.listeners, "on_resolved", latest, record)
        return DecisionResult(record, decided, votes, quorum, ready, latest.round, reset_voters=reset,
                              continue_job=job)

    def resume_if_ready(self, run: RunRecord) -> str | None:
        """Enqueue ``continue_run`` for a paused run with nothing pending (once per round)."""
        if self.queue is None:
            return None
        latest, pending = self.db.run_and_pending(run.id)
        if latest.status is not RunStatus.PAUSED or pending:
            return None
        return self._enqueue_continue(latest)

    def _enqueue_continue(self, ready: RunRecord) -> str | None:
        """Enqueue ``continue_run`` for a run just read paused with nothing pending (the job id is
        per round, so a second enqueue of the same round is the same job)."""
        if self.queue is None:
            return None
        from runner.jobs import continue_job_id, enqueue_continue

        enqueue_continue(self.queue, ready.id, ready.round)
        return continue_job_id(ready.id, ready.round)

    # ------------------------------------------------------------------ runs

    def check_start(self, principal: Principal, target_id: str, prompt: str, *, surface: Surface | str) -> str:
        """Everything that would refuse a start, checked before anything is posted or stored:
        the target exists, the prompt is clean, the principal's rate and the agent's queue."""
        surface = Surface(surface)
        if self.registry is not None and self.registry.get(target_id) is None:
            raise InvalidInput(f"there is no agent, team or workflow {target_id!r}", "agent")
        text = check_prompt(prompt)
        now = self.db.clock()
        window = timedelta(seconds=self.limits.window_s)
        started, oldest = self.db.count_runs_started(principal.id, now - window)
        if started >= self.limits.per_user:
            wait = int(((oldest or now) + window - now).total_seconds()) + 1
            self._rate_limited(principal, target_id, surface, "per_user", started)
            raise RateLimited(
                f"you started {started} runs in the last {self.limits.window_s} seconds, the limit; "
                f"try again in {wait} seconds",
                max(1, wait),
                "per_user",
            )
        queued = self.db.count_queued(target_id)
        if queued >= self.limits.queued_per_agent:
            self._rate_limited(principal, target_id, surface, "queued_per_agent", queued)
            raise RateLimited(
                f"{target_id} already has {queued} runs waiting for a worker, the limit; try again in a minute",
                60,
                "queued_per_agent",
            )
        return text

    def _rate_limited(self, principal: Principal, target_id: str, surface: Surface, limit: str, count: int) -> None:
        self.db.append_audit(
            action="run.rate_limited",
            actor=principal.actor,
            outcome=limit,
            agent_id=target_id,
            details={"count": count, "via": str(surface),
                     **({"token_id": principal.token_id} if principal.token_id else {})},
        )

    def start(
        self,
        principal: Principal,
        target_id: str,
        prompt: str,
        *,
        surface: Surface | str,
        channel: str | None = None,
        thread_ts: str | None = None,
        run_id: str | None = None,
        session_id: str | None = None,
        enqueue: bool = True,
    ) -> RunRecord:
        """Create a run ``queued`` for a worker (checked as ``check_start``) and enqueue it.

        A surface that must post somewhere first (Slack's root message) passes ``enqueue=False``
        and calls :meth:`enqueue_start` once the thread exists. With ``session_id`` the run sees
        the session's earlier conversation (a Slack thread is a session)."""
        if self.registry is None:
            raise SignoffError("starting runs needs the registry of agents")
        text = self.check_start(principal, target_id, prompt, surface=surface)
        target = self.registry.get(target_id)
        assert target is not None
        from runner.run_api import session_start

        state, session_state = session_start(self.db, target, text, principal.id, session_id)
        run = self.db.create_run(
            kind=target.kind,
            target_id=target.id,
            target_name=target.name,
            input=text,
            state=state,
            session_id=session_id,
            session_state=session_state,
            requester=principal.id,
            requester_name=principal.name,
            channel=channel,
            thread_ts=thread_ts,
            status=RunStatus.QUEUED,
            run_id=run_id,
        )
        if enqueue:
            self.enqueue_start(run)
        return run

    def enqueue_start(self, run: RunRecord) -> None:
        if self.queue is None:
            return
        from runner.jobs import enqueue_start

        enqueue_start(self.queue, run.id)

    def may_manage(self, run: RunRecord, principal: Principal) -> bool:
        """The requester and the approvers may cancel or retry a run."""
        if run.requester is not None and principal.id == run.requester:
            return True
        return policy.is_approver(principal.id, self.default_approvers, self.directory)

    def cancel(
        self, run_id: str, principal: Principal, *, surface: Surface | str, reason: str | None = None
    ) -> RunRecord:
        run = self.db.get_run(run_id)
        if not self.may_manage(run, principal):
            raise Forbidden("Only the person who started the run or an approver can cancel it.", principal.id)
        cancelled = self.db.cancel_run(run_id, principal.actor, reason=reason)
        dispatch(self.listeners, "on_cancelled", cancelled)
        return cancelled

    def retry(self, run_id: str, principal: Principal, *, surface: Surface | str) -> RunRecord:
        run = self.db.get_run(run_id)
        if run.status is not RunStatus.FAILED:
            raise RunBusy(run_id, str(run.status))
        if not self.may_manage(run, principal):
            raise Forbidden("Only the person who started the run or an approver can retry it.", principal.id)
        self.db.append_audit(
            action="run.retry_requested",
            actor=principal.actor,
            run_id=run_id,
            agent_id=run.target_id,
            details={"via": str(Surface(surface))},
        )
        if self.queue is not None:
            from runner.jobs import enqueue_retry

            enqueue_retry(self.queue, run_id, run.version)
        return run


def resolve(
    db: Database,
    requirement_id: str,
    actor: Actor,
    action: Action | str,
    *,
    default_approvers: Sequence[str] = (),
    directory: policy.Directory | None = None,
    lookup: Lookup | None = None,
    note: str | None = None,
    args: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
    result: Any = None,
    permalink: str | None = None,
    via: str = "sdk",
) -> DecisionResult:
    """``DecisionService(...).decide`` for one call, without a queue or listeners (tests, scripts)."""
    service = DecisionService(db, lookup=lookup, default_approvers=default_approvers, directory=directory)
    principal = Principal(actor.id or "", actor.name)
    return service.decide(
        requirement_id, principal, action, surface=via, note=note, args=args, values=values, result=result,
        permalink=permalink,
    )


def _rejection_choice(req: RequirementRecord, action: Action, choice: str) -> str:
    """A rejection of a step checkpoint may say what it does; every choice is within what an
    approval could already do (run on, or stop), so it widens nobody's power."""
    if action is not Action.REJECT or not req.kind.value.startswith("step_"):
        raise InvalidDecision("on_reject fits only the rejection of a workflow step", "on_reject")
    allowed = [m.value for m in OnReject]
    if choice not in allowed:
        raise InvalidDecision(f"on_reject must be one of {', '.join(allowed)}, not {choice!r}", "on_reject")
    return choice
