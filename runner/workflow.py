"""``Workflow``: steps in sequence, each an agent, a team or a Python function, with checkpoints.

A step's output is the next step's input. A step marked ``requires_confirmation`` pauses the
workflow *before* it runs and shows the previous step's output to a person (the requirement's
``tool_args["previous_output"]``, its ``message`` the step's ``confirmation_message``); a step
marked ``requires_user_input`` asks for the fields of its ``user_input_schema`` and hands the
answers to the step. An agent or team step that pauses on a tool pauses the whole workflow, with
the step agent's requirements on the workflow's output; ``continue_run`` resumes inside the step.

Everything lives in one run row: the step index, every step's outcome and the nested agent
state, so a workflow paused by one process is continued by another (``run_id`` alone), through
the same driver, requirements and listeners as an agent. Step requirements have their own
kinds (``step_confirmation``, ``step_user_input``) with the step's name as ``tool_name``.

Agno's step protocol: an executor may take a ``StepInput`` and return a ``StepOutput``; a step
with ``requires_output_review`` (or ``human_review=HumanReview(requires_output_review=True)``)
pauses *after* it ran with a ``step_output_review`` requirement: a person approves, rejects or
edits the output (``requirement.edit(text)``; in Slack and the API the ``edit`` action with
``args={"output": ...}``) before it flows on; ``on_reject="retry"`` reruns the step (up to
``max_retries``) with the reviewer's note. Streams carry ``StepStarted``/``StepCompleted``/
``StepPaused``/``StepContinued`` events, and a workflow starts and ends with ``WorkflowStarted``
and ``WorkflowCompleted`` (``WorkflowCancelled``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from runner.agent import Agent, slug
from runner.events import (
    RunEvent,
    StepCompleted,
    StepContinued,
    StepExecutorPaused,
    StepPaused,
    StepStarted,
    ToolCallCompleted,
    ToolCallStarted,
)
from runner.listener import RunListener
from runner.loop import DOUBT_SUFFIX, RERUN_SUFFIX, AgentLoop, doubt_requirement, new_state, settled_call
from runner.output import RunOutput
from runner.protocols import Cancelled, Completed, Outcome, Paused, Scope, Steps
from runner.run_api import RunAPI
from runner.step_types import HumanReview, StepInput, StepOutput
from runner.team import find_function
from runner.tools import Function, UserInputField, render_result, resolve_awaitable
from storage.codec import digest
from storage.database import Database
from storage.errors import ModelError, ToolConfigError
from storage.records import (
    Actor,
    ActorKind,
    NewRequirement,
    RequirementKind,
    RequirementRecord,
    RequirementStatus,
)

WORKFLOW_STATE_FORMAT = 1

WorkflowRunOutput = RunOutput
"""The seed's name: a workflow run returns the same ``RunOutput`` as an agent (``is_paused``,
``steps_requiring_confirmation``, ``step_requirements``, ``requirements`` ...)."""


class OnReject(StrEnum):
    """What a rejected (or expired) step checkpoint does to the workflow."""

    skip = "skip"
    """Do not run the step; continue with the previous step's output."""
    cancel = "cancel"
    """End the workflow, status ``cancelled``, content saying where and by whom."""
    retry = "retry"
    """Output review only: run the step again (up to ``max_retries``) with the reviewer's note."""
    else_branch = "else"
    """Agno's Condition option; on a plain step it means skip."""


Executor = Callable[[str], Any]


@dataclass
class Step:
    """One step: exactly one of ``agent``, ``team`` or ``executor`` (``input str -> str``).

    ``on_reject`` defaults to ``cancel``: a person who turns a checkpoint down most often
    means "stop here", and skipping ahead to later steps is the choice that should be explicit.
    ``user_input_schema`` lists the fields to ask for: ``UserInputField``s, dicts of the same
    shape (``name``, ``field_type``, ``description``, ``required``) or plain names (text).
    """

    name: str
    agent: Agent | None = None
    team: Agent | None = None
    executor: Executor | None = None
    description: str | None = None
    requires_confirmation: bool = False
    confirmation_message: str | None = None
    on_reject: OnReject | str = OnReject.cancel
    requires_user_input: bool = False
    user_input_message: str | None = None
    user_input_schema: Sequence[UserInputField | dict[str, Any] | str] | None = None
    requires_output_review: bool = False
    output_review_message: str | None = None
    max_retries: int = 3
    human_review: HumanReview | None = None
    _fields: list[dict[str, Any]] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        review = self.human_review
        if review is not None:
            self.requires_confirmation = self.requires_confirmation or review.requires_confirmation
            self.confirmation_message = self.confirmation_message or review.confirmation_message
            self.requires_user_input = self.requires_user_input or review.requires_user_input
            self.user_input_message = self.user_input_message or review.user_input_message
            self.user_input_schema = self.user_input_schema or review.user_input_schema
            self.requires_output_review = self.requires_output_review or review.requires_output_review
            self.output_review_message = self.output_review_message or review.output_review_message
            self.max_retries = review.max_retries
            if review.on_reject is not None:
                self.on_reject = review.on_reject
        given = [x for x in (self.agent, self.team, self.executor) if x is not None]
        if len(given) != 1:
            raise ToolConfigError(f"step {self.name!r}: give exactly one of agent=, team= or executor=")
        if self.executor is not None and not callable(self.executor):
            raise ToolConfigError(f"step {self.name!r}: executor must be a callable (input str -> str)")
        try:
            self.on_reject = OnReject(self.on_reject)
        except ValueError:
            raise ToolConfigError(f"step {self.name!r}: on_reject must be 'skip', 'cancel' or "
                                  f"'retry', not {self.on_reject!r}") from None
        self._fields = [_field_dict(f) for f in (self.user_input_schema or [])]
        if self._fields:
            self.requires_user_input = True
        if self.requires_user_input and not self._fields:
            self._fields = [UserInputField(name="input", field_type="str",
                                           description=self.user_input_message).to_dict()]
        names = [f["name"] for f in self._fields]
        if len(set(names)) != len(names):
            raise ToolConfigError(f"step {self.name!r}: user_input_schema names a field twice")

    @property
    def target(self) -> Agent | None:
        """The agent or team that runs this step (None for an executor)."""
        return self.agent if self.agent is not None else self.team

    @property
    def runner_name(self) -> str | None:
        target = self.target
        return target.name if target is not None else None


def _field_dict(spec: UserInputField | dict[str, Any] | str) -> dict[str, Any]:
    if isinstance(spec, str):
        return UserInputField(name=spec, field_type="str").to_dict()
    if isinstance(spec, UserInputField):
        return spec.to_dict() | {"value": None}
    if isinstance(spec, dict) and spec.get("name"):
        return UserInputField.from_dict(dict(spec)).to_dict() | {"value": None}
    raise ToolConfigError(f"user_input_schema entry {spec!r}: give a UserInputField, a dict with "
                          "'name', or a field name")


def _as_step(item: Any) -> Step:
    """Agents, teams and plain functions may be listed directly, as in the seed's API."""
    if isinstance(item, Step):
        return item
    if isinstance(item, Workflow):
        raise ToolConfigError("a workflow cannot be a step of another workflow")
    if isinstance(item, Agent):
        return Step(name=item.name, agent=item) if item.kind == "agent" else Step(name=item.name, team=item)
    if callable(item):
        return Step(name=getattr(item, "__name__", "step"), executor=item)
    raise ToolConfigError(f"{item!r} is not a Step, an agent, a team or a function")


def _who(record: RequirementRecord) -> str | None:
    return record.resolved_by_name or record.resolved_by


class Workflow(RunAPI):
    """Steps run in order; checkpoints pause between them. Same run API as ``Agent``."""

    kind = "workflow"

    def __init__(
        self,
        id: str | None = None,
        name: str | None = None,
        steps: Sequence[Step | Any] | None = None,
        description: str | None = None,
        db: Database | None = None,
        listeners: Sequence[RunListener] | None = None,
        **_options: Any,
    ) -> None:
        self.id = id or (slug(name) if name else "workflow")
        self.name = name or self.id
        self.steps: list[Step] = [_as_step(s) for s in (steps or [])]
        if not self.steps:
            raise ToolConfigError(f"workflow {self.name!r} has no steps")
        names = [s.name for s in self.steps]
        clashes = sorted({n for n in names if names.count(n) > 1})
        if clashes:
            raise ToolConfigError(f"workflow {self.name!r}: two steps are named {clashes[0]!r}; "
                                  "step checkpoints are shown by name, so names must be unique")
        self.description = description or " -> ".join(names)
        self.db = db
        self.listeners = list(listeners or [])

    # ------------------------------------------------------------ Runnable hooks

    def initial_state(self, input: str, requester: str | None) -> dict[str, Any]:
        return {"v": WORKFLOW_STATE_FORMAT, "input": input, "index": 0, "current": input,
                "steps": {}, "history": []}

    def advance(self, scope: Scope, state: dict[str, Any]) -> Steps:
        """The driver's hook: run steps from the saved index until a pause or the end."""
        return self._advance(scope, state)

    def lookup(self, member: str | None, tool: str | None) -> Function | None:
        """A step agent's (or its team members') tool. A step with output review has a Function
        with one ``output`` parameter, so an edit of its output is checked like a tool's."""
        if member is None:
            step = self.step(tool) if tool else None
            if step is not None and step.requires_output_review:
                return _review_function(step)
            return None
        for step in self.steps:
            if step.target is not None:
                found = find_function(step.target, member, tool)
                if found is not None:
                    return found
        return None

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)

    # ------------------------------------------------------------------ running

    def _advance(self, scope: Scope, state: dict[str, Any]) -> Generator[RunEvent, None, Outcome]:
        version = state.get("v", 1)
        if version > WORKFLOW_STATE_FORMAT:
            raise ModelError("bad_state", f"workflow state format {version} is newer than this "
                             f"release ({WORKFLOW_STATE_FORMAT})")
        while state["index"] < len(self.steps):
            index = state["index"]
            step = self.steps[index]
            step_state: dict[str, Any] = state["steps"].setdefault(str(index), {"name": step.name})

            if step.requires_confirmation and not step_state.get("confirmed"):
                gate = self._gate(scope, state, index, step, RequirementKind.STEP_CONFIRMATION)
                if isinstance(gate, Paused):
                    return gate
                if gate.status is not RequirementStatus.APPROVED:
                    refused = self._refused(scope, state, index, step, gate)
                    if refused is not None:
                        return refused
                    continue
                step_state["confirmed"] = True
                step_state["confirmed_by"] = _who(gate)

            if step.requires_user_input and "user_input" not in step_state:
                gate = self._gate(scope, state, index, step, RequirementKind.STEP_USER_INPUT)
                if isinstance(gate, Paused):
                    return gate
                if gate.status is not RequirementStatus.ANSWERED:
                    refused = self._refused(scope, state, index, step, gate)
                    if refused is not None:
                        return refused
                    continue
                step_state["user_input"] = dict(gate.resolution.get("values", {}))
                step_state["input_by"] = _who(gate)

            if "input" not in step_state:
                step_state["input"] = self._step_input(state["current"], step, step_state)
            if state.pop("paused_step", None) == step.name:
                yield StepContinued(scope.run_id, step_name=step.name, step_index=index)
            elif "result" not in step_state and "agent" not in step_state:
                yield StepStarted(scope.run_id, step_name=step.name, step_index=index)
            if "result" in step_state:
                result: str | Paused = step_state["result"]
            else:
                result = yield from self._run_step(scope, state, index, step, step_state)
                if isinstance(result, Paused):
                    state["paused_step"] = step.name
                    yield StepExecutorPaused(scope.run_id, step_name=step.name, step_index=index)
                    return result
                step_state["result"] = result
            assert isinstance(result, str)
            if step.requires_output_review:
                review = self._review(scope, state, index, step, step_state, result)
                if isinstance(review, Paused):
                    state["paused_step"] = step.name
                    if review.new:
                        yield StepPaused(scope.run_id, step_name=step.name, step_index=index,
                                         requires_output_review=True)
                    return review
                if review.status is RequirementStatus.APPROVED:
                    edited = review.resolution.get("edited_args") or {}
                    result = str(edited.get("output", result))
                    step_state["reviewed_by"] = _who(review)
                else:
                    retries = int(step_state.get("reviews", 0))
                    if step.on_reject is OnReject.retry and retries < step.max_retries:
                        self._retry(step, step_state, review)
                        scope.checkpoint(state)
                        continue
                    refused = self._refused(scope, state, index, step, review)
                    if refused is not None:
                        return refused
                    continue
            state["history"].append({"step": step.name, "step_name": step.name, "status": "completed",
                                     "content": result})
            step_state["output"] = result
            state["current"] = result
            state["index"] = index + 1
            scope.checkpoint(state)
            yield StepCompleted(scope.run_id, step_name=step.name, step_index=index, content=result)
            if step_state.get("stop"):
                break
        return Completed(self._final_content(state))

    def _review(self, scope: Scope, state: dict[str, Any], index: int, step: Step,
                step_state: dict[str, Any], output: str) -> Paused | RequirementRecord:
        """The step's output review: ask once per attempt, then return the person's decision."""
        key = f"s{index}:review#{int(step_state.get('reviews', 0))}"
        record = scope.decisions.get(key)
        if record is None:
            message = step.output_review_message or f"Review the output of step '{step.name}' before it flows on."
            return Paused([NewRequirement(
                call_key=key, kind=RequirementKind.STEP_OUTPUT_REVIEW, tool_name=step.name,
                tool_args={"output": output}, message=message, agent_id=scope.agent_id,
            )])
        if record.is_pending:
            return Paused([])
        return record

    @staticmethod
    def _retry(step: Step, step_state: dict[str, Any], review: RequirementRecord) -> None:
        """Run the step again with the reviewer's note; its executor claim is a new attempt."""
        note = review.resolution.get("note")
        step_state["reviews"] = int(step_state.get("reviews", 0)) + 1
        step_state["attempt"] = int(step_state.get("attempt", 0)) + 1
        step_state.pop("result", None)
        step_state.pop("agent", None)
        base = step_state.setdefault("original_input", step_state["input"])
        if note:
            step_state["input"] = f"{base}\n\nA reviewer rejected the previous output: {note}. Do it again."
        else:
            step_state["input"] = base

    def _gate(self, scope: Scope, state: dict[str, Any], index: int, step: Step,
              kind: RequirementKind) -> Paused | RequirementRecord:
        """The step's checkpoint: ask once, then return the person's decision."""
        suffix = "confirm" if kind is RequirementKind.STEP_CONFIRMATION else "input"
        key = f"s{index}:{suffix}"
        record = scope.decisions.get(key)
        if record is None:
            if kind is RequirementKind.STEP_CONFIRMATION:
                message = step.confirmation_message or f"Confirm step '{step.name}' before it runs."
                schema: list[dict[str, Any]] = []
            else:
                fields = ", ".join(f["name"] for f in step._fields)
                message = step.user_input_message or f"Step '{step.name}' needs: {fields}."
                schema = [dict(f) for f in step._fields]
            return Paused([NewRequirement(
                call_key=key, kind=kind, tool_name=step.name,
                tool_args={"previous_output": state["current"]},
                user_input_schema=schema, message=message, agent_id=scope.agent_id,
            )])
        if record.is_pending:
            return Paused([])
        return record

    def _refused(self, scope: Scope, state: dict[str, Any], index: int, step: Step,
                 record: RequirementRecord) -> Cancelled | None:
        """A checkpoint turned down (or expired): skip the step or cancel, as configured."""
        who = _who(record)
        if record.status is RequirementStatus.REJECTED:
            reason = f"rejected by {who}" if who else "rejected"
            note = record.resolution.get("note")
            if note:
                reason += f" ({note})"
        elif record.status is RequirementStatus.EXPIRED:
            reason = "nobody decided before the request expired"
        else:
            reason = f"its request was {record.status}" + (f" by {who}" if who else "")
        if step.on_reject in (OnReject.cancel, OnReject.retry):
            state["history"].append({"step": step.name, "status": "cancelled", "reason": reason})
            state["cancelled_at"] = step.name
            by = Actor(record.resolved_by, record.resolved_by_name,
                       ActorKind.HUMAN if record.resolved_by else ActorKind.SYSTEM)
            return Cancelled(f"Workflow cancelled at step '{step.name}': {reason}.", by=by)
        state["history"].append({"step": step.name, "status": "skipped", "reason": reason})
        state["steps"][str(index)]["skipped"] = reason
        state["index"] = index + 1
        scope.checkpoint(state)
        return None

    @staticmethod
    def _step_input(previous: str, step: Step, step_state: dict[str, Any]) -> str:
        """The previous output, then the person's answers as plain text, in the schema's order."""
        values: dict[str, Any] = step_state.get("user_input") or {}
        if not values:
            return previous
        who = step_state.get("input_by")
        order = [f["name"] for f in step._fields if f["name"] in values]
        order += [name for name in values if name not in order]
        lines = "\n".join(f"- {name}: {render_result(values[name])}" for name in order)
        heading = f"Input provided by {who}:" if who else "Input provided by a person:"
        return f"{previous}\n\n{heading}\n{lines}" if previous else f"{heading}\n{lines}"

    def _run_step(self, scope: Scope, state: dict[str, Any], index: int, step: Step,
                  step_state: dict[str, Any]) -> Generator[RunEvent, None, str | Paused]:
        text: str = step_state["input"]
        if step.executor is not None:
            return (yield from self._run_executor(scope, state, index, step, step_state, text))
        target = step.target
        assert target is not None  # a step without an executor has an agent or a team
        if "agent" not in step_state:
            step_state["agent"] = new_state(target.instructions_text(), text, scope.requester)
        attempt = int(step_state.get("attempt", 0))
        loop = AgentLoop(target, scope, step_state["agent"], root_state=state,
                         prefix=f"s{index}/" if not attempt else f"s{index}.{attempt}/", member=target.name)
        outcome = yield from loop.advance()
        if isinstance(outcome, Paused):
            return outcome
        return outcome.content or ""

    def _run_executor(self, scope: Scope, state: dict[str, Any], index: int, step: Step,
                      step_state: dict[str, Any],
                      text: str) -> Generator[RunEvent, None, str | Paused]:
        """Run a Python step at most once, claimed in SQL like a tool (a retry reuses its result).

        A step a dead worker left started is in doubt: the run pauses and a person says whether
        it happened (its result), that it did not (it runs now, once), or fails the run."""
        assert step.executor is not None
        db = scope.db
        attempt = int(step_state.get("attempt", 0))
        key = f"s{index}:run#{attempt}"
        doubt = scope.decisions.get(key + DOUBT_SUFFIX)
        while doubt is not None and not doubt.is_pending:
            settled = settled_call(scope, key, step.name, doubt)
            if settled is not None:
                return settled
            key += RERUN_SUFFIX
            doubt = scope.decisions.get(key + DOUBT_SUFFIX)
        claim = db.claim_execution(scope.run_id, key, tool_name=step.name,
                                   args_hash=digest({"input": text}))
        if claim.status == "done":
            return claim.result or ""
        if claim.status != "claimed":
            if doubt is not None:
                return Paused([])
            return Paused([doubt_requirement(scope, key, step.name, {"input": text}, claim,
                                             approval_type=None, approvers=[], quorum=1,
                                             sensitive_fields=[], member=None)])
        yield ToolCallStarted(scope.run_id, tool_name=step.name, tool_args={"input": text})
        try:
            argument: Any = text
            if _wants_step_input(step.executor):
                argument = self._step_input_object(state, step, step_state, text)
            result = resolve_awaitable(step.executor(argument))
            if isinstance(result, StepOutput):
                if not result.success:
                    raise RuntimeError(result.error or render_result(result.content) or "the step failed")
                step_state["stop"] = bool(result.stop)
                result = result.content
            output = render_result(result) if result is not None else ""
            status = "succeeded"
        except Exception as exc:
            output = f"Error: step {step.name} failed: {type(exc).__name__}: {exc}"
            status = "failed"
        db.finish_execution(scope.run_id, key, status=status, result=output, audit={
            "action": "step.executed", "actor": Actor(None, self.name, ActorKind.AGENT),
            "outcome": status, "agent_id": scope.agent_id, "tool_name": step.name,
            "details": {"result_sha256": digest(output), "attempt": attempt},
        })
        yield ToolCallCompleted(scope.run_id, tool_name=step.name, result=output, status=status)
        if status == "failed":
            # The failure is known, not in doubt: a retry_run may run the step again.
            step_state["attempt"] = attempt + 1
            raise ModelError("step_failed", output)
        return output

    def _step_input_object(self, state: dict[str, Any], step: Step, step_state: dict[str, Any],
                           text: str) -> StepInput:
        """Agno's ``StepInput``: the workflow input, the previous output, every earlier output."""
        earlier = {h["step"]: StepOutput(content=h.get("content"), step_name=h["step"])
                   for h in state["history"] if h.get("status") == "completed"}
        extra: dict[str, Any] = {}
        if step_state.get("user_input"):
            extra["user_input"] = dict(step_state["user_input"])
        previous = state["current"] if state["index"] > 0 or earlier else None
        if step_state.get("original_input") is not None and text != step_state["original_input"]:
            extra["feedback"] = text
        return StepInput(input=state["input"], previous_step_content=previous,
                         previous_step_outputs=earlier, additional_data=extra)

    @staticmethod
    def _final_content(state: dict[str, Any]) -> str:
        """The last output; skipped steps are named after it, so nobody mistakes it for theirs."""
        content: str = state["current"]
        skipped = [h for h in state["history"] if h["status"] == "skipped"]
        if not skipped:
            return content
        notes = "\n".join(f"Step '{h['step']}' was skipped: {h['reason']}." for h in skipped)
        return f"{content}\n\n{notes}" if content else notes

    def __repr__(self) -> str:
        return f"<Workflow {self.id} steps={[s.name for s in self.steps]}>"


def _wants_step_input(executor: Callable[..., Any]) -> bool:
    """Agno's protocol (first parameter a ``StepInput`` or named ``step_input``), else ``str``."""
    try:
        params = list(inspect.signature(executor).parameters.values())
    except (TypeError, ValueError):
        return False
    if not params:
        return False
    first = params[0]
    annotation = first.annotation
    return first.name == "step_input" or annotation is StepInput or annotation == "StepInput"


def _review_output(output: str) -> str:
    """The reviewed output of a step (the ``output`` parameter of its review Function)."""
    return output


def _review_function(step: Step) -> Function:
    return Function(_review_output, name=step.name,
                    description=f"The output of workflow step {step.name!r}, as a reviewer edits it.")


__all__ = ["HumanReview", "OnReject", "Step", "StepInput", "StepOutput", "Workflow", "WorkflowRunOutput"]
