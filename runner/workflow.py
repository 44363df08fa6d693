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
import re
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

from runner.agent import Agent, slug
from runner.events import (
    RouterPaused,
    RunEvent,
    StepCompleted,
    StepContinued,
    StepError,
    StepExecutorContinued,
    StepExecutorPaused,
    StepOutputReview,
    StepPaused,
    StepStarted,
    ToolCallCompleted,
    ToolCallStarted,
)
from runner.listener import RunListener
from runner.loop import DOUBT_SUFFIX, RERUN_SUFFIX, AgentLoop, doubt_requirement, new_state, settled_call
from runner.output import RunOutput
from runner.protocols import Cancelled, Completed, Outcome, Paused, Scope
from runner.protocols import Steps as Advance
from runner.run_api import RunAPI
from runner.step_types import HumanReview, OnError, OnReject, OnTimeout, StepInput, StepOutput
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


Executor = Callable[..., Any]

_CHOICE_FIELD = "route"
_ERROR_FIELD = "decision"


def pause(
    name: str | None = None,
    requires_confirmation: bool = False,
    confirmation_message: str | None = None,
    requires_user_input: bool = False,
    user_input_message: str | None = None,
    user_input_schema: Sequence[UserInputField | dict[str, Any] | str] | None = None,
) -> Callable[[Executor], Executor]:
    """Agno's ``@pause``: a step function carries its own checkpoints (read when it becomes a Step)."""

    def mark(func: Executor) -> Executor:
        vars(func)["_hitl"] = {
            "name": name, "requires_confirmation": requires_confirmation,
            "confirmation_message": confirmation_message, "requires_user_input": requires_user_input,
            "user_input_message": user_input_message, "user_input_schema": user_input_schema,
        }
        return func

    return mark


def _enum(kind: type[Any], value: Any, owner: str, option: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(repr(m.value) for m in kind)
        raise ToolConfigError(f"{owner}: {option} must be one of {allowed}, not {value!r}") from None


class Component:
    """What every workflow part may ask of a person; ``human_review`` fills the same settings.

    A component's checkpoints: confirmation before it runs (``on_reject`` says what a refusal
    does), output review after it ran (``on_reject="retry"`` runs it again with the reviewer's
    note), and ``hitl_timeout`` seconds for a person to answer (``on_timeout``; unset, an expired
    checkpoint is treated as a refusal)."""

    name: str
    description: str | None
    requires_confirmation: bool
    confirmation_message: str | None
    on_reject: OnReject | str
    requires_output_review: bool | Callable[[StepOutput], bool]
    output_review_message: str | None
    max_retries: int
    hitl_max_retries: int | None
    hitl_timeout: float | None
    on_timeout: OnTimeout | str | None
    on_error: OnError | str | None
    requires_iteration_review: bool = False
    iteration_review_message: str | None = None

    def _checkpoints(self, name: str, description: str | None, *, requires_confirmation: bool,
                     confirmation_message: str | None, on_reject: OnReject | str,
                     hitl_timeout: float | None, on_timeout: OnTimeout | str | None,
                     human_review: HumanReview | None, requires_output_review: bool = False,
                     output_review_message: str | None = None, max_retries: int = 3,
                     hitl_max_retries: int | None = None, on_error: OnError | str = OnError.fail) -> None:
        """A container's settings in one place, then ``human_review`` over them."""
        self.name = name
        self.description = description
        self.requires_confirmation = requires_confirmation
        self.confirmation_message = confirmation_message
        self.on_reject = on_reject
        self.requires_output_review = requires_output_review
        self.output_review_message = output_review_message
        self.max_retries = max_retries
        self.hitl_max_retries = hitl_max_retries
        self.hitl_timeout = hitl_timeout
        self.on_timeout = on_timeout
        self.on_error = on_error
        self._review_settings(human_review)

    def _review_settings(self, review: HumanReview | None) -> None:
        if review is not None:
            self.requires_confirmation = self.requires_confirmation or review.requires_confirmation
            self.confirmation_message = self.confirmation_message or review.confirmation_message
            self.requires_output_review = self.requires_output_review or review.requires_output_review
            self.output_review_message = self.output_review_message or review.output_review_message
            self.requires_iteration_review = self.requires_iteration_review or review.requires_iteration_review
            self.iteration_review_message = self.iteration_review_message or review.iteration_review_message
            self.hitl_max_retries = review.max_retries
            if review.on_reject is not None:
                self.on_reject = review.on_reject
            if review.timeout is not None:
                self.hitl_timeout = review.timeout
            if review.on_timeout is not None:
                self.on_timeout = review.on_timeout
        owner = f"{type(self).__name__.lower()} {self.name!r}"
        self.on_reject = _enum(OnReject, self.on_reject, owner, "on_reject")
        if self.on_error is not None:
            self.on_error = _enum(OnError, self.on_error, owner, "on_error")
        if self.on_timeout is not None:
            self.on_timeout = _enum(OnTimeout, self.on_timeout, owner, "on_timeout")
        if self.hitl_timeout is not None and self.hitl_timeout <= 0:
            raise ToolConfigError(f"{owner}: hitl_timeout must be a positive number of seconds")

    @property
    def review_retries(self) -> int:
        return self.hitl_max_retries if self.hitl_max_retries is not None else self.max_retries

    def children(self) -> list[Component]:
        return []

    @property
    def step_options(self) -> dict[str, str]:
        """What a refusal and a timeout do, for the requirement a person sees."""
        options = {"on_reject": str(self.on_reject)}
        if self.on_timeout is not None:
            options["on_timeout"] = str(self.on_timeout)
        return options


@dataclass
class Step(Component):
    """One step: exactly one of ``agent``, ``team`` or ``executor`` (``str -> str``, or Agno's
    ``StepInput -> StepOutput``).

    ``on_reject`` defaults to ``cancel`` (Agno: ``skip``): a person who turns a checkpoint down
    most often means "stop here", and skipping ahead should be the explicit choice. ``on_error``
    defaults to ``fail`` (Agno: ``skip``): a step that raised never disappears silently.
    ``user_input_schema`` lists the fields to ask for: ``UserInputField``s, dicts of the same
    shape (``name``, ``field_type``, ``description``, ``required``) or plain names (text).
    """

    name: str = ""
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
    requires_output_review: bool | Callable[[StepOutput], bool] = False
    output_review_message: str | None = None
    max_retries: int = 3
    hitl_max_retries: int | None = None
    hitl_timeout: float | None = None
    on_timeout: OnTimeout | str | None = None
    on_error: OnError | str | None = None
    """Unset: the enclosing Condition's ``on_error``, else ``fail``."""
    skip_on_failure: bool = False
    step_id: str | None = None
    human_review: HumanReview | None = None
    _fields: list[dict[str, Any]] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        marks: dict[str, Any] = getattr(self.executor, "_hitl", None) or {}
        self.requires_confirmation = self.requires_confirmation or bool(marks.get("requires_confirmation"))
        self.confirmation_message = self.confirmation_message or marks.get("confirmation_message")
        self.requires_user_input = self.requires_user_input or bool(marks.get("requires_user_input"))
        self.user_input_message = self.user_input_message or marks.get("user_input_message")
        self.user_input_schema = self.user_input_schema or marks.get("user_input_schema")
        review = self.human_review
        if review is not None:
            self.requires_user_input = self.requires_user_input or review.requires_user_input
            self.user_input_message = self.user_input_message or review.user_input_message
            self.user_input_schema = self.user_input_schema or review.user_input_schema
        if self.skip_on_failure:
            self.on_error = OnError.skip
        given = [x for x in (self.agent, self.team, self.executor) if x is not None]
        if not self.name:
            named = marks.get("name") or (given[0].name if given and isinstance(given[0], Agent) else None)
            self.name = named or (getattr(self.executor, "__name__", None) if self.executor else None) or "step"
        if len(given) != 1:
            raise ToolConfigError(f"step {self.name!r}: give exactly one of agent=, team= or executor=")
        if self.executor is not None and not callable(self.executor):
            raise ToolConfigError(f"step {self.name!r}: executor must be a callable (input str -> str)")
        self._review_settings(review)
        self._fields = [_field_dict(f) for f in (self.user_input_schema or [])]
        if self._fields:
            self.requires_user_input = True
        if self.requires_user_input and not self._fields:
            self._fields = [UserInputField(name="input", field_type="str", required=False,
                                           description=self.user_input_message).to_dict() | {"free_form": True}]
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

    @property
    def executor_type(self) -> str:
        return "function" if self.executor is not None else ("team" if self.team is not None else "agent")


class Steps(Component):
    """Several steps as one (Agno's ``Steps``): one confirmation covers them all."""

    def __init__(self, steps: Sequence[Any] | None = None, name: str | None = None,
                 description: str | None = None, requires_confirmation: bool = False,
                 confirmation_message: str | None = None, on_reject: OnReject | str = OnReject.skip,
                 hitl_timeout: float | None = None, on_timeout: OnTimeout | str | None = None,
                 human_review: HumanReview | None = None) -> None:
        self._checkpoints(name or "steps", description, requires_confirmation=requires_confirmation,
                          confirmation_message=confirmation_message, on_reject=on_reject,
                          hitl_timeout=hitl_timeout, on_timeout=on_timeout, human_review=human_review)
        self.steps = [_as_node(s) for s in (steps or [])]
        if not self.steps:
            raise ToolConfigError(f"steps {self.name!r}: give at least one step")

    def children(self) -> list[Component]:
        return list(self.steps)


Evaluator = bool | Callable[..., Any]


class Condition(Component):
    """Run ``steps`` when ``evaluator`` holds (a bool, or a function of the ``StepInput``), else
    ``else_steps``. With ``requires_confirmation`` a person decides instead: confirm runs
    ``steps``; reject runs ``else_steps`` (``on_reject="else"``, the default), skips both
    (``"skip"``) or cancels. An evaluator that raises follows ``on_error`` (default ``skip``)."""

    def __init__(self, steps: Sequence[Any] | None = None, evaluator: Evaluator = True,
                 else_steps: Sequence[Any] | None = None, name: str | None = None,
                 description: str | None = None, requires_confirmation: bool = False,
                 confirmation_message: str | None = None,
                 on_reject: OnReject | str = OnReject.else_branch, on_error: OnError | str = OnError.skip,
                 hitl_timeout: float | None = None, on_timeout: OnTimeout | str | None = None,
                 human_review: HumanReview | None = None) -> None:
        self._checkpoints(name or "condition", description, requires_confirmation=requires_confirmation,
                          confirmation_message=confirmation_message, on_reject=on_reject,
                          hitl_timeout=hitl_timeout, on_timeout=on_timeout, human_review=human_review,
                          on_error=on_error)
        self.evaluator = evaluator
        if isinstance(evaluator, str) or not (isinstance(evaluator, bool) or callable(evaluator)):
            raise ToolConfigError(f"condition {self.name!r}: evaluator must be a bool or a function of the "
                                  "step input returning a bool")
        self.steps = [_as_node(s) for s in (steps or [])]
        self.else_steps = [_as_node(s) for s in (else_steps or [])]
        if not self.steps:
            raise ToolConfigError(f"condition {self.name!r}: give the steps to run when it holds")

    def children(self) -> list[Component]:
        return [*self.steps, *self.else_steps]


class Router(Component):
    """Run one of ``choices`` (or several, in order): picked by ``selector`` (a function of the
    ``StepInput`` returning a step, a name, or a list of them) or, with ``requires_user_input``,
    by a person (a ``step_route_selection`` requirement whose one field's choices are the routes).
    With ``requires_output_review`` the chosen route's output is reviewed like a step's."""

    def __init__(self, choices: Sequence[Any] | None = None, selector: Callable[..., Any] | None = None,
                 name: str | None = None, description: str | None = None,
                 requires_user_input: bool = False, user_input_message: str | None = None,
                 allow_multiple_selections: bool = False, user_input_schema: Any = None,
                 requires_confirmation: bool = False, confirmation_message: str | None = None,
                 on_reject: OnReject | str = OnReject.skip, requires_output_review: bool = False,
                 output_review_message: str | None = None, hitl_max_retries: int = 3,
                 hitl_timeout: float | None = None, on_timeout: OnTimeout | str | None = None,
                 human_review: HumanReview | None = None) -> None:
        self.requires_iteration_review = False
        self.requires_user_input = requires_user_input or (human_review.requires_user_input if human_review else False)
        self.user_input_message = user_input_message or (human_review.user_input_message if human_review else None)
        self._checkpoints(name or "router", description, requires_confirmation=requires_confirmation,
                          confirmation_message=confirmation_message, on_reject=on_reject,
                          hitl_timeout=hitl_timeout, on_timeout=on_timeout, human_review=human_review,
                          requires_output_review=requires_output_review,
                          output_review_message=output_review_message, max_retries=hitl_max_retries,
                          hitl_max_retries=hitl_max_retries)
        self.choices = [_as_node(c, f"steps_group_{i}") for i, c in enumerate(choices or [])]
        if not self.choices:
            raise ToolConfigError(f"router {self.name!r}: give the choices it routes between")
        routes = [c.name for c in self.choices]
        if len(set(routes)) != len(routes):
            raise ToolConfigError(f"router {self.name!r}: two routes have the same name; a route is chosen by name")
        self.selector = selector
        self.allow_multiple_selections = allow_multiple_selections

    def children(self) -> list[Component]:
        return list(self.choices)

    def choice(self, name: str) -> tuple[int, Component]:
        for index, node in enumerate(self.choices):
            if node.name == name:
                return index, node
        raise ToolConfigError(f"router {self.name!r} has no route {name!r}")


class Loop(Component):
    """Run ``steps`` again and again: up to ``max_iterations``, until ``end_condition`` (a function
    of the iterations' ``StepOutput``s) holds, or, with ``requires_iteration_review``, until a
    person accepts an iteration's output (a rejection's note goes into the next iteration)."""

    def __init__(self, steps: Sequence[Any] | None = None, name: str | None = None,
                 description: str | None = None, max_iterations: int = 3,
                 end_condition: Callable[[list[StepOutput]], Any] | None = None,
                 forward_iteration_output: bool = False, requires_confirmation: bool = False,
                 confirmation_message: str | None = None, on_reject: OnReject | str = OnReject.skip,
                 requires_iteration_review: bool = False, iteration_review_message: str | None = None,
                 hitl_timeout: float | None = None, on_timeout: OnTimeout | str | None = None,
                 human_review: HumanReview | None = None) -> None:
        self.requires_iteration_review = requires_iteration_review
        self.iteration_review_message = iteration_review_message
        self._checkpoints(name or "loop", description, requires_confirmation=requires_confirmation,
                          confirmation_message=confirmation_message, on_reject=on_reject,
                          hitl_timeout=hitl_timeout, on_timeout=on_timeout, human_review=human_review,
                          max_retries=max_iterations)
        self.steps = [_as_node(s) for s in (steps or [])]
        if not self.steps:
            raise ToolConfigError(f"loop {self.name!r}: give the steps of one iteration")
        if max_iterations < 1:
            raise ToolConfigError(f"loop {self.name!r}: max_iterations must be at least 1")
        if end_condition is not None and (isinstance(end_condition, str) or not callable(end_condition)):
            raise ToolConfigError(f"loop {self.name!r}: end_condition must be a function of the outputs")
        self.max_iterations = max_iterations
        self.end_condition = end_condition
        self.forward_iteration_output = forward_iteration_output

    def children(self) -> list[Component]:
        return list(self.steps)


def _field_dict(spec: UserInputField | dict[str, Any] | str) -> dict[str, Any]:
    if isinstance(spec, str):
        return UserInputField(name=spec, field_type="str").to_dict()
    if isinstance(spec, UserInputField):
        return spec.to_dict() | {"value": None}
    if isinstance(spec, dict) and spec.get("name"):
        return UserInputField.from_dict(dict(spec)).to_dict() | {"value": None}
    raise ToolConfigError(f"user_input_schema entry {spec!r}: give a UserInputField, a dict with "
                          "'name', or a field name")


def _as_node(item: Any, group_name: str = "steps_group") -> Component:
    """Agents, teams and plain functions may be listed directly, as in the seed's API; a list is
    a ``Steps`` (Agno names a Router's nested list ``steps_group_<index>``)."""
    if isinstance(item, Component):
        return item
    if isinstance(item, list):
        return Steps(steps=item, name=group_name)
    if isinstance(item, Workflow):
        raise ToolConfigError("a workflow cannot be a step of another workflow")
    if isinstance(item, Agent):
        return Step(name=item.name, agent=item) if item.kind == "agent" else Step(name=item.name, team=item)
    if callable(item):
        return Step(executor=item)
    raise ToolConfigError(f"{item!r} is not a Step, Steps, Condition, Router, Loop, an agent, a team or a function")


_as_step = _as_node


def _has_checkpoint(node: Component) -> bool:
    """Whether a person may be asked about this component (so its name must say which one)."""
    return bool(node.requires_confirmation or getattr(node, "requires_user_input", False)
                or node.requires_output_review or node.requires_iteration_review
                or node.on_error is OnError.pause)


def _walk(nodes: Sequence[Component]) -> Generator[Component, None, None]:
    for node in nodes:
        yield node
        yield from _walk(node.children())


def _who(record: RequirementRecord) -> str | None:
    return record.resolved_by_name or record.resolved_by


@dataclass
class _Done:
    """A component finished: its output flows on (``stop``: a step asked to end the workflow)."""

    output: str
    stop: bool = False


_Result = Paused | Cancelled | _Done
_Run = Generator[RunEvent, None, _Result]


class Workflow(RunAPI):
    """Steps run in order; checkpoints pause between them. Same run API as ``Agent``."""

    kind = "workflow"

    def __init__(
        self,
        id: str | None = None,
        name: str | None = None,
        steps: Sequence[Any] | None = None,
        description: str | None = None,
        db: Database | None = None,
        listeners: Sequence[RunListener] | None = None,
        **_options: Any,
    ) -> None:
        self.id = id or (slug(name) if name else "workflow")
        self.name = name or self.id
        self.steps: list[Component] = [_as_node(s) for s in (steps or [])]
        if not self.steps:
            raise ToolConfigError(f"workflow {self.name!r} has no steps")
        names = [s.name for s in _walk(self.steps)]
        asked = {s.name for s in _walk(self.steps) if _has_checkpoint(s)}
        clashes = sorted({n for n in names if names.count(n) > 1 and n in asked})
        if clashes:
            raise ToolConfigError(f"workflow {self.name!r}: two steps are named {clashes[0]!r}; "
                                  "step checkpoints are shown by name, so a step a person is asked "
                                  "about needs a name of its own")
        self.description = description or " -> ".join(s.name for s in self.steps)
        self._functions: dict[int, Function] = {}
        self._on_error: dict[int, tuple[OnError, bool]] = {}
        _inherit_on_error(self.steps, None, self._on_error)
        self.db = db
        self.listeners = list(listeners or [])

    # ------------------------------------------------------------ Runnable hooks

    def initial_state(self, input: str, requester: str | None) -> dict[str, Any]:
        return {"v": WORKFLOW_STATE_FORMAT, "input": input, "index": 0, "current": input,
                "steps": {}, "history": []}

    def advance(self, scope: Scope, state: dict[str, Any]) -> Advance:
        """The driver's hook: run steps from the saved index until a pause or the end."""
        return self._advance(scope, state)

    def lookup(self, member: str | None, tool: str | None) -> Function | None:
        """A step agent's (or its team members') tool. A component with output (or iteration)
        review has a Function with one ``output`` parameter, so an edit of its output is
        checked like a tool's."""
        if member is None:
            node = self.step(tool) if tool else None
            if node is None:
                return None
            if id(node) not in self._functions:
                self._functions[id(node)] = _review_function(node)
            return self._functions[id(node)]
        for node in _walk(self.steps):
            if isinstance(node, Step) and node.target is not None:
                found = find_function(node.target, member, tool)
                if found is not None:
                    return found
        return None

    def leaf_steps(self) -> list[Step]:
        """Every ``Step`` in the workflow, inside containers too (their agents' tools are the
        workflow's tools)."""
        return [node for node in _walk(self.steps) if isinstance(node, Step)]

    def step(self, name: str) -> Component | None:
        """The component a checkpoint names (names of components nobody is asked about may repeat)."""
        named = [s for s in _walk(self.steps) if s.name == name]
        return next((s for s in named if _has_checkpoint(s)), named[0] if named else None)

    # ------------------------------------------------------------------ running

    def _advance(self, scope: Scope, state: dict[str, Any]) -> Generator[RunEvent, None, Outcome]:
        version = state.get("v", 1)
        if version > WORKFLOW_STATE_FORMAT:
            raise ModelError("bad_state", f"workflow state format {version} is newer than this "
                             f"release ({WORKFLOW_STATE_FORMAT})")
        while state["index"] < len(self.steps):
            index = state["index"]
            result = yield from self._node(scope, state, self.steps[index], str(index), state["current"], index)
            if not isinstance(result, _Done):
                return result
            state["current"] = result.output
            state["index"] = index + 1
            scope.checkpoint(state)
            if result.stop:
                break
        return Completed(self._final_content(state))

    def _node(self, scope: Scope, state: dict[str, Any], node: Component, path: str, text: str,
              index: int) -> _Run:
        """One component from where it stopped: its confirmation, then its own work."""
        ns: dict[str, Any] = state["steps"].setdefault(path, {"name": node.name})
        if ns.get("done"):
            return _Done(str(ns.get("output", text)), bool(ns.get("stop")))
        if node.requires_confirmation and "gate" not in ns:
            suffix = "confirm" if isinstance(node, Step) else f"{type(node).__name__.lower()}-confirm"
            gate = self._ask(scope, path, node, RequirementKind.STEP_CONFIRMATION, text, suffix)
            if isinstance(gate, Paused):
                if gate.new:
                    state["paused_step"] = node.name
                    yield StepPaused(scope.run_id, step_name=node.name, step_index=index,
                                     requires_confirmation=True,
                                     confirmation_message=gate.new[0].message)
                return gate
            ns["gate"] = self._verdict(node, gate)
            ns["gate_reason"] = _reason(gate)
            if ns["gate"] == "go":
                ns["confirmed"] = True
                ns["confirmed_by"] = _who(gate) or ("timeout" if gate.status is RequirementStatus.EXPIRED else None)
            elif ns["gate"] == "cancel":
                return self._cancel(state, node, gate)
        if ns.get("gate") == "skip":
            return self._skip(scope, state, node, path, ns, text, ns.get("gate_reason") or "rejected")
        if isinstance(node, Step):
            result = yield from self._step(scope, state, node, path, ns, text, index)
            if isinstance(result, _Done) and not ns.get("skipped"):
                yield StepCompleted(scope.run_id, step_name=node.name, step_index=index, content=result.output)
            return result
        if state.get("paused_step") != node.name and "started" not in ns:
            ns["started"] = True
            yield StepStarted(scope.run_id, step_name=node.name, step_index=index)
        if isinstance(node, Router):
            result = yield from self._router(scope, state, node, path, ns, text, index)
        elif isinstance(node, Condition):
            result = yield from self._condition(scope, state, node, path, ns, text, index)
        elif isinstance(node, Loop):
            result = yield from self._loop(scope, state, node, path, ns, text, index)
        elif isinstance(node, Steps):
            result = yield from self._sequence(scope, state, [(c, f"{path}-{j}") for j, c in enumerate(node.steps)],
                                               text, index)
        else:
            raise ToolConfigError(f"{node!r} is not a workflow component this release runs")
        if isinstance(result, _Done) and not ns.get("done"):
            done = self._finish(scope, state, node, path, ns, result.output, index, result.stop)
            yield StepCompleted(scope.run_id, step_name=node.name, step_index=index, content=done.output)
            return done
        return result

    def _sequence(self, scope: Scope, state: dict[str, Any], nodes: list[tuple[Component, str]], text: str,
                  index: int) -> _Run:
        for node, path in nodes:
            result = yield from self._node(scope, state, node, path, text, index)
            if not isinstance(result, _Done):
                return result
            text = result.output
            if result.stop:
                return result
        return _Done(text)

    def _finish(self, scope: Scope, state: dict[str, Any], node: Component, path: str, ns: dict[str, Any],
                output: str, index: int, stop: bool = False) -> _Done:
        """Record a component's output (history, ``StepCompleted``'s content) exactly once."""
        ns.update(done=True, output=output, stop=stop)
        state["history"].append({"step": node.name, "step_name": node.name, "status": "completed",
                                 "content": output, "path": path})
        return _Done(output, stop)

    # -------------------------------------------------------------- checkpoints

    def _ask(self, scope: Scope, path: str, node: Component, kind: RequirementKind, text: str, suffix: str,
             message: str | None = None, schema: list[dict[str, Any]] | None = None,
             args: dict[str, Any] | None = None) -> Paused | RequirementRecord:
        """A checkpoint: ask once (key ``s<path>:<suffix>``), then return the person's decision.
        A pending checkpoint past its ``hitl_timeout`` is expired now, so ``on_timeout`` applies
        on the next continue even before the reconciler gets to it."""
        key = f"s{path}:{suffix}"
        record = scope.decisions.get(key)
        if record is None:
            if message is None:
                if kind is RequirementKind.STEP_CONFIRMATION:
                    message = node.confirmation_message or f"Confirm step '{node.name}' before it runs."
                else:
                    message = f"Step '{node.name}' needs your input."
            return Paused([NewRequirement(
                call_key=key, kind=kind, tool_name=node.name,
                tool_args=args if args is not None else {"previous_output": text},
                user_input_schema=schema or [], message=message, agent_id=scope.agent_id,
                expires_in_s=node.hitl_timeout,
            )])
        if record.is_pending and record.expires_at is not None and scope.db.clock() >= record.expires_at:
            record = scope.db.expire_if_due(record.id)
            scope.decisions[key] = record
        if record.is_pending:
            return Paused([])
        return record

    @staticmethod
    def _verdict(node: Component, record: RequirementRecord) -> str:
        """A decided confirmation: ``go``, ``skip``, ``cancel`` or ``else`` (a Condition's else branch)."""
        if record.status is RequirementStatus.APPROVED:
            return "go"
        if record.status is RequirementStatus.EXPIRED and node.on_timeout is not None:
            return {OnTimeout.approve: "go", OnTimeout.skip: "skip"}.get(OnTimeout(node.on_timeout), "cancel")
        mode = _rejection(node, record)
        if mode is OnReject.else_branch:
            return "else" if isinstance(node, Condition) else "skip"
        if mode is OnReject.skip:
            return "skip"
        return "cancel"

    def _cancel(self, state: dict[str, Any], node: Component, record: RequirementRecord) -> Cancelled:
        reason = _reason(record)
        state["history"].append({"step": node.name, "step_name": node.name, "status": "cancelled", "reason": reason})
        state["cancelled_at"] = node.name
        by = Actor(record.resolved_by, record.resolved_by_name,
                   ActorKind.HUMAN if record.resolved_by else ActorKind.SYSTEM)
        return Cancelled(f"Workflow cancelled at step '{node.name}': {reason}.", by=by)

    def _skip(self, scope: Scope, state: dict[str, Any], node: Component, path: str, ns: dict[str, Any],
              text: str, reason: str, failed: bool = False) -> _Done:
        """The component does not run (or its output is dropped); the previous output flows on.
        ``failed``: it ran and failed, so (as in Agno) the next step sees no previous content."""
        state["history"].append({"step": node.name, "step_name": node.name, "status": "skipped",
                                 "reason": reason, "path": path, "failed": failed})
        ns.update(done=True, output=text, skipped=reason)
        return _Done(text)

    def _review(self, scope: Scope, state: dict[str, Any], node: Component, path: str, ns: dict[str, Any],
                output: str, index: int, suffix: str, message: str | None) -> Generator[RunEvent, None, Any]:
        """An output (or iteration) review: the output to go on with, ``None`` to run again (a
        rejection with ``on_reject="retry"`` and retries left), or a ``Paused``/``Cancelled``/``_Done``."""
        reviews = int(ns.get("reviews", 0))
        text = message or f"Review the output of step '{node.name}' before it flows on."
        record = self._ask(scope, path, node, RequirementKind.STEP_OUTPUT_REVIEW, output, f"{suffix}#{reviews}",
                           message=text, args={"output": output})
        if isinstance(record, Paused):
            state["paused_step"] = node.name
            if record.new:
                yield StepOutputReview(scope.run_id, step_name=node.name, step_index=index,
                                       requires_output_review=True, step_output=StepOutput(output, node.name))
            return record
        if record.status is RequirementStatus.APPROVED:
            edited = record.resolution.get("edited_args") or {}
            ns["reviewed_by"] = _who(record)
            return str(edited.get("output", output))
        if record.status is RequirementStatus.EXPIRED and node.on_timeout is not None:
            if node.on_timeout is OnTimeout.approve:
                ns["reviewed_by"] = "timeout"
                return output
            if node.on_timeout is OnTimeout.skip:
                return self._skip(scope, state, node, path, ns, str(ns.get("input", output)), _reason(record))
            return self._cancel(state, node, record)
        mode = _rejection(node, record)
        if mode is OnReject.retry and reviews < node.review_retries:
            ns["reviews"] = reviews + 1
            ns["feedback"] = record.resolution.get("note")
            return None
        if mode is OnReject.skip or mode is OnReject.else_branch:
            return self._skip(scope, state, node, path, ns, str(ns.get("input", output)), _reason(record))
        return self._cancel(state, node, record)

    def _error(self, scope: Scope, state: dict[str, Any], node: Component, path: str, ns: dict[str, Any],
               text: str, index: int) -> Generator[RunEvent, None, _Result | None]:
        """A failure under ``on_error="pause"``: a person says retry (``None``) or skip."""
        failed: dict[str, Any] = ns["failed"]
        count = int(ns.get("errors", 0))
        choices = ["retry", "skip"]
        schema = [UserInputField(name=_ERROR_FIELD, field_type="str", choices=choices,
                                 description="retry the step, or skip it and go on").to_dict()]
        message = f"Step '{node.name}' failed: {failed['error']}. Retry it, or skip it and go on?"
        record = self._ask(scope, path, node, RequirementKind.STEP_ERROR, text, f"error#{count}", message=message,
                           schema=schema, args={"error": failed["error"], "error_type": failed.get("type")})
        if isinstance(record, Paused):
            state["paused_step"] = node.name
            if record.new:
                yield StepError(scope.run_id, step_name=node.name, step_index=index, requires_error_decision=True,
                                error=str(failed["error"]), error_type=failed.get("type"))
            return record
        decision = (record.resolution.get("values") or {}).get(_ERROR_FIELD)
        if record.status is RequirementStatus.ANSWERED and decision == "retry":
            ns["errors"] = count + 1
            ns.pop("failed", None)
            return None
        if record.status is RequirementStatus.ANSWERED:
            return self._skip(scope, state, node, path, ns, text, f"it failed ({failed['error']}) and "
                              f"{_who(record) or 'a person'} chose to skip it", failed=True)
        return self._cancel(state, node, record)

    def on_error_of(self, node: Component) -> OnError:
        """A component's ``on_error``: its own, or (a step's, unset) its Condition's, else ``fail``."""
        return self._on_error.get(id(node), (OnError(node.on_error or OnError.fail), False))[0]

    def _failed(self, node: Component, ns: dict[str, Any], exc: ModelError) -> None:
        mode, inherited = self._on_error.get(id(node), (OnError(node.on_error or OnError.fail), False))
        error = str(ns.pop("error_message", None) or exc)
        if mode is OnError.fail:
            raise exc
        if mode is OnError.skip and inherited:
            raise _ConditionSkip(node.name, error)
        ns["failed"] = {"error": error, "type": ns.pop("error_type", None) or exc.kind}

    # -------------------------------------------------------------- components

    def _step(self, scope: Scope, state: dict[str, Any], step: Step, path: str, ns: dict[str, Any], text: str,
              index: int) -> _Run:
        if step.requires_user_input and "user_input" not in ns:
            fields = ", ".join(f["name"] for f in step._fields)
            gate = self._ask(scope, path, step, RequirementKind.STEP_USER_INPUT, text, "input",
                             message=step.user_input_message or f"Step '{step.name}' needs: {fields}.",
                             schema=[dict(f) for f in step._fields])
            if isinstance(gate, Paused):
                if gate.new:
                    state["paused_step"] = step.name
                    yield StepPaused(scope.run_id, step_name=step.name, step_index=index, requires_user_input=True,
                                     user_input_message=gate.new[0].message)
                return gate
            if gate.status is not RequirementStatus.ANSWERED:
                verdict = self._verdict(step, gate)
                if verdict == "cancel":
                    return self._cancel(state, step, gate)
                if verdict != "go":
                    return self._skip(scope, state, step, path, ns, text, _reason(gate))
                ns["user_input"] = {}
            else:
                ns["user_input"] = dict(gate.resolution.get("values", {}))
                ns["input_by"] = _who(gate)
        if "input" not in ns:
            ns["input"] = self._step_input(text, step, ns)
        while True:
            if ns.get("failed"):
                if self.on_error_of(step) is OnError.skip:
                    return self._skip(scope, state, step, path, ns, text, f"it failed: {ns['failed']['error']}",
                                      failed=True)
                decided = yield from self._error(scope, state, step, path, ns, text, index)
                if decided is not None:
                    return decided
            if state.get("paused_step") == step.name:
                state.pop("paused_step")
                resumed = StepExecutorContinued if state.pop("paused_executor", None) else StepContinued
                yield resumed(scope.run_id, step_name=step.name, step_index=index,
                              executor_name=step.runner_name or step.name, executor_type=step.executor_type)
            if "result" not in ns and "agent" not in ns and "started" not in ns:
                ns["started"] = True
                yield StepStarted(scope.run_id, step_name=step.name, step_index=index)
            if "result" in ns:
                result: str | Paused = ns["result"]
            else:
                try:
                    result = yield from self._run_step(scope, state, path, step, ns)
                except ModelError as exc:
                    self._failed(step, ns, exc)
                    ns.pop("agent", None)
                    if step.executor is None:
                        ns["attempt"] = int(ns.get("attempt", 0)) + 1
                    continue
                if isinstance(result, Paused):
                    state["paused_step"] = step.name
                    state["paused_executor"] = {"name": step.runner_name or step.name, "type": step.executor_type}
                    yield StepExecutorPaused(scope.run_id, step_name=step.name, step_index=index,
                                             executor_name=step.runner_name or step.name,
                                             executor_type=step.executor_type,
                                             executor_requirements=[_requirement_dict(r) for r in result.new])
                    return result
                ns["result"] = result
            assert isinstance(result, str)
            if _wants_review(step, ns, result):
                reviewed = yield from self._review(scope, state, step, path, ns, result, index, "review",
                                                   step.output_review_message)
                if reviewed is None:
                    self._retry(ns)
                    scope.checkpoint(state)
                    continue
                if not isinstance(reviewed, str):
                    return reviewed
                result = reviewed
            return self._finish(scope, state, step, path, ns, result, index, bool(ns.get("stop")))

    def _router(self, scope: Scope, state: dict[str, Any], router: Router, path: str, ns: dict[str, Any],
                text: str, index: int) -> _Run:
        """Pick the route(s), run them in order, then the output review. A reviewer's rejection
        (``on_reject="retry"``) asks a person to choose the route again, with the note."""
        names = [c.name for c in router.choices]
        while True:
            gen = int(ns.get("reviews", 0))
            if "selected" not in ns:
                if router.requires_user_input or gen:
                    several = router.allow_multiple_selections
                    schema = [UserInputField(
                        name=_CHOICE_FIELD, field_type="list" if several else "str",
                        description="the routes to take, in order" if several else "the route to take",
                        choices=names).to_dict()]
                    message = router.user_input_message or f"Choose the route for '{router.name}'."
                    if gen:
                        note = ns.get("feedback")
                        message = f"The reviewer rejected the output{f' ({note})' if note else ''}. {message}"
                    gate = self._ask(scope, path, router, RequirementKind.STEP_ROUTE_SELECTION, text,
                                     f"route#{gen}" if gen else "route", message=message, schema=schema)
                    if isinstance(gate, Paused):
                        if gate.new:
                            state["paused_step"] = router.name
                            yield RouterPaused(scope.run_id, step_name=router.name, step_index=index,
                                               requires_route_selection=True, user_input_message=message,
                                               available_choices=names, allow_multiple_selections=several)
                        return gate
                    if gate.status is not RequirementStatus.ANSWERED:
                        if self._verdict(router, gate) == "cancel":
                            return self._cancel(state, router, gate)
                        return self._skip(scope, state, router, path, ns, text, _reason(gate))
                    route = (gate.resolution.get("values") or {}).get(_CHOICE_FIELD)
                    ns["selected"] = [str(r) for r in route] if isinstance(route, list) else [str(route)]
                    ns["selected_by"] = _who(gate)
                elif router.selector is None:
                    ns["selected"] = names  # no selector and nobody choosing: every route, in order
                else:
                    try:
                        picked = resolve_awaitable(router.selector(self._step_input_object(state, ns, text)))
                    except Exception as exc:
                        raise ModelError("step_failed", f"router {router.name!r}: the selector raised "
                                         f"{type(exc).__name__}: {exc}") from exc
                    ns["selected"] = _route_names(router, picked)
            base = path if not gen else f"{path}~{gen}"
            routes = [(node, f"{base}-{j}") for j, node in (router.choice(n) for n in ns["selected"])]
            feedback = ns.get("feedback") if gen else None
            state["rejection_feedback"] = feedback
            result = yield from self._sequence(scope, state, routes, text, index)
            state.pop("rejection_feedback", None)
            if not isinstance(result, _Done) or not router.requires_output_review:
                return result
            ns.setdefault("input", text)
            reviewed = yield from self._review(scope, state, router, path, ns, result.output, index,
                                               "router-review", router.output_review_message)
            if reviewed is None:
                ns.pop("selected", None)
                scope.checkpoint(state)
                continue
            if not isinstance(reviewed, str):
                return reviewed
            return _Done(reviewed, result.stop)

    def _condition(self, scope: Scope, state: dict[str, Any], cond: Condition, path: str, ns: dict[str, Any],
                   text: str, index: int) -> _Run:
        while "branch" not in ns:
            if ns.get("gate") == "go":
                ns["branch"] = "if"
            elif ns.get("gate") == "else":
                ns["branch"] = "else"
            elif ns.get("failed"):
                if self.on_error_of(cond) is OnError.skip:
                    reason = f"its evaluator failed: {ns['failed']['error']}"
                    return self._skip(scope, state, cond, path, ns, text, reason, failed=True)
                decided = yield from self._error(scope, state, cond, path, ns, text, index)
                if decided is not None:
                    return decided
            else:
                try:
                    holds = cond.evaluator
                    if callable(holds):
                        holds = resolve_awaitable(holds(self._step_input_object(state, ns, text)))
                    ns["branch"] = "if" if holds else "else"
                except Exception as exc:
                    self._failed(cond, ns, ModelError("step_failed", f"condition {cond.name!r}: the evaluator "
                                                      f"raised {type(exc).__name__}: {exc}"))
                    ns["failed"]["type"] = type(exc).__name__
        if ns["branch"] == "if":
            nodes = [(node, f"{path}-{j}") for j, node in enumerate(cond.steps)]
        else:
            nodes = [(node, f"{path}-e{j}") for j, node in enumerate(cond.else_steps)]
        if not nodes:
            return self._skip(scope, state, cond, path, ns, text, "its condition did not hold and it has no else steps")
        try:
            return (yield from self._sequence(scope, state, nodes, text, index))
        except _ConditionSkip as failure:
            # on_error="skip": the rest of the branch does not run; the workflow goes on.
            reason = f"step '{failure.step}' failed: {failure.error}"
            return self._skip(scope, state, cond, path, ns, text, reason, failed=True)

    def _loop(self, scope: Scope, state: dict[str, Any], loop: Loop, path: str, ns: dict[str, Any], text: str,
              index: int) -> _Run:
        outputs: list[str] = ns.setdefault("outputs", [])
        while int(ns.get("iteration", 0)) < loop.max_iterations and not ns.get("accepted"):
            k = int(ns.get("iteration", 0))
            start = outputs[-1] if loop.forward_iteration_output and outputs else text
            feedback = ns.get("feedback")
            if feedback:
                start = f"{start}\n\nA reviewer asked for another iteration: {feedback}"
            state["rejection_feedback"] = feedback
            result = yield from self._sequence(scope, state, [(node, f"{path}-i{k}-{j}") for j, node in
                                                              enumerate(loop.steps)], start, index)
            state.pop("rejection_feedback", None)
            if not isinstance(result, _Done):
                return result
            output = result.output
            if loop.requires_iteration_review:
                ns["reviews"] = k
                reviewed = yield from self._review(scope, state, loop, path, ns, output, index, "iteration",
                                                   loop.iteration_review_message or
                                                   f"Review iteration {k + 1} of '{loop.name}'.")
                if isinstance(reviewed, Paused | Cancelled | _Done):
                    return reviewed
                if reviewed is not None:
                    output = reviewed
                    ns["accepted"] = True
                else:
                    ns["reviews"] = k
            outputs.append(output)
            ns["iteration"] = k + 1
            if result.stop:
                break
            if loop.end_condition is not None and not loop.requires_iteration_review:
                so_far = [StepOutput(content=o, step_name=loop.name) for o in outputs]
                if resolve_awaitable(loop.end_condition(so_far)):
                    break
            scope.checkpoint(state)
        return _Done(outputs[-1] if outputs else text)

    @staticmethod
    def _retry(ns: dict[str, Any]) -> None:
        """Run the step again with the reviewer's note; its executor claim is a new attempt."""
        note = ns.get("feedback")
        ns["attempt"] = int(ns.get("attempt", 0)) + 1
        ns.pop("result", None)
        ns.pop("agent", None)
        base = ns.setdefault("original_input", ns["input"])
        ns["input"] = f"{base}\n\nA reviewer rejected the previous output: {note}. Do it again." if note else base

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

    def _run_step(self, scope: Scope, state: dict[str, Any], path: str, step: Step,
                  step_state: dict[str, Any]) -> Generator[RunEvent, None, str | Paused]:
        text: str = step_state["input"]
        if step.executor is not None:
            return (yield from self._run_executor(scope, state, path, step, step_state, text))
        target = step.target
        assert target is not None  # a step without an executor has an agent or a team
        if "agent" not in step_state:
            step_state["agent"] = new_state(target.instructions_text(), text, scope.requester)
        attempt = int(step_state.get("attempt", 0))
        loop = AgentLoop(target, scope, step_state["agent"], root_state=state,
                         prefix=f"s{path}/" if not attempt else f"s{path}.{attempt}/", member=target.name)
        outcome = yield from loop.advance()
        if isinstance(outcome, Paused):
            return outcome
        return outcome.content or ""

    def _run_executor(self, scope: Scope, state: dict[str, Any], path: str, step: Step,
                      step_state: dict[str, Any],
                      text: str) -> Generator[RunEvent, None, str | Paused]:
        """Run a Python step at most once, claimed in SQL like a tool (a retry reuses its result).

        A step a dead worker left started is in doubt: the run pauses and a person says whether
        it happened (its result), that it did not (it runs now, once), or fails the run."""
        assert step.executor is not None
        db = scope.db
        attempt = int(step_state.get("attempt", 0))
        key = f"s{path}:run#{attempt}"
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
        error_type: str | None = None
        try:
            argument: Any = text
            if _wants_step_input(step.executor):
                argument = self._step_input_object(state, step_state, text, step)
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
            error_type = type(exc).__name__
            step_state["error_message"] = str(exc) or error_type
        db.finish_execution(scope.run_id, key, status=status, result=output, audit={
            "action": "step.executed", "actor": Actor(None, self.name, ActorKind.AGENT),
            "outcome": status, "agent_id": scope.agent_id, "tool_name": step.name,
            "details": {"result_sha256": digest(output), "attempt": attempt},
        })
        yield ToolCallCompleted(scope.run_id, tool_name=step.name, result=output, status=status)
        if status == "failed":
            # The failure is known, not in doubt: a retry runs the step again as a new attempt.
            step_state["attempt"] = attempt + 1
            step_state["error_type"] = error_type
            raise ModelError("step_failed", output)
        return output

    def _step_input_object(self, state: dict[str, Any], step_state: dict[str, Any], text: str,
                           step: Step | None = None) -> StepInput:
        """Agno's ``StepInput``: the workflow input, the previous output, every earlier output."""
        earlier = {h["step"]: StepOutput(content=h.get("content"), step_name=h["step"])
                   for h in state["history"] if h.get("status") == "completed"}
        extra: dict[str, Any] = {}
        if step_state.get("user_input"):
            extra["user_input"] = dict(step_state["user_input"])
        # Agno: the output flowing in; None before any step completed, or right after one failed.
        last = next((h for h in reversed(state["history"]) if h.get("status") in ("completed", "skipped")), None)
        completed = any(h.get("status") == "completed" for h in state["history"])
        previous = text if completed and not (last is not None and last.get("failed")) else None
        if step is not None and step_state.get("original_input") is not None and text != step_state["original_input"]:
            extra["feedback"] = step_state.get("feedback") or text
            previous = state["current"] if state["index"] > 0 or earlier else None
        feedback = step_state.get("feedback") or state.get("rejection_feedback")
        if feedback:
            extra["rejection_feedback"] = feedback
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


def _reason(record: RequirementRecord) -> str:
    who = _who(record)
    if record.status is RequirementStatus.REJECTED:
        reason = f"rejected by {who}" if who else "rejected"
        note = record.resolution.get("note")
        return reason + (f" ({note})" if note else "")
    if record.status is RequirementStatus.EXPIRED:
        return "nobody decided before the request expired"
    return f"its request was {record.status}" + (f" by {who}" if who else "")


class _ConditionSkip(Exception):
    """A step under a Condition whose ``on_error`` is ``skip`` failed: the Condition is skipped."""

    def __init__(self, step: str, error: str) -> None:
        super().__init__(error)
        self.step = step
        self.error = error


def _inherit_on_error(nodes: Sequence[Component], inherited: OnError | None,
                      into: dict[int, tuple[OnError, bool]]) -> None:
    """Each component's effective ``on_error`` (and whether it came from an enclosing Condition)."""
    for node in nodes:
        own = OnError(node.on_error) if node.on_error is not None else None
        if own is not None:
            into[id(node)] = (own, False)
        else:
            into[id(node)] = (inherited, True) if inherited is not None else (OnError.fail, False)
        below = OnError(node.on_error or OnError.skip) if isinstance(node, Condition) else inherited
        _inherit_on_error(node.children(), below, into)


def _rejection(node: Component, record: RequirementRecord) -> OnReject:
    """What this refusal does: the rejecter's choice (recorded with the decision) or the step's."""
    chosen = record.resolution.get("on_reject")
    return OnReject(chosen) if chosen else OnReject(node.on_reject)


def _route_names(router: Router, picked: Any) -> list[str]:
    """A selector's answer (a step, a name, or a list of them) as route names, each checked."""
    items = picked if isinstance(picked, list | tuple) else [picked]
    names: list[str] = []
    for item in items:
        name = item if isinstance(item, str) else getattr(item, "name", None)
        if not isinstance(name, str):
            raise ModelError("step_failed", f"router {router.name!r}: the selector returned {item!r}, "
                             "not a step or a route name")
        router.choice(name)
        names.append(name)
    if not names:
        raise ModelError("step_failed", f"router {router.name!r}: the selector chose no route")
    return names


def _wants_review(step: Step, ns: dict[str, Any], output: str) -> bool:
    """``requires_output_review`` may be a function of the output (Agno's conditional review)."""
    if "needs_review" not in ns:
        wanted = step.requires_output_review
        if callable(wanted):
            wanted = bool(wanted(StepOutput(content=output, step_name=step.name)))
        ns["needs_review"] = bool(wanted)
    return bool(ns["needs_review"])


def _requirement_dict(new: NewRequirement) -> dict[str, Any]:
    return {"kind": str(new.kind), "tool_name": new.tool_name, "tool_args": dict(new.tool_args),
            "member_agent_name": new.member_agent_name, "message": new.message}


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


def _review_function(node: Component) -> Function:
    function = Function(_review_output, name=re.sub(r"[^a-zA-Z0-9_-]", "_", node.name)[:64] or "step",
                        description=f"The output of workflow step {node.name!r}, as a reviewer edits it.")
    function.step_options = node.step_options
    if isinstance(node, Router):
        function.step_options["choices"] = ",".join(c.name for c in node.choices)
    return function


__all__ = ["Condition", "HumanReview", "Loop", "OnError", "OnReject", "OnTimeout", "Router", "Step", "StepInput",
           "StepOutput", "Steps", "Workflow", "WorkflowRunOutput", "pause"]
