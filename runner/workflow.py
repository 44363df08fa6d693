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
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from runner.agent import Agent, slug
from runner.events import RunEvent, ToolCallCompleted, ToolCallStarted
from runner.listener import RunListener
from runner.loop import AgentLoop, new_state
from runner.output import RunOutput
from runner.protocols import Cancelled, Completed, Outcome, Paused, Scope, Steps
from runner.run_api import RunAPI
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
    _fields: list[dict[str, Any]] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        given = [x for x in (self.agent, self.team, self.executor) if x is not None]
        if len(given) != 1:
            raise ToolConfigError(f"step {self.name!r}: give exactly one of agent=, team= or executor=")
        if self.executor is not None and not callable(self.executor):
            raise ToolConfigError(f"step {self.name!r}: executor must be a callable (input str -> str)")
        try:
            self.on_reject = OnReject(self.on_reject)
        except ValueError:
            raise ToolConfigError(f"step {self.name!r}: on_reject must be 'skip' or 'cancel', "
                                  f"not {self.on_reject!r}") from None
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
        """A step agent's (or its team members') tool; step checkpoints have no Function."""
        if member is None:
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
            result = yield from self._run_step(scope, state, index, step, step_state)
            if isinstance(result, Paused):
                return result
            state["history"].append({"step": step.name, "status": "completed"})
            step_state["output"] = result
            state["current"] = result
            state["index"] = index + 1
            scope.checkpoint(state)
        return Completed(self._final_content(state))

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
        if step.on_reject is OnReject.cancel:
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
            return (yield from self._run_executor(scope, index, step, step_state, text))
        target = step.target
        assert target is not None  # a step without an executor has an agent or a team
        if "agent" not in step_state:
            step_state["agent"] = new_state(target.instructions_text(), text, scope.requester)
        loop = AgentLoop(target, scope, step_state["agent"], root_state=state,
                         prefix=f"s{index}/", member=target.name)
        outcome = yield from loop.advance()
        if isinstance(outcome, Paused):
            return outcome
        return outcome.content or ""

    def _run_executor(self, scope: Scope, index: int, step: Step, step_state: dict[str, Any],
                      text: str) -> Generator[RunEvent, None, str]:
        """Run a Python step at most once, claimed in SQL like a tool (a retry reuses its result)."""
        assert step.executor is not None
        db = scope.db
        attempt = int(step_state.get("attempt", 0))
        key = f"s{index}:run#{attempt}"
        claim = db.claim_execution(scope.run_id, key, tool_name=step.name,
                                   args_hash=digest({"input": text}))
        if claim.status == "done":
            return claim.result or ""
        if claim.status == "in_doubt":
            raise ModelError("in_doubt", f"step '{step.name}' was started by a worker that stopped "
                             "before it finished; it was not run again, to avoid doing it twice. "
                             "Check its effect by hand.")
        yield ToolCallStarted(scope.run_id, tool_name=step.name, tool_args={"input": text})
        try:
            result = resolve_awaitable(step.executor(text))
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


__all__ = ["OnReject", "Step", "Workflow", "WorkflowRunOutput"]
