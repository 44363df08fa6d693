"""The agent loop: model turn, tool calls, and the pause when a call needs a human.

The loop works on a plain dict (the run's saved state) and a ``Scope`` (the run's lease and its
requirements as stored in SQL). The state a model turn produced is written before any tool of
that turn is claimed (or with the pause or the answer when nothing runs: one transaction, not
two), every tool call is claimed in SQL before it runs, and its result is written with the next
checkpoint, before the model is asked again: a worker that dies at any point resumes from the
checkpoint and finds the claims, so no tool runs twice.

Each tool call gets a ``call_key`` (member prefix, model turn, call id) that is unique within the
run even when a model reuses call ids across turns; requirements, approvals and execution claims
are all keyed by it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Generator
from typing import Any

from runner.events import RunContent, RunEvent, ToolCallCompleted, ToolCallStarted
from runner.models import ModelResponse, OpenAIChat, ToolCall
from runner.protocols import Completed, LoopAgent, Outcome, Paused, Scope, Steps
from runner.run_context import RunContext
from runner.tools import Function, render_result
from storage.codec import digest
from storage.errors import InvalidDecision, ModelError
from storage.records import (
    Actor,
    ActorKind,
    ExecutionClaim,
    NewRequirement,
    RequirementKind,
    RequirementRecord,
    RequirementStatus,
)
from storage.redaction import redact
from storage.runs import CallResult
from storage.timeouts import MAX_MODEL_TURNS

log = logging.getLogger(__name__)

STATE_FORMAT = 1
"""Version of the saved state's shape; ``upgrade_state`` brings older runs forward."""


def upgrade_state(state: dict[str, Any]) -> dict[str, Any]:
    """Runs paused by an older release resume after an upgrade: migrate their state here."""
    version = state.get("v", 1)
    if version > STATE_FORMAT:
        raise ModelError("bad_state", f"run state format {version} is newer than this release ({STATE_FORMAT})")
    state.setdefault("members", {})
    state.setdefault("results", {})
    state.setdefault("pending", [])
    state["v"] = STATE_FORMAT
    return state


def new_state(instructions: str | None, input: str, requester: str | None) -> dict[str, Any]:
    messages: list[dict[str, Any]] = []
    system = instructions or ""
    if requester:
        system = (system + "\n\n" if system else "") + f"The request comes from user {requester}."
    if system:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": input})
    return {"v": STATE_FORMAT, "messages": messages, "turn": 0, "pending": [], "results": {}, "members": {}}


def rejection_text(tool_name: str, note: str | None, by: str | None) -> str:
    who = f" by {by}" if by else ""
    if note:
        return f"The call to {tool_name} was rejected{who}. Reason: {note}. It was not run."
    return (
        f"The call to {tool_name} was rejected{who} without a reason. It was not run; "
        "do not retry it, tell the user it was not done."
    )


DOUBT_SUFFIX = "#in_doubt"
"""The call key of the in-doubt requirement asking about a claim (``<claim key>#in_doubt``)."""

RERUN_SUFFIX = "#rerun"
"""The claim key a call runs under after a person said its first claim never ran."""


class AwaitingPerson(Exception):
    """Inside an advance: a call is in doubt, so the run pauses. ``new`` is the requirement to
    create (None: it exists and is still pending)."""

    def __init__(self, new: NewRequirement | None) -> None:
        super().__init__("a call is in doubt")
        self.new = new


def doubt_requirement(
    scope: Scope,
    claim_key: str,
    name: str,
    args: dict[str, Any],
    claim: ExecutionClaim,
    *,
    approval_type: str | None,
    approvers: list[str],
    quorum: int,
    sensitive_fields: list[str] | None,
    member: str | None,
    tool_call_id: str | None = None,
) -> NewRequirement:
    """Ask a person whether a call a dead worker left started happened, under the call's own
    policy (an approver, never the requester, for a ``required`` approval). Audited."""
    at = claim.started_at.strftime("%H:%M UTC") if claim.started_at else "an unknown time"
    scope.db.append_audit(
        action="tool.in_doubt",
        actor=Actor.system(),
        outcome="asked",
        run_id=scope.run_id,
        agent_id=scope.agent_id,
        tool_name=name,
        reason="a worker stopped while the call was running; a person is asked whether it happened",
        details={"call_key": claim_key, "started_at": at, "worker": claim.worker},
    )
    return NewRequirement(
        call_key=claim_key + DOUBT_SUFFIX,
        kind=RequirementKind.IN_DOUBT,
        tool_call_id=tool_call_id,
        tool_name=name,
        tool_args=args,
        member_agent_name=member,
        approval_type=approval_type,
        message=f"It may have run when its worker died at {at}. Did it happen?",
        approvers=approvers,
        quorum=quorum,
        agent_id=scope.agent_id,
        sensitive_fields=sensitive_fields,
    )


def settled_call(scope: Scope, claim_key: str, name: str, doubt: RequirementRecord) -> str | None:
    """What a person said about an in-doubt call: it ran (their result, the claim closed as
    succeeded), it did not run (None: the claim is closed as abandoned and the caller runs it
    under a new key, once), or fail the run (``ModelError``; also when nobody answered in time)."""
    outcome = doubt.resolution.get("outcome")
    who = doubt.resolved_by_name or doubt.resolved_by or "a person"
    actor = Actor(doubt.resolved_by, doubt.resolved_by_name)
    if doubt.status is RequirementStatus.DONE_EXTERNALLY and outcome == "ran":
        result = str(doubt.resolution.get("result", ""))
        scope.db.settle_execution(
            scope.run_id, claim_key, status="succeeded", result=result,
            audit={"action": "tool.settled", "actor": actor, "outcome": "ran", "tool_name": name,
                   "requirement_id": doubt.id, "agent_id": scope.agent_id},
        )
        return f"{name} did run before its worker stopped ({who} confirmed it). Its result: {result}"
    if doubt.status is RequirementStatus.APPROVED and outcome == "not_run":
        scope.db.settle_execution(
            scope.run_id, claim_key, status="abandoned", result=None,
            audit={"action": "tool.settled", "actor": actor, "outcome": "not_run", "tool_name": name,
                   "requirement_id": doubt.id, "agent_id": scope.agent_id},
        )
        return None
    if doubt.status is RequirementStatus.REJECTED:
        raise ModelError(
            "in_doubt",
            f"{who} failed the run: {name} may have run when its worker stopped, and it was not run again.",
        )
    raise ModelError(
        "in_doubt",
        f"nobody said whether {name} ran when its worker stopped (the request was {doubt.status}); "
        "it was not run again. Check its effect by hand.",
    )


class AgentLoop:
    """Advances one agent's conversation; nested for team members (``prefix``/``member``)."""

    def __init__(
        self,
        agent: LoopAgent,
        scope: Scope,
        state: dict[str, Any],
        *,
        root_state: dict[str, Any] | None = None,
        prefix: str = "",
        member: str | None = None,
    ) -> None:
        self.agent = agent
        self.scope = scope
        self.state = upgrade_state(state)
        self.root_state = root_state if root_state is not None else state
        self.prefix = prefix
        self.member = member

    # ------------------------------------------------------------------ main

    def advance(self) -> Steps:
        while True:
            if self.state["pending"]:
                outcome = yield from self._process_pending()
                if outcome is not None:
                    return outcome
            if self.state["turn"] >= MAX_MODEL_TURNS:
                raise ModelError(
                    "too_many_turns", f"{self.agent.name} called the model {MAX_MODEL_TURNS} times without finishing"
                )
            response = yield from self._model_turn()
            for call in response.tool_calls:
                # Malformed arguments fail the run, state kept. Checked before the turn is recorded:
                # a saved tool_calls message without tool answers is refused by OpenAI on retry.
                call.parsed_arguments()
            self.state["turn"] += 1
            self.state["messages"].append(response.to_message())
            if not response.tool_calls:
                if self.root_state is self.state:
                    # The run's own conversation: the driver writes the answer with the state.
                    self.scope.unsaved = True
                else:
                    self.scope.checkpoint(self.root_state)
                return Completed(response.content)
            self.state["pending"] = [
                {
                    "key": f"{self.prefix}t{self.state['turn']}:{c.id}",
                    "id": c.id,
                    "name": c.name,
                    "arguments": c.arguments,
                }
                for c in response.tool_calls
            ]
            self.state["results"] = {}
            # Saved before any of these calls is claimed (``_execute``), or with the pause.
            self.scope.unsaved = True

    def _model_turn(self) -> Generator[RunEvent, None, ModelResponse]:
        model = self.agent.get_model()
        if isinstance(model, OpenAIChat):
            model.use_defaults(self.scope.model_defaults)
        tools = [f.to_openai() for f in self.agent.functions()]
        if not self.scope.stream:
            return model.response(self.state["messages"], tools)
        final: ModelResponse | None = None
        for chunk in model.response_stream(self.state["messages"], tools):
            if isinstance(chunk, str):
                if chunk:
                    yield RunContent(self.scope.run_id, content=chunk, member_agent_name=self.member)
            else:
                final = chunk
        if final is None:
            raise ModelError("server_error", "the model's stream ended without a response")
        return final

    # ----------------------------------------------------------- tool calls

    def _process_pending(self) -> Generator[RunEvent, None, Outcome | None]:
        new: list[NewRequirement] = []
        waiting = False
        stop_after = False
        for call in self.state["pending"]:
            key = call["key"]
            if key in self.state["results"]:
                continue
            fn = self.agent.function(call["name"])
            args = ToolCall(call["id"], call["name"], call["arguments"]).parsed_arguments()
            if fn is None:
                self.state["results"][key] = (
                    f"Error: there is no tool named {call['name']!r}; available: {', '.join(self.agent.tool_names())}"
                )
                continue
            try:
                # The model's arguments meet the tool's signature before anyone is asked or anything
                # runs; user-input fields are the human's to fill, so only what was sent is checked.
                args = fn.validate(args, partial=bool(fn.user_input_fields))
            except InvalidDecision as exc:
                self.state["results"][key] = f"Error: invalid arguments for {fn.name}: {exc.message}. Fix and retry."
                continue
            if fn.member is not None:
                sub = yield from self._delegate(fn.member, key, args)
                if isinstance(sub, Paused):
                    new.extend(sub.new)
                    waiting = True
                else:
                    self.state["results"][key] = sub.content or ""
                continue
            step = fn.human_step(args)
            if step is None:
                if fn.needs_audit_record(args):
                    self.scope.db.record_audit_approval(
                        run_id=self.scope.run_id,
                        call_key=key,
                        agent_id=self.scope.agent_id,
                        tool_name=fn.name,
                        tool_args=args,
                        requester=self.scope.requester,
                        sensitive_fields=fn.sensitive_fields,
                    )
                try:
                    result = yield from self._execute(key, fn, args)
                except AwaitingPerson as doubt:
                    new.extend([doubt.new] if doubt.new else [])
                    waiting = True
                    continue
                self.state["results"][key] = result
                stop_after = stop_after or fn.stop_after_tool_call
                continue
            record = self.scope.decisions.get(key)
            if record is None:
                new.append(self._requirement_for(key, call["id"], fn, args, step))
                waiting = True
                continue
            if record.is_pending:
                waiting = True
                continue
            try:
                result, ran = yield from self._apply(record, key, fn, args)
            except AwaitingPerson as doubt:
                new.extend([doubt.new] if doubt.new else [])
                waiting = True
                continue
            self.state["results"][key] = result
            stop_after = stop_after or (ran and fn.stop_after_tool_call)
        if waiting:
            if self.scope.finished and self.root_state is not self.state:
                # A member or a workflow step: its caller may run more before the pause is
                # written, so the results of the calls that ran are written now.
                self.scope.checkpoint(self.root_state)
            return Paused(new)
        for call in self.state["pending"]:
            self.state["messages"].append(
                {"role": "tool", "tool_call_id": call["id"], "content": self.state["results"][call["key"]]}
            )
        results = [self.state["results"][c["key"]] for c in self.state["pending"]]
        self.state["pending"] = []
        self.state["results"] = {}
        self.scope.checkpoint(self.root_state)
        if stop_after:
            content = "\n".join(results)
            if self.scope.stream and content:
                # A streamed answer is streamed, whatever its source.
                yield RunContent(self.scope.run_id, content=content, member_agent_name=self.member)
            return Completed(content)
        return None

    def _requirement_for(self, key: str, call_id: str, fn: Function, args: dict[str, Any], step: str) -> NewRequirement:
        kind = RequirementKind(step)
        policy = fn.approval if fn.needs_required_approval(args) else None
        nudges = policy.reminders.over(fn.reminders) if policy else fn.reminders
        if kind is RequirementKind.USER_INPUT:
            schema = [f.to_dict() for f in fn.input_fields(args)]
            reason = f"{fn.name} needs values only a person can give: {', '.join(f['name'] for f in schema)}"
        elif kind is RequirementKind.EXTERNAL_EXECUTION:
            schema = []
            reason = f"{fn.name} is done by a person outside signoff; hand back its result"
        else:
            schema = []
            reason = "needs an approver's sign-off" if policy else f"{fn.name} needs confirmation before it runs"
        return NewRequirement(
            call_key=key,
            kind=kind,
            tool_call_id=call_id,
            tool_name=fn.name,
            tool_args=args,
            member_agent_name=self.member,
            approval_type="required" if policy else None,
            user_input_schema=schema,
            message=reason,
            approvers=list(policy.approvers) if policy else [],
            quorum=policy.quorum if policy else 1,
            expires_in_s=policy.expires_in if policy else None,
            agent_id=self.scope.agent_id,
            sensitive_fields=list(fn.sensitive_fields),
            # The approval's own reminders, else the tool's; the driver fills in the settings'.
            remind_in_s=nudges.remind_after,
            escalate_in_s=nudges.escalate_after,
            escalate_to=list(nudges.escalate_to) or None,
        )

    def _apply(
        self, record: RequirementRecord, key: str, fn: Function, args: dict[str, Any]
    ) -> Generator[RunEvent, None, tuple[str, bool]]:
        """Turn a decided requirement into the tool's result; returns (result, tool_ran)."""
        who = record.resolved_by_name or record.resolved_by
        status = record.status
        if fn.needs_audit_record(args) and status is not RequirementStatus.CANCELLED:
            # @approval(type="audit") on a tool with a human step: the row carries the person's outcome.
            self.scope.db.record_audit_approval(
                run_id=self.scope.run_id,
                call_key=key,
                agent_id=self.scope.agent_id,
                tool_name=fn.name,
                tool_args=args,
                requester=self.scope.requester,
                sensitive_fields=fn.sensitive_fields,
                status="rejected" if status in (RequirementStatus.REJECTED, RequirementStatus.EXPIRED) else "approved",
                requirement_id=record.id,
                resolved_by=record.resolved_by,
                resolved_at=record.resolved_at,
                note=record.resolution.get("note"),
            )
        if status is RequirementStatus.APPROVED:
            if digest(args) != record.args_hash:
                self._audit_refusal(
                    record, "binding_mismatch", "the arguments about to run differ from the approved ones"
                )
                return (f"Error: {fn.name} was not run: its arguments changed after approval.", False)
            edited = record.resolution.get("edited_args")
            run_args = edited if edited is not None else args
            if edited is not None and record.resolution.get("edited_args_hash") not in (None, digest(edited)):
                self._audit_refusal(record, "binding_mismatch", "edited arguments do not match their hash")
                return (f"Error: {fn.name} was not run: its edited arguments were altered.", False)
            if fn.needs_required_approval(run_args) and record.approval_type != "required":
                # Defence in depth: the decision service escalates such an edit to the approvers;
                # an approval that never happened is never assumed here.
                self._audit_refusal(
                    record, "approval_missing", "the final arguments need a required approval that was not given"
                )
                return (f"Error: {fn.name} was not run: these arguments need an approver's sign-off.", False)
            result = yield from self._execute(key, fn, run_args, record)
            if edited is not None:
                # What the model is told about an edit is redacted like every other surface.
                hidden = record.sensitive_fields
                before, after = redact(args, hidden) or {}, redact(edited, hidden) or {}
                changes = {
                    k: {"from": before.get(k), "to": v} for k, v in after.items() if args.get(k) != edited.get(k)
                }
                result = (
                    f"Note: {who or 'a reviewer'} edited the arguments before approving "
                    f"({render_result(changes)}); the tool ran with {render_result(after)}. "
                    f"Result: {result}"
                )
            return result, True
        if status is RequirementStatus.REJECTED:
            return rejection_text(fn.name, record.resolution.get("note"), who), False
        if status is RequirementStatus.ANSWERED:
            values = record.resolution.get("values", {})
            result = yield from self._execute(key, fn, args | values, record)
            return result, True
        if status is RequirementStatus.DONE_EXTERNALLY:
            return str(record.resolution.get("result", "")), True
        if status is RequirementStatus.EXPIRED:
            return (
                f"Nobody decided on {fn.name} before the request expired; it was not run. "
                "Tell the user it needs a new request."
            ), False
        return f"{fn.name} was cancelled and not run.", False

    def _execute(
        self, key: str, fn: Function, args: dict[str, Any], record: RequirementRecord | None = None
    ) -> Generator[RunEvent, None, str]:
        db = self.scope.db
        claim_key, doubt = key, None
        while True:
            # A call a person settled after its worker died: their answer, or run it under a new key.
            doubt = self.scope.decisions.get(claim_key + DOUBT_SUFFIX)
            if doubt is None or doubt.is_pending:
                break
            settled = settled_call(self.scope, claim_key, fn.name, doubt)
            if settled is not None:
                return settled
            claim_key += RERUN_SUFFIX
        # The turn that asked for this call is in SQL before the claim: a resumed run finds the
        # same call (same key) and its claim, never a fresh one.
        self.scope.flush(self.root_state)
        claim = db.claim_execution(
            self.scope.run_id,
            claim_key,
            tool_name=fn.name,
            args_hash=digest(args),
            requirement_id=record.id if record else None,
        )
        if claim.status == "done":
            return claim.result or ""
        if claim.status != "claimed":
            if doubt is not None:
                raise AwaitingPerson(None)  # already asked; still waiting for the answer
            if record is not None:
                approval_type, approvers, quorum = record.approval_type, list(record.approvers), record.quorum
            elif fn.needs_required_approval(args):
                assert fn.approval is not None
                approval_type, approvers, quorum = "required", list(fn.approval.approvers), fn.approval.quorum
            else:
                approval_type, approvers, quorum = None, [], 1
            raise AwaitingPerson(
                doubt_requirement(
                    self.scope, claim_key, fn.name, args, claim,
                    approval_type=approval_type, approvers=approvers, quorum=quorum,
                    sensitive_fields=list(fn.sensitive_fields), member=self.member,
                    tool_call_id=record.tool_call_id if record else None,
                )
            )
        yield ToolCallStarted(self.scope.run_id, tool_name=fn.name, tool_args=args, member_agent_name=self.member)
        context = self._run_context() if fn.wants_run_context else None
        before = json_copy(context.session_state) if context is not None else None
        try:
            result = fn.execute(args, context)
            status = "succeeded"
        except Exception as exc:
            log.warning("tool %s failed: %s", fn.name, exc)
            result = f"Error: {fn.name} failed: {type(exc).__name__}: {exc}"
            status = "failed"
        # The result is written with the checkpoint that records it (before the model is asked
        # again or another call is claimed), or with the pause or the run's end.
        self.scope.finished.append(CallResult(
            claim_key,
            status,
            result,
            audit={
                "action": "tool.executed",
                "actor": Actor(None, self.member or self.scope.agent_id, ActorKind.AGENT),
                "outcome": status,
                "agent_id": self.scope.agent_id,
                "tool_name": fn.name,
                "requirement_id": record.id if record else None,
                "arguments": redact(args, fn.sensitive_fields),
                "details": {"result_sha256": digest(result), "approval": fn.approval_type},
            },
        ))
        if context is not None and context.session_state != before:
            self.scope.session_state = context.session_state
            db.set_session_state(self.scope.run_id, context.session_state)
        yield ToolCallCompleted(
            self.scope.run_id, tool_name=fn.name, result=result, status=status, member_agent_name=self.member
        )
        return result

    def _run_context(self) -> RunContext:
        scope = self.scope
        if scope.session_state is None:
            scope.session_state = {}
        return RunContext(run_id=scope.run_id, session_id=scope.session_id, user_id=scope.requester,
                          session_state=scope.session_state, dependencies=scope.dependencies)

    def _audit_refusal(self, record: RequirementRecord, outcome: str, reason: str) -> None:
        self.scope.db.append_audit(
            action="tool.refused",
            actor=Actor.system(),
            outcome=outcome,
            run_id=self.scope.run_id,
            requirement_id=record.id,
            tool_name=record.tool_name,
            reason=reason,
        )

    # ----------------------------------------------------------------- teams

    def _delegate(self, member: LoopAgent, key: str, args: dict[str, Any]) -> Generator[RunEvent, None, Outcome]:
        """Run (or resume) a team member inside this run; its pause is the team's pause."""
        members = self.state["members"]
        if key not in members:
            task = str(args.get("task") or args.get("input") or render_result(args))
            members[key] = new_state(member.instructions_text(), task, self.scope.requester)
            members[key]["member"] = {"id": member.id, "name": member.name}  # for the session's member runs
        sub = AgentLoop(
            member, self.scope, members[key], root_state=self.root_state, prefix=f"{key}/", member=member.name
        )
        return (yield from sub.advance())


def json_copy(value: Any) -> Any:
    """A deep copy through JSON: what ``session_state`` looks like once saved, to compare with."""
    return json.loads(json.dumps(value, default=str)) if value is not None else None
